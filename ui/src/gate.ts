// The gate in front of the app: the first-run wizard (passphrase, meter) and the lock screen.

import { invoke, toAppError } from "./tauri.js";
import type { StatusDto } from "./dto.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** A rough strength hint: length and variety, in words a person understands. */
export function strengthHint(p: string): string {
  if (p.length === 0) return "At least 8 characters; a few unrelated words are best.";
  if (p.length < 8) return `Too short: ${8 - p.length} more character${p.length === 7 ? "" : "s"} needed.`;
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((r) => r.test(p)).length;
  const words = p.trim().split(/\s+/).length;
  if (p.length >= 20 || (words >= 4 && p.length >= 16)) return "Strong.";
  if (p.length >= 12 && kinds >= 2) return "Good. Longer is even better.";
  return "Weak: add more words or characters.";
}

/** Shows the wizard, the lock screen, or nothing (app open). */
export function showGate(status: StatusDto, demo: boolean): void {
  const gate = $("gate");
  gate.hidden = status.vault === "open";
  $("setup").hidden = status.vault !== "setup";
  $("unlock").hidden = status.vault !== "locked";
  if (status.vault === "setup") $("setup-pass").focus();
  if (status.vault === "locked") {
    $<HTMLInputElement>("unlock-pass").value = "";
    $("unlock-error").textContent = "";
    $("unlock-hint").textContent = demo ? "This is the demo: its passphrase is “demo”." : "";
    $("unlock-pass").focus();
  }
}

/** Wires the wizard and lock forms; `opened` runs once the vault is open. */
export function wire(demo: boolean, opened: (s: StatusDto) => void): void {
  const pass = $<HTMLInputElement>("setup-pass");
  pass.addEventListener("input", () => ($("setup-strength").textContent = strengthHint(pass.value)));

  $("setup").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = $("setup-error");
    err.textContent = "";
    const p1 = pass.value;
    if (p1 !== $<HTMLInputElement>("setup-pass2").value) {
      err.textContent = "The two passphrases differ.";
      return;
    }
    const kind = (document.querySelector('input[name="source"]:checked') as HTMLInputElement | null)?.value ?? "demo";
    const source =
      kind === "serial" ? `serial:${$<HTMLInputElement>("setup-serial").value.trim()}`
      : kind === "tcp" ? `tcp:${$<HTMLInputElement>("setup-tcp").value.trim()}`
      : "demo";
    const go = $<HTMLButtonElement>("setup-go");
    go.disabled = true;
    go.textContent = "Creating your vault…";
    try {
      opened(await invoke<StatusDto>("create_vault", { passphrase: p1, source }));
    } catch (e) {
      err.textContent = toAppError(e).message;
    } finally {
      go.disabled = false;
      go.textContent = "Create my vault";
    }
  });

  $("unlock").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const go = $<HTMLButtonElement>("unlock-go");
    const err = $("unlock-error");
    err.textContent = "";
    go.disabled = true;
    go.textContent = "Unlocking…";
    try {
      opened(await invoke<StatusDto>("unlock", { passphrase: $<HTMLInputElement>("unlock-pass").value }));
    } catch (e) {
      const a = toAppError(e);
      err.textContent = a.message;
      err.dataset.code = a.code;
      $<HTMLInputElement>("unlock-pass").select();
    } finally {
      go.disabled = false;
      go.textContent = "Unlock";
    }
  });

  const lockNow = async () => showGate(await invoke<StatusDto>("lock_vault"), demo);
  $("lock-now").addEventListener("click", () => void lockNow());
  $("privacy-lock").addEventListener("click", () => void lockNow());
}
