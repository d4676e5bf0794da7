// The shapes the shell sends (mirrors src-tauri/src/dto.rs; keep them in step).

/** One phase of the live reading. */
export interface PhaseDto {
  name: string;
  import_w: number | null;
  export_w: number | null;
  voltage_v: number | null;
  current_a: number | null;
}

/** The latest reading, as the Now screen shows it. */
export interface LiveDto {
  time: string | null;
  unix: number;
  import_w: number | null;
  export_w: number | null;
  net_w: number;
  phases: PhaseDto[];
  import_kwh: number | null;
  export_kwh: number | null;
  gas_m3: number | null;
  tariff: number | null;
  accepted: number;
  rejected: number;
}

/** What the app is running with. */
export interface AppInfoDto {
  version: string;
  demo: boolean;
  source: string;
  data_dir: string;
  prefs_path: string;
  auto_lock_seconds: number | null;
}

/** Where the vault stands. */
export interface StatusDto {
  vault: "setup" | "locked" | "open";
  vault_path: string;
  keyring: boolean;
  preparing: [number, number] | null;
  pending: number;
}

/** One row of the history table. */
export interface HistoryRowDto {
  label: string;
  start: string;
  import_kwh: number;
  export_kwh: number;
  gas_m3: number | null;
  previous_import_kwh: number | null;
  estimated: boolean;
}

/** One point of the load-duration table. */
export interface DurationPointDto {
  share_pct: number;
  import_w: number;
}

/** One history page. */
export interface HistoryDto {
  title: string;
  from: string;
  to: string;
  import_kwh: number;
  export_kwh: number;
  gas_m3: number;
  estimated_kwh: number;
  previous_import_kwh: number | null;
  bars_svg: string;
  power_svg: string;
  heatmap_svg: string | null;
  gas_svg: string | null;
  export_svg: string | null;
  duration_svg: string;
  base_load_w: number | null;
  duration: DurationPointDto[];
  rows: HistoryRowDto[];
}

/** How far an export has got. */
export interface ExportProgressDto {
  rows: number;
  fraction: number;
}

/** A finished export. */
export interface ExportDto {
  rows: number;
  path: string;
}

/** A contract to price with (mirrors `ContractDto`). */
export interface ContractDto {
  id: string;
  name: string;
  stored: boolean;
  toml: string;
  error: string | null;
}

/** One contract's bill for the period. */
export interface ContractCostDto {
  name: string;
  currency: string;
  applies: boolean;
  energy: number;
  tax: number;
  fixed: number;
  capacity: number;
  export_credit: number;
  vat: number;
  total: number;
}

/** Energy in a period and its cost under each chosen contract. */
export interface CostReportDto {
  from: string;
  to: string;
  import_kwh: number;
  export_kwh: number;
  estimated_kwh: number;
  missing_hours: number;
  contracts: ContractCostDto[];
}

/** One savings tip; `summary` and `evidence` are worded in the language the `tips` call asked for. */
export interface TipDto {
  kind: string;
  summary: string;
  kwh_per_year: number;
  money_per_year: number | null;
  currency: string | null;
  confidence: number;
  evidence: string[];
}

/** A serial port found on this computer. */
export interface PortDto {
  source: string;
  description: string;
}

/** Language, theme, auto-lock and start at login (mirrors `PreferencesDto`). */
export interface PreferencesDto {
  language: string;
  theme: string;
  auto_lock_minutes: number;
  start_at_login: boolean;
}
