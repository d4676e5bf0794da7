// Translations: the message tables (one file per language under lang/, English defining the
// keys), `t(key, params)`, plurals, and numbers and times through Intl in the chosen language.
// index.html marks its texts with data-i18n (textContent), data-i18n-aria (aria-label) and
// data-i18n-placeholder; translate() fills them.

import { en, type Key } from "./lang/en.js";
import { nl } from "./lang/nl.js";
import { de } from "./lang/de.js";
import { fr } from "./lang/fr.js";
import { nb } from "./lang/nb.js";
import { sv } from "./lang/sv.js";
import { da } from "./lang/da.js";
import { fi } from "./lang/fi.js";

export type { Key };

/** Languages the window speaks. */
export type Lang = "en" | "nl" | "de" | "fr" | "nb" | "sv" | "da" | "fi";

/** Each language in its own words (never translated: a reader looks for their own). */
export const LANG_NAMES: Record<Lang, string> = {
  en: "English",
  nl: "Nederlands",
  de: "Deutsch",
  fr: "Français",
  nb: "Norsk bokmål",
  sv: "Svenska",
  da: "Dansk",
  fi: "Suomi",
};

/** Every table, by language (each has exactly English's keys; `npm test` checks it). */
export const TABLES: Record<Lang, Record<Key, string>> = { en, nl, de, fr, nb, sv, da, fi };

/** The Intl locale of each language when the system's own variant is not one of it. */
const DEFAULT_LOCALE: Record<Lang, string> = {
  en: "en-GB",
  nl: "nl-NL",
  de: "de-DE",
  fr: "fr-BE",
  nb: "nb-NO",
  sv: "sv-SE",
  da: "da-DK",
  fi: "fi-FI",
};

let current: Lang = "en";
const listeners: (() => void)[] = [];

function isLang(code: string): code is Lang {
  return code in LANG_NAMES;
}

/** The language of one system locale tag (`fr-BE`, `nb_NO.UTF-8`, `sv-FI`), or null if Hearth
 * does not speak it. Norwegian in any form (`no`, `nb`, `nn`) is shown in Bokmål. */
export function fromLocale(tag: string): Lang | null {
  const base = tag.trim().toLowerCase().split(/[-_.@]/)[0] ?? "";
  if (base === "no" || base === "nn") return "nb";
  return isLang(base) ? base : null;
}

/** The language for a saved preference; `""` follows the system: the first of its preferred
 * languages (`navigator.languages`) that Hearth speaks, else English. */
export function resolve(pref: string, system: readonly string[] = systemLanguages()): Lang {
  if (isLang(pref)) return pref;
  for (const tag of system) {
    const l = fromLocale(tag);
    if (l) return l;
  }
  return "en";
}

function systemLanguages(): readonly string[] {
  if (typeof navigator === "undefined") return [];
  return navigator.languages?.length ? navigator.languages : [navigator.language || "en"];
}

/** The language shown now. */
export function lang(): Lang {
  return current;
}

/** The Intl locale for numbers and dates: the system's own variant when it speaks the language
 * (`fr-LU`, `sv-FI`), else the language's usual one. */
export function locale(): string {
  const sys = typeof navigator === "undefined" ? "" : navigator.language || "";
  if (fromLocale(sys) === current) return sys.replace(/_/g, "-").split(".")[0] ?? sys;
  return DEFAULT_LOCALE[current];
}

/** A message in the current language, with `{name}` placeholders filled from `params`. */
export function t(key: Key, params: Record<string, string | number> = {}): string {
  const text = TABLES[current][key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** The messages with a `.one` and an `.other` form, by the name before that. */
type PluralKey = { [K in Key]: K extends `${infer P}.one` ? P : never }[Key];

/** `key.one` or `key.other` for a count `n`. The `.one` texts say "1" itself, so `.one` is for
 * exactly 1 in every language (French "0 tensions" is the one compromise: its rule counts 0 as
 * one). */
export function plural(key: PluralKey, n: number, params: Record<string, string | number> = {}): string {
  return t(`${key}.${n === 1 ? "one" : "other"}` as Key, { ...params, n });
}

/** Whether `key` names a message (for error codes sent by the shell). */
export function has(key: string): key is Key {
  return key in en;
}

/** Fills every marked text and attribute under `root` in the current language. */
export function translate(root: ParentNode = document): void {
  for (const el of root.querySelectorAll<HTMLElement>("[data-i18n]")) {
    const k = el.dataset.i18n ?? "";
    if (has(k)) el.textContent = t(k);
  }
  for (const el of root.querySelectorAll<HTMLElement>("[data-i18n-aria]")) {
    const k = el.dataset.i18nAria ?? "";
    if (has(k)) el.setAttribute("aria-label", t(k));
  }
  for (const el of root.querySelectorAll<HTMLElement>("[data-i18n-placeholder]")) {
    const k = el.dataset.i18nPlaceholder ?? "";
    if (has(k)) el.setAttribute("placeholder", t(k));
  }
}

/** Switches the language: marks `<html lang>`, translates the page, and tells the screens. */
export function setLanguage(l: Lang): void {
  current = l;
  if (typeof document === "undefined") return; // under `node --test`
  document.documentElement.lang = l;
  translate();
  for (const f of listeners) f();
}

/** Runs `f` after every language switch (screens redraw their generated texts). */
export function onLanguage(f: () => void): void {
  listeners.push(f);
}

/** A number in the current locale with exactly `decimals` decimals. */
export function num(v: number, decimals = 0): string {
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(v);
}

/** A wall-clock time (`14:05:09`) in the current locale. */
export function timeOfDay(d: Date): string {
  return new Intl.DateTimeFormat(locale(), { timeStyle: "medium" }).format(d);
}

/** A date and time (`26 Nov 2026, 14:05`) in the current locale. */
export function dateTime(d: Date): string {
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(d);
}

/** An amount in a contract's currency (the currency is the contract's, never the language's),
 * written the current language's way: `€ 12,34` in Dutch, `12,34 kr` in Swedish, `€12.34` in
 * English. A code Intl does not know is written before the number (`XYZ 12.34`). */
export function money(v: number, currency: string | null): string {
  if (!currency) return num(v, 2);
  try {
    return new Intl.NumberFormat(locale(), {
      style: "currency",
      currency,
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    }).format(v);
  } catch {
    return `${currency} ${num(v, 2)}`;
  }
}
