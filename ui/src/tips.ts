// The Tips screen: savings tips from the last 12 months of readings under the current contract.

import { invoke, toAppError } from "./tauri.js";
import type { ContractDto, TipDto } from "./dto.js";
import { fixed } from "./format.js";
import { currentId, fetchContracts, money } from "./contracts.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

let seq = 0;

/** The text shown when the engine finds nothing. */
export const NO_TIPS = "No tips: your readings do not show anything worth changing yet.";

function tipItem(t: TipDto): HTMLLIElement {
  const li = document.createElement("li");
  li.className = "tip card";
  li.dataset.kind = t.kind;
  const p = document.createElement("p");
  p.className = "tip-summary";
  p.textContent = t.summary;
  const dl = document.createElement("dl");
  dl.className = "pair";
  const facts: [string, string][] = [
    ["Energy a year", fixed(t.kwh_per_year, 0, "kWh")],
    ["Money a year", t.money_per_year === null ? "–" : money(t.money_per_year, t.currency)],
    ["Confidence", `${Math.round(t.confidence * 100)}%`],
  ];
  for (const [k, v] of facts) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dl.append(dt, dd);
  }
  li.append(p, dl);
  if (t.evidence.length) {
    const d = document.createElement("details");
    const s = document.createElement("summary");
    s.textContent = "Why";
    const ul = document.createElement("ul");
    ul.className = "evidence";
    for (const e of t.evidence) {
      const i = document.createElement("li");
      i.textContent = e;
      ul.append(i);
    }
    d.append(s, ul);
    li.append(d);
  }
  return li;
}

/** Fills the contract choice (once) and computes the tips. */
export async function refresh(): Promise<void> {
  const mine = ++seq;
  const status = $("tips-status");
  const sel = $<HTMLSelectElement>("tips-contract");
  status.className = "muted";
  status.textContent = "Looking at the last 12 months…";
  try {
    const list: ContractDto[] = await fetchContracts();
    const keep = sel.value;
    sel.replaceChildren();
    for (const c of list.filter((c) => !c.error)) sel.append(new Option(c.name, c.id));
    sel.value = list.some((c) => c.id === keep) ? keep : currentId(list);
    const tips = await invoke<TipDto[]>("tips", { contracts: sel.value ? [sel.value] : [] });
    if (mine !== seq) return;
    $("tips-list").replaceChildren(...tips.map(tipItem));
    $("screen-tips").dataset.count = String(tips.length);
    status.textContent = tips.length ? `${tips.length} tip${tips.length === 1 ? "" : "s"} from your own readings.` : NO_TIPS;
  } catch (e) {
    if (mine !== seq) return;
    status.className = "error";
    status.textContent = toAppError(e).message;
  }
}

/** Recomputes when the contract changes. */
export function wire(): void {
  $("tips-contract").addEventListener("change", () => void refresh());
}
