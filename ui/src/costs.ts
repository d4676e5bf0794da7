// The Costs screen: a period and contracts; energy and the bill per contract; and an editor
// to add or change a contract as TOML (the parser's error names the line).

import { errorText, invoke } from "./tauri.js";
import { dateTime, num, t } from "./i18n.js";
import type { ContractDto, CostReportDto } from "./dto.js";
import { fixed } from "./format.js";
import { currentId, fetchContracts, money } from "./contracts.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

let list: ContractDto[] = [];
let chosen = new Set<string>();
let seq = 0;

function chosenIds(): string[] {
  return list.filter((c) => chosen.has(c.id)).map((c) => c.id);
}

function drawChoices(): void {
  const box = $("cost-contracts");
  box.replaceChildren();
  for (const c of list) {
    const label = document.createElement("label");
    label.className = "check";
    const cb = document.createElement("input");
    cb.type = "checkbox";
    cb.dataset.id = c.id;
    cb.checked = chosen.has(c.id);
    cb.disabled = c.error !== null;
    cb.addEventListener("change", () => {
      if (cb.checked) chosen.add(c.id);
      else chosen.delete(c.id);
      void report();
    });
    label.append(cb, ` ${c.name}${c.stored ? t("costs.yours") : ""}${c.error ? t("costs.unusable") : ""}`);
    box.append(label);
  }
  const base = $<HTMLSelectElement>("contract-base");
  base.replaceChildren(new Option(t("costs.startFrom"), ""));
  for (const c of list) base.append(new Option(c.name, c.id));
}

/** Reloads the contract list (keeping choices) and the report. */
export async function refresh(): Promise<void> {
  const status = $("cost-status");
  try {
    list = await fetchContracts();
  } catch (e) {
    status.className = "error";
    status.textContent = errorText(e);
    return;
  }
  chosen = new Set([...chosen].filter((id) => list.some((c) => c.id === id)));
  if (chosen.size === 0) chosen.add(currentId(list));
  drawChoices();
  await report();
}

async function report(): Promise<void> {
  const mine = ++seq;
  const status = $("cost-status");
  const body = $("cost-table").querySelector("tbody")!;
  status.className = "muted";
  status.textContent = t("costs.working");
  try {
    const r = await invoke<CostReportDto>("cost_report", {
      period: $<HTMLSelectElement>("cost-period").value,
      contracts: chosenIds(),
    });
    if (mine !== seq) return;
    $("cost-import").textContent = fixed(r.import_kwh, 1, "kWh");
    $("cost-export").textContent = fixed(r.export_kwh, 1, "kWh");
    $("cost-estimated").textContent = fixed(r.estimated_kwh, 1, "kWh");
    $("cost-gas").textContent = fixed(r.gas_m3, 2, "m³");
    body.replaceChildren();
    for (const c of r.contracts) {
      const tr = document.createElement("tr");
      tr.dataset.total = String(c.total);
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = c.name;
      tr.append(th);
      const cells = c.applies
        ? [c.energy, c.tax, c.fixed, c.capacity, c.export_credit ? -c.export_credit : 0, c.gas, c.vat, c.total].map((v) => money(v, c.currency))
        : [t("costs.notValid"), "", "", "", "", "", "", ""];
      for (const text of cells) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      tr.lastElementChild!.classList.add("total");
      body.append(tr);
    }
    const gaps = r.missing_hours > 0.25 ? t("costs.gaps", { hours: num(r.missing_hours, 1) }) : "";
    status.textContent = r.contracts.length
      ? t("costs.range", { from: dateTime(new Date(r.from)), to: dateTime(new Date(r.to)) }) + gaps
      : t("costs.pick");
    $("screen-costs").dataset.rows = String(r.contracts.length);
  } catch (e) {
    if (mine !== seq) return;
    status.className = "error";
    status.textContent = errorText(e);
  }
}

/** Wires the period choice and the contract editor. */
export function wire(): void {
  $("cost-period").addEventListener("change", () => void report());
  $("contract-base").addEventListener("change", () => {
    const c = list.find((x) => x.id === $<HTMLSelectElement>("contract-base").value);
    if (c) $<HTMLTextAreaElement>("contract-toml").value = c.toml;
  });
  $("contract-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = $("contract-result");
    out.className = "";
    out.textContent = t("costs.checking");
    try {
      const id = await invoke<string>("save_contract", { toml: $<HTMLTextAreaElement>("contract-toml").value });
      out.className = "ok";
      out.textContent = t("costs.saved");
      chosen.add(id);
      await refresh();
    } catch (e) {
      out.className = "error";
      out.textContent = errorText(e);
    }
  });
}
