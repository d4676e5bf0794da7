// The Tips screen: savings tips from the last 12 months of readings under the current contract.

import { errorText, invoke } from "./tauri.js";
import { lang, plural, t } from "./i18n.js";

const tr = t;
import type { ContractDto, TipDto } from "./dto.js";
import { fixed } from "./format.js";
import { currentId, fetchContracts, money } from "./contracts.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

let seq = 0;

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
    [tr("tips.energy"), fixed(t.kwh_per_year, 0, "kWh")],
    [tr("tips.money"), t.money_per_year === null ? "–" : money(t.money_per_year, t.currency)],
    [tr("tips.confidence"), `${Math.round(t.confidence * 100)}%`],
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
    s.textContent = tr("tips.why");
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
  status.textContent = t("tips.looking");
  try {
    const list: ContractDto[] = await fetchContracts();
    const keep = sel.value;
    sel.replaceChildren();
    for (const c of list.filter((c) => !c.error)) sel.append(new Option(c.name, c.id));
    sel.value = list.some((c) => c.id === keep) ? keep : currentId(list);
    // The sentences and evidence come worded in the window's language; a language switch
    // re-shows the current screen (main.ts), which calls this again.
    const tips = await invoke<TipDto[]>("tips", { contracts: sel.value ? [sel.value] : [], lang: lang() });
    if (mine !== seq) return;
    $("tips-list").replaceChildren(...tips.map(tipItem));
    $("screen-tips").dataset.count = String(tips.length);
    status.textContent = tips.length ? plural("tips.count", tips.length) : t("tips.none");
  } catch (e) {
    if (mine !== seq) return;
    status.className = "error";
    status.textContent = errorText(e);
  }
}

/** Recomputes when the contract changes. */
export function wire(): void {
  $("tips-contract").addEventListener("change", () => void refresh());
}
