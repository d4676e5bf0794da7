// The Export screen: a date range, a resolution and a file path; writes CSV through the shell.

import { invoke, toAppError } from "./tauri.js";
import type { AppInfoDto, ExportDto } from "./dto.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function isoDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
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
  $("export-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = $("exp-result");
    const go = $<HTMLButtonElement>("exp-go");
    out.className = "";
    out.textContent = "Exporting…";
    go.disabled = true;
    try {
      const r = await invoke<ExportDto>("export_csv", {
        from: $<HTMLInputElement>("exp-from").value,
        to: $<HTMLInputElement>("exp-to").value,
        resolution: $<HTMLSelectElement>("exp-res").value,
        decimalComma: $<HTMLInputElement>("exp-comma").checked,
        path: $<HTMLInputElement>("exp-path").value,
      });
      out.className = "ok";
      out.textContent = `Wrote ${r.rows.toLocaleString()} rows to ${r.path}.`;
      out.dataset.rows = String(r.rows);
    } catch (e) {
      out.className = "error";
      out.textContent = toAppError(e).message;
    } finally {
      go.disabled = false;
    }
  });
}
