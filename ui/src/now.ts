// The Now screen: live power, per-phase bars, meter registers, and a chart of the last minutes.

import { invoke, listen } from "./tauri.js";
import type { DroppedDto, LiveDto } from "./dto.js";
import { clock, fixed, watts } from "./format.js";
import { isDark, showSvg, sizeOf } from "./chart.js";
import { has, lang, num, onLanguage, plural, t } from "./i18n.js";

let last: LiveDto | null = null;

const $ = (id: string) => document.getElementById(id) as HTMLElement;

let chartBusy = false;
let chartAgain = false;

/** Draws the latest reading. */
export function render(live: LiveDto): void {
  last = live;
  $("live-power").textContent = watts(live.net_w);
  $("live-power").dataset.unix = String(live.unix);
  $("live-direction").textContent =
    live.net_w < 0 ? t("now.exporting") : t("now.importing");
  $("live-import").textContent = watts(live.import_w);
  $("live-export").textContent = watts(live.export_w);
  $("live-time").textContent = clock(live.time);
  $("reg-import").textContent = fixed(live.import_kwh, 3, "kWh");
  $("reg-export").textContent = fixed(live.export_kwh, 3, "kWh");
  $("reg-gas").textContent = fixed(live.gas_m3, 3, "m³");
  $("reg-tariff").textContent = live.tariff === null ? "–" : String(live.tariff);
  $("frames").textContent = t("now.frames", { accepted: live.accepted, rejected: live.rejected });
  showImplausible(live);
  const phases = $("phases");
  const max = Math.max(1000, ...live.phases.map((p) => Math.max(p.import_w ?? 0, p.export_w ?? 0)));
  phases.replaceChildren(
    ...live.phases.map((p) => {
      const row = document.createElement("div");
      row.className = "phase";
      const name = document.createElement("span");
      name.textContent = p.name;
      const bar = document.createElement("meter");
      bar.min = 0;
      bar.max = max;
      bar.value = Math.max(p.import_w ?? 0, p.export_w ?? 0);
      bar.setAttribute("aria-label", t("now.phasePower", { phase: p.name }));
      const val = document.createElement("span");
      const net = (p.import_w ?? 0) - (p.export_w ?? 0);
      val.textContent = `${watts(net)} · ${fixed(p.voltage_v, 1, "V")} · ${fixed(p.current_a, 1, "A")}`;
      row.append(name, bar, val);
      return row;
    }),
  );
  void refreshChart();
}

/** The line under the frame counts saying what was dropped as implausible (made once, after
 * `#frames`), or null while nothing was. */
function implausibleLine(create: boolean): HTMLElement | null {
  let line = document.getElementById("implausible");
  if (!line && create) {
    line = document.createElement("p");
    line.id = "implausible";
    line.className = "muted";
    $("frames").after(line);
  }
  return line;
}

/** A dropped value as sent (`30.0`, `V`), in the current locale's digits with its unit. */
function droppedValue(d: DroppedDto): string {
  if (!/^-?\d+(\.\d+)?$/.test(d.value)) return d.value;
  const decimals = d.value.split(".")[1]?.length ?? 0;
  const shown = num(Number(d.value), decimals);
  return d.unit ? `${shown} ${d.unit}` : shown;
}

/** The last dropped value and why, in the current language (in English where a newer shell
 * sends a kind or a rule this page has no words for). */
function lastDropped(d: DroppedDto): string {
  const what = `now.what.${d.kind}`;
  const why = `now.why.${d.rule}`;
  let text = has(what) ? t(what, { value: droppedValue(d), field: d.field }) : `${d.field} ${d.value}`;
  if (d.phase) text = t("now.onPhase", { what: text, phase: d.phase });
  return t("now.implausibleLast", { what: text, why: has(why) ? t(why) : d.explanation });
}

/** Says how many values were dropped as implausible, by kind, and the last one; hidden while
 * none was. */
function showImplausible(live: LiveDto): void {
  const line = implausibleLine(live.implausible > 0);
  if (!line) return;
  line.hidden = live.implausible === 0;
  if (line.hidden) return;
  const kinds = live.implausible_kinds
    .map(([kind, n]) => {
      const key = `now.kind.${kind}.one`;
      return has(key) ? plural(`now.kind.${kind}` as "now.kind.other", n) : `${n} ${kind}`;
    })
    .join(", ");
  const count = plural("now.implausible", live.implausible, { kinds });
  line.textContent = live.last_implausible ? `${count} ${lastDropped(live.last_implausible)}` : count;
  line.dataset.count = String(live.implausible);
}

/** Asks the shell for a fresh chart; coalesces requests while one is in flight. */
async function refreshChart(): Promise<void> {
  if ($("screen-now").hidden) return;
  if (chartBusy) {
    chartAgain = true;
    return;
  }
  chartBusy = true;
  try {
    const host = $("live-chart");
    const { width, height } = sizeOf(host);
    const svg = await invoke<string>("live_chart", { width, height, minutes: 10, dark: isDark(), lang: lang() });
    showSvg(host, svg);
  } catch (e) {
    // Nothing to draw yet (no reading live or stored) is normal at start.
    if ((e as { code?: string })?.code !== "NoData") console.error(e);
  } finally {
    chartBusy = false;
    if (chartAgain) {
      chartAgain = false;
      void refreshChart();
    }
  }
}

/** Starts listening for readings and shows the latest one at once. */
export async function start(): Promise<void> {
  await listen<LiveDto>("live", render);
  const latest = await invoke<LiveDto | null>("live_now");
  if (latest) render(latest);
  // The chart draws the last stored minutes before the meter's first telegram.
  else void refreshChart();
  window.addEventListener("resize", () => void refreshChart());
  onLanguage(() => last && render(last));
}

/** Redraws the chart (after a theme change). */
export function redraw(): void {
  void refreshChart();
}
