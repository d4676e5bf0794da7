// Generated from the Rust DTOs (src-tauri/src/dto.rs and the hearth-app types it re-exports) by
// src-tauri/tests/dto_ts.rs; do not edit by hand. After changing a DTO, regenerate with
//   HEARTH_WRITE_DTO_TS=1 cargo test -p hearth-desktop --test dto_ts

/** One phase of the live reading. */
export type PhaseDto = {
  /** `L1`, `L2`, `L3`. */
  name: string;
  /** Power drawn on this phase (W). */
  import_w: number | null;
  /** Power fed back on this phase (W). */
  export_w: number | null;
  /** Voltage (V). */
  voltage_v: number | null;
  /** Current (A). */
  current_a: number | null;
};

/** A value dropped from a reading as implausible, for the meter status. */
export type DroppedDto = {
  /** The reading's field (`l1_v`, `import_w`, `meter_id`, `time`). */
  field: string;
  /** Its kind: `voltage`, `current`, `power`, `meter_id`, `time` or `other`. */
  kind: string;
  /** The phase (`L1`, `L2`, `L3`) of a phase's value. */
  phase: string | null;
  /**
   * The value as it came, in the field's unit with a `.` for decimals (`30.0`), or the text
   * of a meter id or a time.
   */
  value: string;
  /** The value's unit (`V`, `A`, `W`, `var`); empty for meter ids and times. */
  unit: string;
  /**
   * The rule it broke (`voltage`, `current`, `power`, `power-beyond-volts-times-amps`,
   * `current-beyond-power`, `meter-id-is-obis-code`, `year`); empty for a rule this build
   * does not know by name (`explanation` still says it).
   */
  rule: string;
  /** The rule in English (`a household voltage is 0 or between 80 and 300 V`). */
  explanation: string;
  /**
   * All of it in English: `a voltage of 30.0 V on L1 was dropped: a household voltage is 0
   * or between 80 and 300 V`.
   */
  message: string;
};

/** The latest reading, for the Now screen and the `live` event (read back by the tray). */
export type LiveDto = {
  /** Meter time (RFC 3339 with the meter's offset), if the meter sent one. */
  time: string | null;
  /** The reading's time as unix seconds (meter time, else receive time). */
  unix: number;
  /** Power drawn from the grid (W). */
  import_w: number | null;
  /** Power fed to the grid (W). */
  export_w: number | null;
  /** Import minus export (W); negative while exporting. */
  net_w: number;
  /** Phases present in the reading. */
  phases: Array<PhaseDto>;
  /** Import register, all tariffs (kWh). */
  import_kwh: number | null;
  /** Export register, all tariffs (kWh). */
  export_kwh: number | null;
  /** Gas register (m³). */
  gas_m3: number | null;
  /** Active tariff (1-based). */
  tariff: number | null;
  /** Telegrams decoded so far. */
  accepted: number;
  /** Telegrams rejected so far. */
  rejected: number;
  /**
   * Values dropped from readings as implausible so far (a voltage of 4000 V, a meter id that
   * is an OBIS code); the rest of each reading was kept.
   */
  implausible: number;
  /**
   * Those values by kind (`voltage`, `current`, `power`, `meter_id`, `time`, `other`), in
   * that order, only the kinds with any.
   */
  implausible_kinds: Array<[string, number]>;
  /** The last value dropped as implausible. */
  last_implausible: DroppedDto | null;
};

/** What the app is running with. */
export type AppInfoDto = {
  /** App version. */
  version: string;
  /** Started with `--demo`. */
  demo: boolean;
  /** Where readings come from, for a human. */
  source: string;
  /** The data directory in use. */
  data_dir: string;
  /** The preferences file (language, theme, auto-lock), for the privacy page. */
  prefs_path: string;
  /** Idle seconds before auto-lock when a test shortened it (`HEARTH_AUTO_LOCK_SECONDS`). */
  auto_lock_seconds: number | null;
};

