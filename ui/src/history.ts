// The History screen: a period (day/week/month/year) with navigation, energy bars by tariff,
// power with its min/max band, a heatmap, and the same numbers as a table.

import { invoke, toAppError } from "./tauri.js";
import type { HistoryDto, StatusDto } from "./dto.js";
import { fixed } from "./format.js";
import { isDark, showSvg, sizeOf } from "./chart.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

let kind = "day";
let shift = 0;
let seq = 0;

/** Loads and draws the current page (later requests win over slower earlier ones). */
export async function refresh(): Promise<void> {
  const mine = ++seq;
  const status = $("hist-status");
  try {
    const st = await invoke<StatusDto>("status");
    status.textContent = st.preparing
      ? `Preparing demo history: ${st.preparing[0]} of ${st.preparing[1]} days…`
      : "";
    if (st.preparing && !$("screen-history").hidden) {
      // Redraw as the demo history fills in.
      setTimeout(() => {
        if (mine === seq) void refresh();
      }, 1500);
    }
    const { width, height } = sizeOf($("hist-bars"));
    const t0 = performance.now();
    const page = await invoke<HistoryDto>("history", {
      kind,
      shift,
      width,
      height,
      dark: isDark(),
      compare: $<HTMLInputElement>("hist-compare").checked,
    });
    if (mine !== seq) return;
    render(page);
    $("screen-history").dataset.ms = String(Math.round(performance.now() - t0));
  } catch (e) {
    if (mine === seq) status.textContent = toAppError(e).message;
  }
}

function render(p: HistoryDto): void {
  $("hist-period").textContent = p.title;
  $("hist-import").textContent = fixed(p.import_kwh, 2, "kWh");
  $("hist-export").textContent = fixed(p.export_kwh, 2, "kWh");
  $("hist-gas").textContent = fixed(p.gas_m3, 2, "m³");
  $("hist-prev-total").textContent = fixed(p.previous_import_kwh, 2, "kWh");
  $("hist-estimated").textContent = fixed(p.estimated_kwh, 2, "kWh");
  showSvg($("hist-bars"), p.bars_svg);
  showSvg($("hist-power"), p.power_svg);
  $("hist-heat-card").hidden = p.heatmap_svg === null;
  if (p.heatmap_svg) showSvg($("hist-heat"), p.heatmap_svg);
  const body = $("hist-table").querySelector("tbody")!;
  body.replaceChildren(
    ...p.rows.map((r) => {
      const tr = document.createElement("tr");
      for (const v of [
        r.label,
        r.import_kwh.toFixed(3),
        r.export_kwh.toFixed(3),
        r.previous_import_kwh === null ? "–" : r.previous_import_kwh.toFixed(3),
        r.estimated ? "yes" : "",
      ]) {
        const td = document.createElement("td");
        td.textContent = v;
        tr.append(td);
      }
      return tr;
    }),
  );
  $("screen-history").dataset.rows = String(p.rows.length);
  $("screen-history").dataset.kind = kind;
}

function setKind(k: string): void {
  kind = k;
  shift = 0;
  for (const b of document.querySelectorAll<HTMLButtonElement>(".seg button[data-kind]")) {
    b.setAttribute("aria-pressed", String(b.dataset.kind === k));
  }
  void refresh();
}

/** Wires the controls. */
export function wire(): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>(".seg button[data-kind]")) {
    b.addEventListener("click", () => setKind(b.dataset.kind ?? "day"));
  }
  $("hist-prev").addEventListener("click", () => {
    shift -= 1;
    void refresh();
  });
  $("hist-next").addEventListener("click", () => {
    if (shift < 0) shift += 1;
    void refresh();
  });
  $("hist-compare").addEventListener("change", () => void refresh());
  for (const b of document.querySelectorAll<HTMLButtonElement>(".seg button[data-kind]")) {
    b.setAttribute("aria-pressed", String(b.dataset.kind === kind));
  }
}
