// The Settings screen: passphrase change, replacing the encryption key, the meter source
// (typed or detected), the OS keyring, and lock.

import { errorText, invoke, listen, toAppError } from "./tauri.js";
import { num, t } from "./i18n.js";
import { keyProblem } from "./wizard.js";
import type { StatusDto } from "./dto.js";
import { foundText, search } from "./finding.js";
import { strengthHint } from "./gate.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function say(id: string, cls: string, text: string): void {
  const el = $(id);
  el.className = cls;
  el.textContent = text;
}

/** What replacing the encryption key did (the shell's `Rekeyed`). */
interface Rekeyed {
  resealed: number;
  damaged: number;
  keyringSlotRemoved: boolean;
}

/** Shows a failure in `id`, with its code for the tests. */
function fail(id: string, e: unknown): void {
  const a = toAppError(e);
  say(id, "error", errorText(a));
  $(id).dataset.code = a.code;
}

/** Replaces the vault's encryption key (with `next`, the passphrase too) after the shell
 * checks `current`; shows the progress in `out` (and `bar`), and resolves to what happened,
 * for a human. Both buttons that can start it wait meanwhile. */
async function rekey(current: string, next: string | undefined, out: string, bar?: HTMLProgressElement): Promise<string> {
  const buttons = [$<HTMLButtonElement>("rekey-go"), $<HTMLButtonElement>("pw-go")];
  for (const b of buttons) b.disabled = true;
  say(out, "", t("settings.rekeyBusy"));
  delete $(out).dataset.code;
  const stop = await listen<[number, number]>("rekey-progress", ([done, total]) => {
    if (bar) [bar.hidden, bar.max, bar.value] = [false, total, done];
    say(out, "", t("settings.rekeyCount", { done: num(done), total: num(total) }));
  });
  try {
    const r = await invoke<Rekeyed>("rekey", next === undefined ? { current } : { current, new: next });
    $(out).dataset.resealed = String(r.resealed);
    $("keyring-rekey-offer").hidden = true;
    if (r.keyringSlotRemoved) await refresh();
    const parts = [t("settings.rekeyDone", { n: num(r.resealed) })];
    if (r.damaged > 0) parts.push(t("settings.rekeyDamaged", { n: num(r.damaged) }));
    if (r.keyringSlotRemoved) parts.push(t("settings.rekeyKeyring"));
    return parts.join(" ");
  } finally {
    stop();
    for (const b of buttons) b.disabled = false;
  }
}

/** Shows the saved source and whether the keyring holds a key. */
export async function refresh(): Promise<void> {
  try {
    $<HTMLInputElement>("pref-keyring").checked = (await invoke<StatusDto>("status")).keyring;
    const ask = document.getElementById("keyring-ask");
    if (ask) ask.hidden = true;
  } catch (e) {
    console.error(e);
  }
  try {
    $("src-current").textContent = (await invoke<string>("meter_source")) || t("settings.noneYet");
  } catch (e) {
    $("src-current").textContent = errorText(e);
  }
}

async function saveSource(source: string): Promise<void> {
  say("src-result", "", t("settings.saving"));
  try {
    say("src-result", "ok", await invoke<string>("set_meter_source", { source }));
    await refresh();
  } catch (e) {
    say("src-result", "error", errorText(e));
  }
}

/** Searches every port for the meter; each one found can be used at once (its whole source:
 * port, settings and protocol). */
async function detect(): Promise<void> {
  const ul = $("src-ports");
  const go = $<HTMLButtonElement>("src-detect");
  ul.replaceChildren();
  go.disabled = true;
  say("src-result", "", t("find.searching"));
  try {
    const ports = await search($("src-steps"));
    const meters = ports.filter((p) => p.source);
    say("src-result", meters.length ? "" : "error", meters.length ? "" : t("find.none"));
    for (const p of meters) {
      const li = document.createElement("li");
      const use = document.createElement("button");
      use.type = "button";
      use.textContent = t("settings.use");
      use.addEventListener("click", () => void saveSource(p.source ?? ""));
      li.append(`${foundText(p)} `, use);
      if (p.needs_key) li.append(` ${t("find.keyBelow")}`);
      ul.append(li);
    }
  } catch (e) {
    say("src-result", "error", errorText(e));
  } finally {
    go.disabled = false;
  }
}