/** Where the vault stands, for the start-up screen choice. */
export type StatusDto = {
  /** `setup`, `locked` or `open`. */
  vault: "setup" | "locked" | "open";
  /** The vault file. */
  vault_path: string;
  /** The vault can also be opened with a key kept in the OS keyring. */
  keyring: boolean;
  /** Demo history being prepared: days done and total, when it is. */
  preparing: [number, number] | null;
  /** Readings waiting in memory for an unlock. */
  pending: number;
  /**
   * Another process (`hearth collect`) writes the vault: the app reads beside it, follows
   * its readings, and takes over writing when it stops.
   */
  following: boolean;
  /**
   * Readings stored since the lock, sealed in the vault file so that only the unlocked
   * vault reads them (counted when sealed, at least every 10 s).
   */
  stored_locked: number;
  /**
   * What the unlock took in of the readings stored sealed while locked (by this app or by
   * `hearth collect --write-only`); `None` when locked, or when nothing waited.
   */
  took_in: TookInDto | null;
};

/** Readings stored write-only that an unlock opened and stored. */
export type TookInDto = {
  /** Readings opened. */
  readings: number;
  /** Of those, readings the vault did not have yet. */
  added: number;
  /** Blocks refused (changed or foreign), each with why. */
  refused: Array<string>;
};

/** A folder merged, as the desktop's window receives it. */
export type MergedDto = {
  /** Files opened and taken in. */
  files: number;
  /** Files merged before and unchanged since. */
  unchanged: number;
  /** Readings in the files taken in. */
  readings: number;
  /** Readings new to this vault. */
  added: number;
  /** Readings this vault already had. */
  duplicates: number;
  /** Readings dated in the future (refused). */
  future: number;
  /** Files left for a later merge (still being copied), each with why. */
  skipped: Array<MergedFileDto>;
  /** Files refused (another vault's, changed, not an increment), each with why. */
  refused: Array<MergedFileDto>;
  /** What happened to the folder's card: `kept`, `written` or `replaced`. */
  card: string;
  /** The card's fingerprint, to compare with what the box showed when it pinned it. */
  fingerprint: string | null;
};

/** A file a merge did not take. */
export type MergedFileDto = {
  /** Its name in the folder. */
  file: string;
  /** Why, in words. */
  why: string;
  /** Whether a later merge tries it again. */
  tried_again: boolean;
};

/** One row of the history table (the chart's data, readable without the chart). */
export type HistoryRowDto = {
  /** Bar label (`14h`, `Mon 24`, `Nov`). */
  label: string;
  /** Interval start, RFC 3339 local. */
  start: string;
  /** Energy imported (kWh). */
  import_kwh: number;
  /** Energy exported (kWh). */
  export_kwh: number;
  /** Gas used (m³), when the meter reports gas. */
  gas_m3: number | null;
  /** The same slot in the previous period (kWh), when comparing. */
  previous_import_kwh: number | null;
  /** Part of the energy was spread over a gap. */
  estimated: boolean;
};

/** One point of the load-duration table. */
export type DurationPointDto = {
  /** Share of the period's time (per cent). */
  share_pct: number;
  /** Import power reached or exceeded for that share of the time (W). */
  import_w: number;
};

/**
 * One history page. Its JSON (snake_case fields, as declared) is what the desktop's window
 * receives (`HistoryDto` in `ui/src/dto.ts`).
 */
