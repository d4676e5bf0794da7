// The Export screen: a date range, a resolution and a file chosen with the desktop's save dialog
// (the shell keeps the path; the page holds a single-use token for it and shows the path);
// writes CSV through the shell, with a progress bar for big exports.

import { errorText, invoke, listen } from "./tauri.js";
import { num, t } from "./i18n.js";
import type { AppInfoDto, ExportDto, ExportProgressDto, SaveChoiceDto } from "./dto.js";
import { pickPath } from "./saving.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function isoDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** The file chosen in the save dialog and not written yet. */
let chosen: SaveChoiceDto | null = null;

/** Opens the save dialog at the shown path; whether a file was chosen. */
async function choose(): Promise<boolean> {
  const path = $<HTMLInputElement>("exp-path");
  const choice = await pickPath(path.value, "csv", t("exp.dialogTitle"));
  if (!choice) return false;
  chosen = choice;
  path.value = choice.path;
  return true;
}

/** Fills sensible defaults: the last 7 days, into the data directory's parent. */
export function wire(info: AppInfoDto): void {
  const today = new Date();
  const weekAgo = new Date(today.getTime() - 7 * 86400000);
  const tomorrow = new Date(today.getTime() + 86400000);
  $<HTMLInputElement>("exp-from").value = isoDate(weekAgo);
  $<HTMLInputElement>("exp-to").value = isoDate(tomorrow);
  const dir = info.data_dir.replace(/\/[^/]*\/?$/, "") || "/tmp";
  $<HTMLInputElement>("exp-path").value = `${dir}/hearth-export.csv`;
  // Only the save dialog chooses the file: the field shows its choice.
  $<HTMLInputElement>("exp-path").readOnly = true;
  $("exp-browse").addEventListener("click", async () => {
    try {
      await choose();
    } catch (e) {
      $("exp-result").className = "error";
      $("exp-result").textContent = errorText(e);
    }
  });
  const bar = $<HTMLProgressElement>("exp-progress");
  void listen<ExportProgressDto>("export-progress", (p) => {
    if ($<HTMLButtonElement>("exp-go").disabled && p.fraction < 1) {
      bar.hidden = false;
      bar.value = p.fraction;
      $("exp-result").textContent = t("exp.progressText", { rows: num(p.rows), pct: num(p.fraction * 100) });
    }
  });
  $("export-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = $("exp-result");
    const go = $<HTMLButtonElement>("exp-go");
    out.className = "";
    out.textContent = "";
    go.disabled = true;
    try {
      // No file chosen yet (or the last one written): the dialog first.
      if (!chosen && !(await choose())) return;
      const token = chosen!.token;
      chosen = null;
      out.textContent = t("exp.busy");
      const r = await invoke<ExportDto>("export_csv", {
        from: $<HTMLInputElement>("exp-from").value,
        to: $<HTMLInputElement>("exp-to").value,
        resolution: $<HTMLSelectElement>("exp-res").value,
        decimalComma: $<HTMLInputElement>("exp-comma").checked,
        token,
      });
      out.className = "ok";
      out.textContent = t("exp.done", { rows: num(r.rows), path: r.path });
      out.dataset.rows = String(r.rows);
    } catch (e) {
      out.className = "error";
      out.textContent = errorText(e);
    } finally {
      go.disabled = false;
      bar.hidden = true;
    }
  });
}
