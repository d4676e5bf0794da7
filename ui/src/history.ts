// The History screen: a period (day/week/month/year) with navigation, energy bars by tariff,
// power with its min/max band, gas and export bars, the load-duration curve, a heatmap, and the
// same numbers as tables. Each chart can be saved as PNG or SVG (see saving.ts).

import { errorText, invoke } from "./tauri.js";
import { lang, num, t } from "./i18n.js";
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
    const { width, height } = sizeOf($("hist-bars"));
    const t0 = performance.now();
    // The status line and the page are asked for at once: one round trip, not two.
    const [st, page] = await Promise.all([
      invoke<StatusDto>("status"),
      invoke<HistoryDto>("history", {
        kind,
        shift,
        width,
        height,
        dark: isDark(),
        compare: $<HTMLInputElement>("hist-compare").checked,
        lang: lang(),
      }),
    ]);
    status.textContent = st.preparing
      ? t("hist.preparing", { done: st.preparing[0], total: st.preparing[1] })
      : "";
    if (st.preparing && !$("screen-history").hidden) {
      // Redraw as the demo history fills in.
      setTimeout(() => {
        if (mine === seq) void refresh();
      }, 1500);
    }
    if (mine !== seq) return;
    render(page);
    $("screen-history").dataset.ms = String(Math.round(performance.now() - t0));
  } catch (e) {
    if (mine === seq) status.textContent = errorText(e);
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
  $("hist-gas-card").hidden = p.gas_svg === null;
  if (p.gas_svg) showSvg($("hist-gas-chart"), p.gas_svg);
  $("hist-export-card").hidden = p.export_svg === null;
  if (p.export_svg) showSvg($("hist-export-chart"), p.export_svg);
  showSvg($("hist-duration"), p.duration_svg);
  $("hist-base-load").textContent =
    p.base_load_w === null ? "" : t("hist.baseLoad", { watts: fixed(p.base_load_w, 0, "W") });
  $("hist-duration-table").querySelector("tbody")!.replaceChildren(
    ...p.duration.map((d) => {
      const tr = document.createElement("tr");
      for (const v of [`${num(d.share_pct)} %`, num(d.import_w)]) {
        const td = document.createElement("td");
        td.textContent = v;
        tr.append(td);
      }
      return tr;
    }),
  );
  const body = $("hist-table").querySelector("tbody")!;
  body.replaceChildren(
    ...p.rows.map((r) => {
      const tr = document.createElement("tr");
      for (const v of [
        r.label,
        num(r.import_kwh, 3),
        num(r.export_kwh, 3),
        r.gas_m3 === null ? "–" : num(r.gas_m3, 3),
        r.previous_import_kwh === null ? "–" : num(r.previous_import_kwh, 3),
        r.estimated ? t("hist.yes") : "",
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

/** The page shown now, for saving one of its charts. */
export function where(): { kind: string; shift: number; compare: boolean } {
  return { kind, shift, compare: $<HTMLInputElement>("hist-compare").checked };
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