export type HistoryDto = {
  /** `November 2025`. */
  title: string;
  /** Period start (RFC 3339 local). */
  from: string;
  /** Period end, exclusive. */
  to: string;
  /** Energy imported in the period (kWh). */
  import_kwh: number;
  /** Energy exported (kWh). */
  export_kwh: number;
  /** Gas used (m³). */
  gas_m3: number;
  /** Of the import, how much was spread over gaps (kWh). */
  estimated_kwh: number;
  /** Import in the previous period (kWh), when comparing. */
  previous_import_kwh: number | null;
  /** Energy bars by tariff (SVG). */
  bars_svg: string;
  /** Power with min/max band (SVG). */
  power_svg: string;
  /** Hour-by-day heatmap (SVG), for a week or longer. */
  heatmap_svg: string | null;
  /** Gas bars (SVG), when gas was used in the period. */
  gas_svg: string | null;
  /** Export bars (SVG), when energy was fed back in the period. */
  export_svg: string | null;
  /** Load-duration curve (SVG). */
  duration_svg: string;
  /** Base load: the power the home stays at or above 95 % of the time (W). */
  base_load_w: number | null;
  /** The load-duration curve as a table. */
  duration: Array<DurationPointDto>;
  /** The bars as a table. */
  rows: Array<HistoryRowDto>;
};

/** How far an export has got. */
export type ExportProgressDto = {
  /** Rows written so far. */
  rows: number;
  /** Share of the time range done, 0 to 1. */
  fraction: number;
};

/**
 * A file chosen in the save dialog, as the page sees it: the token that writes to it, once,
 * and its path to show.
 */
export type SaveChoiceDto = {
  /** Given back to write the file. */
  token: string;
  /** The file chosen. */
  path: string;
};

/**
 * Files chosen in the open dialog or dropped on the window: the token that reads them, once,
 * and their names to show.
 */
export type OpenChoiceDto = {
  /** Given back to import or restore them. */
  token: string;
  /** The files' names. */
  names: Array<string>;
};

/** What an import did. */
export type ImportDto = {
  /** Readings new to the vault. */
  added: number;
  /** Readings the vault already had (skipped). */
  duplicates: number;
  /** Interval readings among them (supplier downloads): energy spread over a range. */
  estimated: number;
  /** Frames rejected and lines unreadable. */
  refused: number;
  /** Implausible values dropped from readings. */
  implausible: number;
  /** Files of which nothing could be used: `name: why`. */
  unusable: Array<string>;
};

/** A backup written. */
export type BackupDto = {
  /** Hours of readings in it. */
  hours: number;
  /** Settings in it. */
  settings: number;
  /** The file written. */
  path: string;
};

/** A backup merged into a vault, as the desktop's window receives it. */
export type RestoreDto = {
  /** Readings read from the backup. */
  read: number;
  /** Readings new to this vault. */
  added: number;
  /** Readings this vault already had. */
  already_present: number;
  /** Readings refused (outside their hour, or in the future). */
  refused: number;
  /** Settings taken. */
  settings_added: number;
};

/** What a check of the whole vault found (as the desktop's window receives it, too). */
export type VerifyDto = {
  /** Records that authenticated and decoded. */
  intact: number;
  /** Raw readings in the intact raw chunks. */
  readings: number;
  /** Damaged records, described for a human (kind, resolution, UTC window). */
  damaged: Array<string>;
};

/** A finished CSV export. */
export type ExportDto = {
  /** Data lines written (the header not counted). */
  rows: number;
  /** The file written. */
  path: string;
};

/** A contract the Costs screen can price with: a shipped preset or one stored in the vault. */
export type ContractDto = {
  /** `preset:nl-flat` or the vault setting name `tariff/<name>`. */
  id: string;
  /** The contract's own name (the id when it does not parse). */
  name: string;
  /** Stored in the vault (editable) rather than shipped. */
  stored: boolean;
  /** The contract TOML. */
  toml: string;
  /** Why it cannot be used, with the line, if it cannot. */
  error: string | null;
};

/** One contract's bill for the period (amounts in its currency, rounded to cents). */
export type ContractCostDto = {
  /** Contract name. */
  name: string;
  /** Currency code. */
  currency: string;
  /** False when the contract was not valid in any part of the period. */
  applies: boolean;
  /** Energy at its prices. */
  energy: number;
  /** Energy tax. */
  tax: number;
  /** Fixed charges. */
  fixed: number;
  /** Capacity (demand) charges. */
  capacity: number;
  /** Credit for exported energy (subtracted). */
  export_credit: number;
  /**
   * Gas: m³ at the contract's gas price and tax, and its gas standing charges (0 for a
   * contract without `[gas]`).
   */
  gas: number;
  /** VAT. */
  vat: number;
  /** What the bill comes to. */
  total: number;
};

