// The first-run wizard's meter step: which source (demo, the meter found by searching every
// port, a port typed by hand, a LAN bridge, a HomeWizard Wi-Fi meter, or the UK paths: a Glow
// device over MQTT, a pulse sensor, or supplier downloads only), the key of an encrypted meter
// (checked as it is typed, then against a frame the meter sent), and the contract to start
// from (the UK preset on the UK path).

import { t } from "./i18n.js";
import { errorText, invoke, toAppError } from "./tauri.js";
import { foundText, previewText, search } from "./finding.js";
import type { FoundPortDto, PreviewDto } from "./dto.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const val = (id: string) => $<HTMLInputElement>(id).value.trim();

/** What the wizard hands to `create_vault` besides the passphrase. */
export interface MeterChoice {
  source: string;
  extras: { key: string; authKey: string; mqttPassword: string; contract: string };
}

function checked(name: string, fallback: string): string {
  return (document.querySelector(`input[name="${name}"]:checked`) as HTMLInputElement | null)?.value ?? fallback;
}

/** Why a typed key is not a key (`""` when it is one, or when nothing was typed). The same
 * rule as the shell's: 32 hex digits; spaces, `:`, `-` and a leading `0x` are ignored. */
export function keyProblem(text: string, which: "setup.whichKey" | "setup.whichAuth"): string {
  const bare = text.trim().replace(/^0x/i, "").replace(/[\s:-]/g, "");
  if (bare === "" || /^[0-9a-fA-F]{32}$/.test(bare)) return "";
  if (which === "setup.whichAuth" && bare.toLowerCase() === "none") return "";
  return t("setup.keyFormat", { which: t(which), n: bare.replace(/[^0-9a-fA-F]/g, "").length });
}

/** The key errors for what is typed now (shown live under the fields). */
function keyErrors(): string {
  const key = keyProblem(val("setup-key"), "setup.whichKey");
  const auth = keyProblem(val("setup-auth-key"), "setup.whichAuth");
  if (key || auth) return [key, auth].filter(Boolean).join(" ");
  if (val("setup-auth-key") && !val("setup-key")) return t("setup.authWithoutKey");
  return "";
}

/** Shows the parts that belong to the chosen source. */
function showParts(): void {
  const kind = checked("source", "demo");
  // The UK path starts from the UK preset unless a contract was chosen already.
  const tariff = $<HTMLSelectElement>("setup-tariff");
  if (kind === "uk" && tariff.value === "") tariff.value = "preset:uk-flat";
  const uk = checked("uk", "mqtt");
  $("setup-uk").hidden = kind !== "uk";
  $("setup-uk-mqtt").hidden = uk !== "mqtt";
  $("setup-uk-pulse").hidden = uk !== "pulse";
  $("setup-uk-import").hidden = uk !== "import";
  $("setup-find").hidden = kind !== "found";
  $("setup-lan").hidden = kind !== "tcp" && kind !== "homewizard";
  // Keys are for meters that send frames themselves (P1 cable, LAN bridge); a meter found by
  // the search asks for one only when it encrypts, and the key is checked against its frame.
  const found = foundChoice();
  $("setup-keys").hidden = !(kind === "serial" || kind === "tcp" || (kind === "found" && found?.needs_key));
  $("setup-key-check-row").hidden = !(kind === "found" && found?.needs_key);
}

/** What the last search found. */
let found: FoundPortDto[] = [];

/** The meter chosen among those found. */
function foundChoice(): FoundPortDto | undefined {
  const path = (document.querySelector('input[name="found-port"]:checked') as HTMLInputElement | null)?.value;
  return found.find((f) => f.path === path && f.source);
}

/** Searches every port and offers each meter found (the only one chosen at once). */
async function findMeters(): Promise<void> {
  const go = $<HTMLButtonElement>("setup-find-go");
  const list = $("setup-found");
  const out = $("setup-find-result");
  go.disabled = true;
  list.replaceChildren();
  out.className = "";
  out.textContent = t("find.searching");
  try {
    found = await search($("setup-find-steps"), $<HTMLButtonElement>("setup-find-stop"));
    const meters = found.filter((f) => f.source);
    for (const f of meters) {
      const label = document.createElement("label");
      label.className = "choice found";
      const radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "found-port";
      radio.value = f.path;
      radio.checked = meters.length === 1;
      radio.addEventListener("change", showParts);
      const text = document.createElement("span");
      text.textContent = foundText(f);
      label.append(radio, " ", text);
      list.append(label);
    }
    out.className = meters.length ? "ok" : "error";
    out.textContent = meters.length ? t("find.pick", { n: meters.length }) : t("find.none");
  } catch (e) {
    out.className = "error";
    out.textContent = errorText(e);
  } finally {
    go.disabled = false;
    showParts();
  }
}

