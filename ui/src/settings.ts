// The Settings screen: passphrase change, the meter source (typed or detected), and lock.

import { invoke, toAppError } from "./tauri.js";
import type { PortDto } from "./dto.js";
import { strengthHint } from "./gate.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function say(id: string, cls: string, text: string): void {
  const el = $(id);
  el.className = cls;
  el.textContent = text;
}

/** Shows the saved source. */
export async function refresh(): Promise<void> {
  try {
    $("src-current").textContent = (await invoke<string>("meter_source")) || "none yet";
  } catch (e) {
    $("src-current").textContent = toAppError(e).message;
  }
}

async function saveSource(source: string): Promise<void> {
  say("src-result", "", "Saving…");
  try {
    say("src-result", "ok", await invoke<string>("set_meter_source", { source }));
    await refresh();
  } catch (e) {
    say("src-result", "error", toAppError(e).message);
  }
}

async function detect(): Promise<void> {
  const ul = $("src-ports");
  ul.replaceChildren();
  say("src-result", "", "Looking for serial ports…");
  try {
    const ports = await invoke<PortDto[]>("list_ports");
    say("src-result", "", ports.length ? "" : "No serial ports found. Is the cable plugged in?");
    for (const p of ports) {
      const li = document.createElement("li");
      const verdict = document.createElement("span");
      verdict.className = "muted";
      const probe = document.createElement("button");
      probe.type = "button";
      probe.textContent = "Listen";
      probe.addEventListener("click", async () => {
        probe.disabled = true;
        verdict.textContent = " listening…";
        try {
          verdict.textContent = ` ${await invoke<string>("probe_port", { path: p.source.replace(/^serial:/, "") })}`;
        } catch (e) {
          verdict.textContent = ` ${toAppError(e).message}`;
        } finally {
          probe.disabled = false;
        }
      });
      const use = document.createElement("button");
      use.type = "button";
      use.textContent = "Use";
      use.addEventListener("click", () => void saveSource(p.source));
      li.append(`${p.source} (${p.description}) `, probe, " ", use, verdict);
      ul.append(li);
    }
  } catch (e) {
    say("src-result", "error", toAppError(e).message);
  }
}

/** Wires the forms; `lock` locks the app. */
export function wire(lock: () => Promise<void>): void {
  const pw = $<HTMLInputElement>("pw-new");
  pw.addEventListener("input", () => ($("pw-strength").textContent = strengthHint(pw.value)));
  $("pw-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (pw.value !== $<HTMLInputElement>("pw-new2").value) {
      say("pw-result", "error", "The two new passphrases differ.");
      return;
    }
    const go = $<HTMLButtonElement>("pw-go");
    go.disabled = true;
    say("pw-result", "", "Changing the passphrase…");
    try {
      await invoke("change_passphrase", { current: $<HTMLInputElement>("pw-current").value, new: pw.value });
      for (const id of ["pw-current", "pw-new", "pw-new2"]) $<HTMLInputElement>(id).value = "";
      $("pw-strength").textContent = "";
      say("pw-result", "ok", "Passphrase changed. Use the new one from now on.");
    } catch (e) {
      const a = toAppError(e);
      say("pw-result", "error", a.message);
      $("pw-result").dataset.code = a.code;
    } finally {
      go.disabled = false;
    }
  });
  $("src-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    void saveSource($<HTMLInputElement>("src-input").value);
  });
  $("src-detect").addEventListener("click", () => void detect());
  $("settings-lock").addEventListener("click", () => void lock());
}