/** The Costs screen: energy in a period and its cost under each chosen contract. */
export type CostReportDto = {
  /** Period start (RFC 3339, the vault's zone). */
  from: string;
  /** Period end, exclusive. */
  to: string;
  /** Imported energy (kWh). */
  import_kwh: number;
  /** Exported energy (kWh). */
  export_kwh: number;
  /** Of the import, spread over gaps in the readings (kWh). */
  estimated_kwh: number;
  /** Gas used in the period (m³), from the gas meter's register. */
  gas_m3: number;
  /** Hours of the period with no readings at all. */
  missing_hours: number;
  /** One entry per contract, in the order asked. */
  contracts: Array<ContractCostDto>;
};

/** One savings tip. */
export type TipDto = {
  /** Kind of advice (`base_load`, ...). */
  kind: string;
  /** One or two sentences, in the language the window asked for. */
  summary: string;
  /** Energy involved per year (kWh). */
  kwh_per_year: number;
  /** Money per year under the current contract, if one is known. */
  money_per_year: number | null;
  /** Currency of `money_per_year`. */
  currency: string | null;
  /** How sure the tip is, 0..1. */
  confidence: number;
  /** The numbers behind it, as short lines in the same language. */
  evidence: Array<string>;
};

/**
 * A probed port as the desktop's window shows it: what was found there and the source to
 * save, or why nothing was, in words.
 */
export type FoundPortDto = {
  /** The device path. */
  path: string;
  /** What the port is (`USB 0403:6001 FTDI …`). */
  description: string;
  /** The protocol found. */
  protocol: string | null;
  /** The settings it was found at (`115200 8N1`). */
  settings: string | null;
  /** The whole source to save. */
  source: string | null;
  /** The meter encrypts: its key is asked for and checked next. */
  needs_key: boolean;
  /** What its first frame showed. */
  preview: PreviewDto | null;
  /** Anything the homeowner should know about what was found. */
  note: string | null;
  /** Why nothing was found (with what to do). */
  problem: string | null;
};

/** What a found meter shows before it is saved. Never the full meter id. */
export type PreviewDto = {
  /** The protocol (`dsmr`, `dlms`, `sml`, `iec62056-21`, `raven`, ...). */
  protocol: string;
  /** The meter id's last four characters, when the meter sends an id. */
  meter_id_end: string | null;
  /** Power now in watts, import minus export (negative: exporting), when the meter sends it. */
  watts: number | null;
  /** The import register in Wh, when the meter sends it. */
  import_wh: number | null;
};

/** A step of the search, as the desktop's window shows it ([`ProbeEvent`] made plain). */
export type ProbeStepDto = {
  /** The port. */
  path: string;
  /** `started`, `listening`, `bytes`, `found` or `finished`. */
  stage: string;
  /** The setting listened at (`2400 8E1`). */
  settings: string | null;
  /** Seconds the listen at this setting may take. */
  seconds: number | null;
  /** Bytes heard at this setting so far. */
  bytes: number | null;
  /** The protocol found (`dsmr`, `dlms`, …). */
  protocol: string | null;
  /** At the end: what was found, or why nothing was, in words. */
  verdict: string | null;
};

/** The window preferences, and whether Hearth starts at login. */
export type PreferencesDto = {
  /** `en`, `nl`, `de`, or empty to follow the system. */
  language: string;
  /** `system`, `light` or `dark`. */
  theme: string;
  /** Idle minutes before the app locks itself (0 = never). */
  auto_lock_minutes: number;
  /** An autostart entry starts Hearth (in the tray) at login. */
  start_at_login: boolean;
};