/** The source a LAN choice names (`tcp:HOST:PORT`, `homewizard:HOST`). */
function lanSource(kind: string): string {
  return kind === "homewizard" ? `homewizard:${val("setup-homewizard")}` : `tcp:${val("setup-tcp")}`;
}

/** Shows what the LAN source sends now (or why nothing came). */
async function testLan(): Promise<void> {
  const out = $("setup-lan-result");
  const go = $<HTMLButtonElement>("setup-lan-test");
  go.disabled = true;
  out.className = "";
  out.textContent = t("find.testing");
  try {
    const p = await invoke<PreviewDto>("preview_source", { source: lanSource(checked("source", "tcp")), key: val("setup-key"), authKey: val("setup-auth-key") });
    out.className = "ok";
    out.textContent = previewText(p);
  } catch (e) {
    out.className = "error";
    out.textContent = errorText(e);
  } finally {
    go.disabled = false;
  }
}

/** Checks the typed key against the frame the encrypted meter sent during the search. */
async function checkKey(): Promise<void> {
  const out = $("setup-key-result");
  const f = foundChoice();
  if (!f) return;
  out.className = "";
  delete out.dataset.code;
  try {
    const p = await invoke<PreviewDto>("check_found_key", { path: f.path, key: val("setup-key"), authKey: val("setup-auth-key") });
    out.className = "ok";
    out.textContent = t("find.keyOpens", { preview: previewText(p) });
  } catch (e) {
    out.className = "error";
    out.textContent = errorText(e);
    out.dataset.code = toAppError(e).code;
  }
}

/** An MQTT source: `mqtt://[user@]host[:port]/[topic]` (IPv6 in brackets). */
function mqttSource(): string {
  const host = val("setup-mqtt-host");
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const user = val("setup-mqtt-user");
  const port = val("setup-mqtt-port");
  return `mqtt://${user ? `${user}@` : ""}${h}${port ? `:${port}` : ""}/${val("setup-mqtt-topic")}`;
}

/** The chosen source and extras, or the reason it cannot be used yet. */
export function choice(): MeterChoice | { error: string } {
  const kind = checked("source", "demo");
  const extras = { key: "", authKey: "", mqttPassword: "", contract: $<HTMLSelectElement>("setup-tariff").value };
  switch (kind) {
    case "found": {
      const f = foundChoice();
      if (!f?.source) return { error: t("find.chooseFirst") };
      const problem = keyErrors();
      if (problem) return { error: problem };
      if (f.needs_key && !val("setup-key")) return { error: t("find.keyNeeded") };
      extras.key = val("setup-key");
      extras.authKey = val("setup-auth-key");
      return { source: f.source, extras };
    }
    case "homewizard":
      if (!val("setup-homewizard")) return { error: t("setup.hostNeeded") };
      return { source: lanSource(kind), extras };
    case "serial":
    case "tcp": {
      const problem = keyErrors();
      if (problem) return { error: problem };
      extras.key = val("setup-key");
      extras.authKey = val("setup-auth-key");
      const where = kind === "serial" ? val("setup-serial") : val("setup-tcp");
      return { source: `${kind}:${where}`, extras };
    }
    case "uk": {
      const uk = checked("uk", "mqtt");
      if (uk === "mqtt") {
        if (!val("setup-mqtt-host")) return { error: t("setup.hostNeeded") };
        extras.mqttPassword = $<HTMLInputElement>("setup-mqtt-pass").value;
        return { source: mqttSource(), extras };
      }
      if (uk === "pulse") {
        const imp = Number(val("setup-pulse-imp"));
        if (!val("setup-pulse-port") || !Number.isInteger(imp) || imp < 1) return { error: t("setup.pulseNeeded") };
        return { source: `pulse:${val("setup-pulse-port")}?imp_per_kwh=${imp}`, extras };
      }
      // Supplier downloads only: no live source.
      return { source: "", extras };
    }
    default:
      return { source: "demo", extras };
  }
}

/** Wires the choices and the live key check. */
export function wire(): void {
  for (const r of document.querySelectorAll<HTMLInputElement>('input[name="source"], input[name="uk"]')) {
    r.addEventListener("change", showParts);
  }
  for (const id of ["setup-key", "setup-auth-key"]) {
    $(id).addEventListener("input", () => ($("setup-key-error").textContent = keyErrors()));
  }
  $("setup-find-go").addEventListener("click", () => void findMeters());
  $("setup-lan-test").addEventListener("click", () => void testLan());
  $("setup-key-check").addEventListener("click", () => void checkKey());
  showParts();
}

/** Re-says the live key check in a new language. */
export function relabel(): void {
  $("setup-key-error").textContent = keyErrors();
}
