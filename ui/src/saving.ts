// "Save as PNG / SVG" under each chart: the desktop's save dialog picks the file (opened by the
// shell, which keeps the path and hands the page a single-use token for it), then the shell draws
// the chart again at that size (PNG at twice the pixels) and writes it.

import { errorText, invoke } from "./tauri.js";
import { isDark, sizeOf } from "./chart.js";
import { lang, t } from "./i18n.js";
import * as history from "./history.js";
import type { SaveChoiceDto } from "./dto.js";

/** Asks for a file with the save dialog: its token (for one write) and path; `null` when
 * cancelled. The page never names a file to write itself. */
export function pickPath(suggested: string, extension: string, title: string): Promise<SaveChoiceDto | null> {
  return invoke<SaveChoiceDto | null>("pick_save_path", { suggested, extension, title });
}

const HOSTS: Record<string, string> = {
  live: "live-chart",
  bars: "hist-bars",
  power: "hist-power",
  gas: "hist-gas-chart",
  export: "hist-export-chart",
  duration: "hist-duration",
  heatmap: "hist-heat",
};

async function save(chart: string, format: string, out: HTMLElement): Promise<void> {
  const host = document.getElementById(HOSTS[chart] ?? "");
  if (!host) return;
  const { width, height } = sizeOf(host);
  const where = chart === "live" ? { kind: "", shift: 0, compare: false } : history.where();
  const stamp = new Date().toISOString().slice(0, 10);
  out.className = "";
  out.textContent = "";
  try {
    const choice = await pickPath(`hearth-${chart}-${stamp}.${format}`, format, t("chart.saveTitle"));
    if (!choice) return;
    const written = await invoke<string>("save_chart", {
      request: { chart, ...where, width, height, dark: isDark(), lang: lang() },
      format,
      token: choice.token,
    });
    out.className = "ok";
    out.textContent = t("chart.saved", { path: written });
  } catch (e) {
    out.className = "error";
    out.textContent = errorText(e);
  }
}

/** Wires every button marked `data-save-chart`. */
export function wire(): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>("button[data-save-chart]")) {
    const chart = b.dataset.saveChart ?? "";
    const out = document.getElementById(chart === "live" ? "now-save-result" : "hist-save-result")!;
    b.addEventListener("click", () => void save(chart, b.dataset.format ?? "png", out));
  }
}
