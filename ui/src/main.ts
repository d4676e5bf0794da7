// Entry point: theme, navigation between screens, the lock gate, and start-up of each screen.

import { invoke, listen } from "./tauri.js";
import type { AppInfoDto, StatusDto } from "./dto.js";
import * as now from "./now.js";
import * as history from "./history.js";
import * as exporter from "./exporter.js";
import * as gate from "./gate.js";
import * as costs from "./costs.js";
import * as tips from "./tips.js";
import * as settings from "./settings.js";

/** Follows the system's light/dark preference. */
function applyTheme(): void {
  const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.dataset.theme = dark ? "dark" : "light";
}

/** Shows one screen and marks its nav button as current. */
export function show(screen: string): void {
  for (const s of document.querySelectorAll<HTMLElement>("main > section")) {
    s.hidden = s.id !== `screen-${screen}`;
  }
  for (const b of document.querySelectorAll<HTMLButtonElement>("nav button[data-screen]")) {
    if (b.dataset.screen === screen) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  if (screen === "history") void history.refresh();
  if (screen === "costs") void costs.refresh();
  if (screen === "tips") void tips.refresh();
  if (screen === "settings") void settings.refresh();
}

async function main(): Promise<void> {
  applyTheme();
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", applyTheme);
  for (const b of document.querySelectorAll<HTMLButtonElement>("nav button[data-screen]")) {
    b.addEventListener("click", () => show(b.dataset.screen ?? "now"));
  }
  const info = await invoke<AppInfoDto>("app_info");
  document.getElementById("source")!.textContent = info.demo ? "Demo meter (simulated)" : info.source;
  const opened = (s: StatusDto) => {
    gate.showGate(s, info.demo);
    document.getElementById("privacy-path")!.textContent = s.vault_path;
  };
  gate.wire(info.demo, opened);
  history.wire();
  exporter.wire(info);
  costs.wire();
  tips.wire();
  settings.wire(async () => gate.showGate(await invoke<StatusDto>("lock_vault"), info.demo));
  void listen<string>("source-status", (s) => (document.getElementById("source")!.textContent = s));
  show("now");
  opened(await invoke<StatusDto>("status"));
  await now.start();
}

main().catch((e) => {
  const el = document.getElementById("fatal");
  if (el) {
    el.hidden = false;
    el.textContent = `Hearth could not start its window: ${e?.message ?? e}`;
  }
});
