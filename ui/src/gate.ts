// The gate in front of the app: the first-run wizard (passphrase, meter) and the lock screen.

import { errorText, invoke, toAppError } from "./tauri.js";
import { onLanguage, plural, t } from "./i18n.js";
import * as wizard from "./wizard.js";
import type { StatusDto } from "./dto.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** A rough strength hint: length and variety, in words a person understands. */
export function strengthHint(p: string): string {
  if (p.length === 0) return t("strength.empty");
  if (p.length < 8) return plural("strength.short", 8 - p.length);
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((r) => r.test(p)).length;
  const words = p.trim().split(/\s+/).length;
  if (p.length >= 20 || (words >= 4 && p.length >= 16)) return t("strength.strong");
  if (p.length >= 12 && kinds >= 2) return t("strength.good");
  return t("strength.weak");
}

/** Shows the wizard, the lock screen (with `note`, e.g. why it locked), or nothing (app open). */
export function showGate(status: StatusDto, demo: boolean, note = ""): void {
  const gate = $("gate");
  const wasShown = !gate.hidden;
  gate.hidden = status.vault === "open";
  // Behind the wizard or the lock screen, the app is out of reach of Tab and screen readers.
  for (const el of document.querySelectorAll<HTMLElement>("body > nav, body > main")) el.inert = !gate.hidden;
  // The gate's fields are gone: the focus goes to the screen shown, not back to the page's start.
  if (wasShown && gate.hidden) document.querySelector<HTMLElement>('nav button[aria-current="page"]')?.focus();
  $("setup").hidden = status.vault !== "setup";
  $("unlock").hidden = status.vault !== "locked";
  if (status.vault === "setup") $("setup-pass").focus();
  $("unlock-keyring").hidden = !status.keyring;
  if (status.vault === "locked") {
    $<HTMLInputElement>("unlock-pass").value = "";
    $("unlock-error").textContent = "";
    $("unlock-note").textContent = note;
    $("unlock-hint").textContent = demo ? t("unlock.demoHint") : "";
    showStored(status);
    $("unlock-pass").focus();
  }
}

/** On the lock screen: how many readings collected while locked are stored, sealed. */
export function showStored(status: StatusDto): void {
  const line = $("unlock-stored");
  line.textContent = status.vault === "locked" && status.stored_locked > 0 ? plural("unlock.stored", status.stored_locked) : "";
  line.dataset.stored = String(status.stored_locked);
}

/** After an unlock: what it took in of the readings stored while locked (once). */
export function showTookIn(status: StatusDto): void {
  const line = $("took-in");
  const took = status.took_in;
  line.hidden = !took;
  if (!took) return;
  const parts = [];
  if (took.readings > 0) parts.push(plural("app.tookIn", took.readings));
  if (took.refused.length > 0) parts.push(t("app.tookInRefused", { why: took.refused.join("; ") }));
  line.textContent = parts.join(" ");
  line.dataset.readings = String(took.readings);
}

/** Wires the wizard and lock forms; `opened` runs once the vault is open, `lock` locks. */
export function wire(demo: boolean, opened: (s: StatusDto) => void, lock: () => Promise<void>): void {
  const pass = $<HTMLInputElement>("setup-pass");
  const hint = () => ($("setup-strength").textContent = strengthHint(pass.value));
  pass.addEventListener("input", hint);
  wizard.wire();
  onLanguage(() => {
    hint();
    wizard.relabel();
    if (!$("unlock").hidden) $("unlock-hint").textContent = demo ? t("unlock.demoHint") : "";
    const err = $("unlock-error");
    if (err.textContent && err.dataset.code) err.textContent = errorText({ code: err.dataset.code, message: err.textContent });
  });

  $("setup").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = $("setup-error");
    err.textContent = "";
    const p1 = pass.value;
    if (p1 !== $<HTMLInputElement>("setup-pass2").value) {
      err.textContent = t("setup.differ");
      return;
    }
    const meter = wizard.choice();
    if ("error" in meter) {
      err.textContent = meter.error;
      return;
    }
    const go = $<HTMLButtonElement>("setup-go");
    go.disabled = true;
    go.textContent = t("setup.creating");
    try {
      let status = await invoke<StatusDto>("create_vault", { passphrase: p1, source: meter.source, extras: meter.extras });
      if ($<HTMLInputElement>("setup-keyring").checked) {
        try {
          status = await invoke<StatusDto>("set_keyring", { on: true, passphrase: p1 });
        } catch (e) {
          // The vault exists and opens with the passphrase; say why the keyring is off.
          const notice = $("notice");
          notice.hidden = false;
          notice.textContent = t("unlock.keyringFailed", { error: errorText(e) });
        }
      }
      opened(status);
    } catch (e) {
      err.textContent = errorText(e);
    } finally {
      go.disabled = false;
      go.textContent = t("setup.go");
    }
  });

  $("unlock").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const go = $<HTMLButtonElement>("unlock-go");
    const err = $("unlock-error");
    err.textContent = "";
    go.disabled = true;
    go.textContent = t("unlock.busy");
    try {
      opened(await invoke<StatusDto>("unlock", { passphrase: $<HTMLInputElement>("unlock-pass").value }));
    } catch (e) {
      const a = toAppError(e);
      err.textContent = errorText(a);
      err.dataset.code = a.code;
      $<HTMLInputElement>("unlock-pass").select();
    } finally {
      go.disabled = false;
      go.textContent = t("unlock.go");
    }
  });

  $("unlock-keyring").addEventListener("click", () => void unlockWithKeyring(opened));
  $("lock-now").addEventListener("click", () => void lock());
  $("privacy-lock").addEventListener("click", () => void lock());
}

/** Opens the vault with the key kept in the OS keyring; on failure the lock screen says why
 * (the passphrase still works). Returns whether it opened. */
export async function unlockWithKeyring(opened: (s: StatusDto) => void): Promise<boolean> {
  const err = $("unlock-error");
  err.textContent = "";
  try {
    opened(await invoke<StatusDto>("unlock_with_keyring"));
    return true;
  } catch (e) {
    err.textContent = t("unlock.keyringFailed", { error: errorText(e) });
    err.dataset.code = toAppError(e).code;
    return false;
  }
}
