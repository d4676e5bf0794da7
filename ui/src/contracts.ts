// The contract list shared by the Costs and Tips screens (presets plus the vault's own).

import { invoke } from "./tauri.js";
import type { ContractDto } from "./dto.js";
import { money as inCurrency } from "./i18n.js";

/** The preset priced when the user has stored no contract yet. */
export const DEFAULT_PRESET = "preset:nl-flat";

/** Fetches the contracts to choose from. */
export function fetchContracts(): Promise<ContractDto[]> {
  return invoke<ContractDto[]>("contracts");
}

/** The contract taken as current: the first usable stored one, else the default preset. */
export function currentId(list: ContractDto[]): string {
  return list.find((c) => c.stored && !c.error)?.id ?? DEFAULT_PRESET;
}

/** Formats an amount with its contract's currency in the window's language (`€ 12,34`). */
export function money(v: number, currency: string | null): string {
  return inCurrency(v, currency);
}