/** Wires the forms; `lock` locks the app. */
export function wire(lock: () => Promise<void>): void {
  const pw = $<HTMLInputElement>("pw-new");
  pw.addEventListener("input", () => ($("pw-strength").textContent = strengthHint(pw.value)));
  $("pw-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (pw.value !== $<HTMLInputElement>("pw-new2").value) {
      say("pw-result", "error", t("settings.pwDiffer"));
      return;
    }
    const go = $<HTMLButtonElement>("pw-go");
    const current = $<HTMLInputElement>("pw-current").value;
    const alsoKey = $<HTMLInputElement>("pw-rekey").checked;
    go.disabled = true;
    say("pw-result", "", t("settings.pwBusy"));
    try {
      let done = t("settings.pwDone");
      if (alsoKey) done += ` ${await rekey(current, pw.value, "pw-result")}`;
      else await invoke("change_passphrase", { current, new: pw.value });
      for (const id of ["pw-current", "pw-new", "pw-new2"]) $<HTMLInputElement>(id).value = "";
      $<HTMLInputElement>("pw-rekey").checked = false;
      $("pw-strength").textContent = "";
      say("pw-result", "ok", done);
    } catch (e) {
      fail("pw-result", e);
    } finally {
      go.disabled = false;
    }
  });
  $("rekey-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const pass = $<HTMLInputElement>("rekey-pass");
    const current = pass.value;
    pass.value = "";
    try {
      say("rekey-result", "ok", await rekey(current, undefined, "rekey-result", $<HTMLProgressElement>("rekey-progress")));
    } catch (e) {
      fail("rekey-result", e);
    }
  });
  $("keyring-rekey").addEventListener("click", () => {
    $("rekey-form").scrollIntoView({ block: "center" });
    $("rekey-pass").focus();
  });
  $("src-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    void saveSource($<HTMLInputElement>("src-input").value);
  });
  $("src-detect").addEventListener("click", () => void detect());
  $("keys-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const key = $<HTMLInputElement>("keys-key").value;
    const authKey = $<HTMLInputElement>("keys-auth").value;
    const problem = [keyProblem(key, "setup.whichKey"), keyProblem(authKey, "setup.whichAuth")].filter(Boolean).join(" ");
    if (problem) {
      say("keys-result", "error", problem);
      return;
    }
    try {
      await invoke("set_meter_keys", { key, authKey });
      for (const id of ["keys-key", "keys-auth"]) $<HTMLInputElement>(id).value = "";
      say("keys-result", "ok", t("settings.keysSaved"));
    } catch (e) {
      say("keys-result", "error", errorText(e));
    }
  });
  $("settings-lock").addEventListener("click", () => void lock());
  wireKeyring();
}

/** The form asking for the passphrase before a key goes into the keyring (as `hearth keyring
 * on` asks): made here, under the switch, and shown only while turning it on. */
function passphraseForm(keyring: HTMLInputElement): { form: HTMLFormElement; pass: HTMLInputElement } {
  const form = document.createElement("form");
  form.id = "keyring-ask";
  form.className = "row";
  form.hidden = true;
  const label = document.createElement("label");
  label.htmlFor = "keyring-pass";
  label.dataset.i18n = "settings.keyringPass";
  label.textContent = t("settings.keyringPass");
  const pass = document.createElement("input");
  pass.id = "keyring-pass";
  pass.type = "password";
  pass.required = true;
  pass.autocomplete = "current-password";
  const go = document.createElement("button");
  go.id = "keyring-pass-go";
  go.type = "submit";
  go.className = "primary";
  go.dataset.i18n = "settings.keyringGo";
  go.textContent = t("settings.keyringGo");
  form.append(label, pass, go);
  (keyring.closest("label") ?? keyring).after(form);
  return { form, pass };
}

function wireKeyring(): void {
  const keyring = $<HTMLInputElement>("pref-keyring");
  const { form, pass } = passphraseForm(keyring);
  const set = async (on: boolean, passphrase?: string) => {
    keyring.disabled = true;
    try {
      const st = await invoke<StatusDto>("set_keyring", on ? { on, passphrase } : { on });
      keyring.checked = st.keyring;
      form.hidden = true;
      say("keyring-result", "ok", t(st.keyring ? "settings.keyringOn" : "settings.keyringOff"));
      // Off: the old key itself still opens the vault's data until it is replaced.
      $("keyring-rekey-offer").hidden = st.keyring;
    } catch (e) {
      // Turning on: the form stays for another try; turning off: the key is still there.
      keyring.checked = on;
      say("keyring-result", "error", errorText(e));
    } finally {
      keyring.disabled = false;
    }
  };
  keyring.addEventListener("change", () => {
    say("keyring-result", "", "");
    if (keyring.checked) {
      form.hidden = false;
      pass.focus();
    } else if (!form.hidden) {
      // Changed their mind before giving the passphrase: nothing to undo.
      form.hidden = true;
    } else {
      void set(false);
    }
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const passphrase = pass.value;
    pass.value = "";
    void set(true, passphrase);
  });
}
