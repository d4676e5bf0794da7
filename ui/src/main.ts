// Entry point: preferences (language, theme) first, then navigation between screens, the lock
// gate with auto-lock, and start-up of each screen.

import { invoke, listen } from "./tauri.js";
import type { AppInfoDto, StatusDto } from "./dto.js";
import * as now from "./now.js";
import * as history from "./history.js";
import * as exporter from "./exporter.js";
import * as data from "./data.js";
import * as gate from "./gate.js";
import * as costs from "./costs.js";
import * as tips from "./tips.js";
import * as settings from "./settings.js";
import * as preferences from "./preferences.js";
import * as idle from "./idle.js";
import * as saving from "./saving.js";
import { onLanguage, t } from "./i18n.js";

let screen = "now";

/** Shows one screen and marks its nav button as current. */
export function show(name: string): void {
  screen = name;
  for (const s of document.querySelectorAll<HTMLElement>("main > section")) {
    s.hidden = s.id !== `screen-${name}`;
  }
  for (const b of document.querySelectorAll<HTMLButtonElement>("nav button[data-screen]")) {
    if (b.dataset.screen === name) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  if (name === "history") void history.refresh();
  if (name === "costs") void costs.refresh();
  if (name === "tips") void tips.refresh();
  if (name === "settings") void settings.refresh();
}

async function main(): Promise<void> {
  const info = await invoke<AppInfoDto>("app_info");
  // Language and theme before anything shows: the lock screen is in the user's language.
  await preferences.load();
  preferences.wire();
  for (const b of document.querySelectorAll<HTMLButtonElement>("nav button[data-screen]")) {
    b.addEventListener("click", () => show(b.dataset.screen ?? "now"));
  }
  const sourceText = () => (info.demo ? t("app.demoSource") : info.source);
  // The status line: the source's state, after a note while another process (`hearth
  // collect`) writes the vault and the app follows it, or once the app took over from it.
  let sourceNow = sourceText();
  let writerNote: "" | "app.following" | "app.tookOver" = "";
  const showSource = () => {
    const line = document.getElementById("source")!;
    const note = writerNote ? t(writerNote) : "";
    line.textContent = note && sourceNow ? `${note} · ${sourceNow}` : note || sourceNow;
    line.dataset.writer = writerNote;
  };
  showSource();
  document.getElementById("privacy-prefs")!.textContent = info.prefs_path;
  // Whether the vault was open at the last status: an unlock tells once what it took in of
  // the readings stored while locked.
  let wasOpen = false;
  const opened = (s: StatusDto) => {
    gate.showGate(s, info.demo);
    if (s.vault === "open" && !wasOpen) gate.showTookIn(s);
    if (s.vault !== "open") document.getElementById("took-in")!.hidden = true;
    wasOpen = s.vault === "open";
    document.getElementById("privacy-path")!.textContent = s.vault_path;
    writerNote = s.vault === "open" && s.following ? "app.following" : "";
    showSource();
    // Unlocking starts collection with the last stored minutes on the Now chart.
    if (s.vault === "open") now.redraw();
  };
  const lock = async (note = "") => {
    wasOpen = false;
    document.getElementById("took-in")!.hidden = true;
    gate.showGate(await invoke<StatusDto>("lock_vault"), info.demo, note);
  };
  // While locked, the lock screen counts what is stored sealed meanwhile.
  setInterval(() => {
    if (document.getElementById("unlock")!.hidden) return;
    void invoke<StatusDto>("status").then(gate.showStored, () => {});
  }, 5000);
  gate.wire(info.demo, opened, () => lock());
  history.wire();
  exporter.wire(info);
  data.wire(info.data_dir, () => show("data"));
  costs.wire();
  tips.wire();
  settings.wire(() => lock());
  saving.wire();
  void listen<string>("source-status", (s) => {
    sourceNow = s;
    showSource();
  });
  void listen("took-over", () => {
    writerNote = "app.tookOver";
    showSource();
  });
  // Screens redraw: charts in the new theme, generated texts in the new language.
  preferences.onTheme(() => {
    now.redraw();
    if (screen === "history") void history.refresh();
  });
  onLanguage(() => {
    sourceNow = sourceText();
    showSource();
    show(screen);
  });
  show("now");
  const first = await invoke<StatusDto>("status");
  opened(first);
  // A vault kept in the OS keyring opens by itself once per run, at start; a window opened again
  // later (from the tray) after a lock shows the lock screen: locking means it.
  if (first.vault === "locked" && first.keyring && !info.demo && (await invoke<boolean>("take_auto_unlock")))
    void gate.unlockWithKeyring(opened);
  // A test may shorten the idle time to seconds (HEARTH_AUTO_LOCK_SECONDS).
  const idleMs = () =>
    info.auto_lock_seconds ? info.auto_lock_seconds * 1000 : preferences.current().auto_lock_minutes * 60_000;
  idle.watch(
    idleMs,
    () => document.getElementById("gate")!.hidden,
    () => lock(t("unlock.autoLocked", { minutes: Math.max(1, Math.round(idleMs() / 60_000)) })),
  );
  await now.start();
}

main().catch((e) => {
  const el = document.getElementById("fatal");
  if (el) {
    el.hidden = false;
    el.textContent = t("app.fatal", { error: e?.message ?? String(e) });
  }
});
