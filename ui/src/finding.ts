// Finding the meter, for the wizard and Settings: the search over every serial port at once
// (the shell probes them; its steps come as events and are shown per port), and the words for
// what a meter shows before it is saved (protocol, the last four of its id, watts now).

import { invoke, listen } from "./tauri.js";
import { num, t } from "./i18n.js";
import type { FoundPortDto, PreviewDto, ProbeStepDto } from "./dto.js";

/** One line for a preview: `dsmr, meter …1234, 512 W now`. */
export function previewText(p: PreviewDto): string {
  const parts = [p.protocol];
  if (p.meter_id_end) parts.push(t("find.meterId", { id: p.meter_id_end }));
  if (p.watts !== null) parts.push(t("find.watts", { watts: num(p.watts) }));
  return parts.join(", ");
}

/** What a port step says, for a human. */
function stepText(s: ProbeStepDto): string {
  switch (s.stage) {
    case "listening":
      return t("find.listening", { path: s.path, settings: s.settings ?? "", seconds: num(s.seconds ?? 0) });
    case "bytes":
      return t("find.bytes", { path: s.path, settings: s.settings ?? "", bytes: num(s.bytes ?? 0) });
    case "found":
      return t("find.found", { path: s.path, protocol: s.protocol ?? "", settings: s.settings ?? "" });
    case "finished":
      return `${s.path}: ${s.verdict ?? ""}`;
    default:
      return t("find.started", { path: s.path });
  }
}

/** Searches every port, showing one line per port in `steps` as the search goes; resolves to
 * what each port gave. `stop` (if given) shows while it runs and ends it. */
export async function search(steps: HTMLElement, stop?: HTMLButtonElement): Promise<FoundPortDto[]> {
  steps.replaceChildren();
  const lines = new Map<string, HTMLLIElement>();
  const unlisten = await listen<ProbeStepDto>("probe-progress", (s) => {
    let li = lines.get(s.path);
    if (!li) {
      li = document.createElement("li");
      lines.set(s.path, li);
      steps.append(li);
    }
    li.textContent = stepText(s);
  });
  const onStop = () => void invoke("stop_finding");
  if (stop) {
    stop.hidden = false;
    stop.addEventListener("click", onStop);
  }
  try {
    return await invoke<FoundPortDto[]>("find_meters");
  } finally {
    unlisten();
    if (stop) {
      stop.hidden = true;
      stop.removeEventListener("click", onStop);
    }
  }
}

/** What a found port shows: `dsmr at 115200 8N1 on /dev/ttyUSB0 (USB …): dsmr, meter …1234, 512 W now`. */
export function foundText(p: FoundPortDto): string {
  const where = t("find.foundAt", { protocol: p.protocol ?? "", settings: p.settings ?? "", path: p.path, port: p.description });
  if (p.needs_key) return `${where}: ${t("find.needsKey")}`;
  return p.preview ? `${where}: ${previewText(p.preview)}` : where;
}
