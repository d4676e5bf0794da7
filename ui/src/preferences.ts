// Preferences: language, theme, auto-lock and start at login. Loaded before the gate shows (so
// the lock screen already speaks the chosen language in the chosen theme) and changed in Settings.
// They live in a small plain file through the shell, not in the vault: the vault is sealed
// until the passphrase is given, and these choices say nothing about the readings.

import { errorText, invoke } from "./tauri.js";
import type { PreferencesDto } from "./dto.js";
import { LANG_NAMES, type Lang, resolve, setLanguage, t } from "./i18n.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

let prefs: PreferencesDto = { language: "", theme: "system", auto_lock_minutes: 15, start_at_login: false };
const themeListeners: (() => void)[] = [];
const media = window.matchMedia("(prefers-color-scheme: dark)");

/** The preferences in force. */
export function current(): PreferencesDto {
  return prefs;
}

/** Sets `data-theme` from the preference (or the system's setting) and tells the charts. */
function applyTheme(): void {
  const dark = prefs.theme === "dark" || (prefs.theme === "system" && media.matches);
  const want = dark ? "dark" : "light";
  if (document.documentElement.dataset.theme === want) return;
  document.documentElement.dataset.theme = want;
  for (const f of themeListeners) f();
}

/** Runs `f` whenever the shown theme changes (charts are drawn again in its colours). */
export function onTheme(f: () => void): void {
  themeListeners.push(f);
}

/** Fills the language menus: the system's choice, then each language in its own name. */
function fillLanguageChoices(): void {
  for (const sel of document.querySelectorAll<HTMLSelectElement>("select.language-choice")) {
    sel.replaceChildren(new Option(t("settings.langSystem"), ""));
    for (const l of Object.keys(LANG_NAMES) as Lang[]) {
      const o = new Option(LANG_NAMES[l], l);
      o.lang = l;
      sel.append(o);
    }
    sel.value = prefs.language;
  }
}

/** Shows what is saved in the Settings controls. */
function fillControls(): void {
  fillLanguageChoices();
  $<HTMLSelectElement>("pref-theme").value = prefs.theme;
  $<HTMLSelectElement>("pref-autolock").value = String(prefs.auto_lock_minutes);
  $<HTMLInputElement>("pref-login").checked = prefs.start_at_login;
}

function apply(): void {
  applyTheme();
  setLanguage(resolve(prefs.language));
  fillControls();
}

/** Loads the saved preferences and applies them (defaults when the shell cannot say). */
export async function load(): Promise<void> {
  try {
    prefs = await invoke<PreferencesDto>("preferences");
  } catch (e) {
    console.error(e);
  }
  apply();
}

async function save(patch: Partial<PreferencesDto>): Promise<void> {
  const out = $("prefs-result");
  const next = { ...prefs, ...patch };
  try {
    prefs = await invoke<PreferencesDto>("set_preferences", {
      language: next.language,
      theme: next.theme,
      autoLockMinutes: next.auto_lock_minutes,
    });
    apply();
    out.className = "ok";
    out.textContent = t("settings.saved");
  } catch (e) {
    fillControls();
    out.className = "error";
    out.textContent = errorText(e);
  }
}

/** Wires the Settings controls and the gate's language menu. */
export function wire(): void {
  media.addEventListener("change", applyTheme);
  for (const sel of document.querySelectorAll<HTMLSelectElement>("select.language-choice")) {
    sel.addEventListener("change", () => void save({ language: sel.value }));
  }
  $<HTMLSelectElement>("pref-theme").addEventListener("change", (ev) =>
    void save({ theme: (ev.target as HTMLSelectElement).value }),
  );
  $<HTMLSelectElement>("pref-autolock").addEventListener("change", (ev) =>
    void save({ auto_lock_minutes: Number((ev.target as HTMLSelectElement).value) }),
  );
  // Closing the window keeps Hearth in the tray; this is the way out that needs no tray.
  $("quit-app").addEventListener("click", () => void invoke("quit"));
  const login = $<HTMLInputElement>("pref-login");
  login.addEventListener("change", async () => {
    const out = $("prefs-result");
    try {
      prefs = await invoke<PreferencesDto>("set_start_at_login", { on: login.checked });
      fillControls();
      out.className = "ok";
      out.textContent = t("settings.saved");
    } catch (e) {
      login.checked = prefs.start_at_login;
      out.className = "error";
      out.textContent = errorText(e);
    }
  });
}
