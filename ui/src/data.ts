// The Import and backup screen: import files chosen in the open dialog or dropped on the window,
// an encrypted backup to a file chosen in the save dialog, restoring (merging) a backup, merging
// a collector box's sync folder, and the vault check. The shell keeps every path; the page holds single-use tokens and shows names.

import { errorText, invoke, listen, toAppError } from "./tauri.js";
import { num, t } from "./i18n.js";
import type { BackupDto, ImportDto, MergedDto, OpenChoiceDto, RestoreDto, VerifyDto } from "./dto.js";
import { pickPath } from "./saving.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function say(id: string, cls: string, text: string): void {
  const el = $(id);
  el.className = cls;
  el.textContent = text;
  delete el.dataset.code;
}

/** Shows a failure in `id`, with its code for the tests. */
function fail(id: string, e: unknown): void {
  const a = toAppError(e);
  say(id, "error", errorText(a));
  $(id).dataset.code = a.code;
}

function list(id: string, items: string[]): void {
  const ul = $(id);
  ul.replaceChildren(
    ...items.map((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      return li;
    }),
  );
}

/** Files dropped on the window and not imported yet. */
let dropped: OpenChoiceDto | null = null;

/** Imports the files behind `choice`, with a progress bar; shows what happened. */
async function importChoice(choice: OpenChoiceDto): Promise<void> {
  const bar = $<HTMLProgressElement>("import-progress");
  const buttons = [$<HTMLButtonElement>("import-choose"), $<HTMLButtonElement>("import-dropped-go")];
  buttons.forEach((b) => (b.disabled = true));
  list("import-unusable", []);
  say("import-result", "", t("data.importBusy"));
  bar.value = 0;
  bar.hidden = false;
  const stop = await listen<[number, number, number]>("import-progress", ([done, total, part]) => {
    bar.value = total > 0 ? Math.min(1, (done + part) / total) : 0;
    say("import-result", "", t("data.importCount", { done: num(done), total: num(total) }));
  });
  try {
    const r = await invoke<ImportDto>("import_files", { token: choice.token });
    const parts = [t("data.importDone", { added: num(r.added), duplicates: num(r.duplicates) })];
    if (r.estimated > 0) parts.push(t("data.importEstimated", { n: num(r.estimated) }));
    if (r.refused > 0) parts.push(t("data.importRefused", { n: num(r.refused) }));
    if (r.implausible > 0) parts.push(t("data.importImplausible", { n: num(r.implausible) }));
    if (r.unusable.length > 0) parts.push(t("data.importUnusable"));
    say("import-result", r.unusable.length > 0 ? "" : "ok", parts.join(" "));
    list("import-unusable", r.unusable);
  } catch (e) {
    fail("import-result", e);
  } finally {
    stop();
    bar.hidden = true;
    buttons.forEach((b) => (b.disabled = false));
  }
}

function showDropped(choice: OpenChoiceDto | null): void {
  dropped = choice;
  const note = $("import-dropped");
  note.hidden = choice === null;
  note.textContent = choice ? t("data.importDropped", { names: choice.names.join(", ") }) : "";
  $("import-dropped-go").hidden = choice === null;
}

function isoDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** Wires the screen; `show` switches to it (files dropped anywhere bring it up). */
export function wire(dataDir: string, show: () => void): void {
  $("import-choose").addEventListener("click", async () => {
    try {
      const choice = await invoke<OpenChoiceDto | null>("pick_open_files", { many: true, title: t("data.importDialog") });
      if (choice) await importChoice(choice);
    } catch (e) {
      fail("import-result", e);
    }
  });
  $("import-dropped-go").addEventListener("click", async () => {
    const choice = dropped;
    showDropped(null);
    if (choice) await importChoice(choice);
  });
  void listen<OpenChoiceDto>("files-dropped", (choice) => {
    show();
    showDropped(choice);
    say("import-result", "", "");
    $("import-dropped-go").focus();
  });

  $("backup-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const go = $<HTMLButtonElement>("backup-go");
    go.disabled = true;
    say("backup-result", "", "");
    try {
      const dir = dataDir.replace(/\/[^/]*\/?$/, "") || "/tmp";
      const choice = await pickPath(`${dir}/hearth-${isoDate(new Date())}.backup`, "backup", t("data.backupDialog"));
      if (!choice) return;
      const r = await invoke<BackupDto>("backup_vault", {
        from: $<HTMLInputElement>("backup-from").value,
        to: $<HTMLInputElement>("backup-to").value,
        token: choice.token,
      });
      say("backup-result", "ok", t("data.backupDone", { hours: num(r.hours), settings: num(r.settings), path: r.path }));
    } catch (e) {
      fail("backup-result", e);
    } finally {
      go.disabled = false;
    }
  });

  $("restore-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const go = $<HTMLButtonElement>("restore-go");
    const pass = $<HTMLInputElement>("restore-pass");
    go.disabled = true;
    say("restore-result", "", "");
    try {
      const choice = await invoke<OpenChoiceDto | null>("pick_open_files", { many: false, title: t("data.restoreDialog") });
      if (!choice) return;
      say("restore-result", "", t("data.restoreBusy"));
      const r = await invoke<RestoreDto>("restore_backup", {
        token: choice.token,
        passphrase: pass.value,
        credentials: $<HTMLInputElement>("restore-credentials").checked,
      });
      pass.value = "";
      const parts = [t("data.restoreDone", { added: num(r.added), present: num(r.already_present) })];
      if (r.refused > 0) parts.push(t("data.restoreRefused", { n: num(r.refused) }));
      say("restore-result", "ok", parts.join(" "));
    } catch (e) {
      fail("restore-result", e);
    } finally {
      go.disabled = false;
    }
  });

  $("sync-go").addEventListener("click", async () => {
    const go = $<HTMLButtonElement>("sync-go");
    go.disabled = true;
    list("sync-files", []);
    say("sync-result", "", "");
    try {
      const choice = await invoke<OpenChoiceDto | null>("pick_folder", { title: t("data.syncDialog") });
      if (!choice) return;
      say("sync-result", "", t("data.syncBusy"));
      const r = await invoke<MergedDto>("merge_folder", { token: choice.token });
      const parts = [
        t("data.syncDone", {
          files: num(r.files),
          added: num(r.added),
          duplicates: num(r.duplicates),
          unchanged: num(r.unchanged),
        }),
      ];
      const key = r.fingerprint ?? "";
      if (r.card === "written") parts.push(t("data.syncCard", { fingerprint: key }));
      if (r.card === "replaced") parts.push(t("data.syncReplaced", { fingerprint: key }));
      if (r.future > 0) parts.push(t("data.syncFuture", { n: num(r.future) }));
      if (r.skipped.length > 0) parts.push(t("data.syncLater", { n: num(r.skipped.length) }));
      if (r.refused.length > 0) parts.push(t("data.syncRefused", { n: num(r.refused.length) }));
      say("sync-result", r.refused.length > 0 ? "" : "ok", parts.join(" "));
      $("sync-result").dataset.added = String(r.added);
      list("sync-files", [...r.refused, ...r.skipped].map((f) => `${f.file}: ${f.why}`));
    } catch (e) {
      fail("sync-result", e);
    } finally {
      go.disabled = false;
    }
  });

  $("verify-go").addEventListener("click", async () => {
    const go = $<HTMLButtonElement>("verify-go");
    go.disabled = true;
    list("verify-damaged", []);
    say("verify-result", "", t("data.verifyBusy"));
    try {
      const r = await invoke<VerifyDto>("verify_vault");
      if (r.damaged.length === 0) {
        say("verify-result", "ok", t("data.verifyIntact", { intact: num(r.intact), readings: num(r.readings) }));
      } else {
        say("verify-result", "error", t("data.verifyDamaged", { n: num(r.damaged.length) }));
        list("verify-damaged", r.damaged);
      }
    } catch (e) {
      fail("verify-result", e);
    } finally {
      go.disabled = false;
    }
  });
}
