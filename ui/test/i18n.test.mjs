// Every language is complete: the same keys as English, no empty text, the same {placeholders},
// every key index.html names exists, and the system's languages pick the right one.
// Runs on the built dist/js (`npm test` builds first) with Node's own test runner.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TABLES, LANG_NAMES, resolve, fromLocale, setLanguage, t, plural, money, num, locale } from "../dist/js/i18n.js";

const here = dirname(fileURLToPath(import.meta.url));
const en = TABLES.en;
const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test("eight languages, each named in its own words", () => {
  assert.deepEqual(Object.keys(TABLES).sort(), ["da", "de", "en", "fi", "fr", "nb", "nl", "sv"]);
  assert.deepEqual(Object.keys(LANG_NAMES).sort(), Object.keys(TABLES).sort());
  assert.equal(LANG_NAMES.fr, "Français");
  assert.equal(LANG_NAMES.nb, "Norsk bokmål");
  assert.equal(LANG_NAMES.fi, "Suomi");
});

for (const [code, table] of Object.entries(TABLES)) {
  test(`${code}: exactly English's keys, none empty, the same placeholders`, () => {
    const missing = Object.keys(en).filter((k) => !(k in table));
    const extra = Object.keys(table).filter((k) => !(k in en));
    assert.deepEqual(missing, [], `${code} lacks keys`);
    assert.deepEqual(extra, [], `${code} has keys English does not`);
    for (const [k, text] of Object.entries(table)) {
      assert.equal(typeof text, "string", `${code} ${k}`);
      assert.notEqual(text.trim(), "", `${code} ${k} is empty`);
      assert.deepEqual(placeholders(text), placeholders(en[k]), `${code} ${k}: placeholders differ from English`);
      // Texts glued to others (" (yours)", " No readings…") keep English's leading space.
      assert.equal(/^\s/.test(text), /^\s/.test(en[k]), `${code} ${k}: leading space differs from English`);
    }
  });
}

test("every plural has its .one and .other", () => {
  for (const k of Object.keys(en).filter((k) => k.endsWith(".one"))) {
    assert.ok(`${k.slice(0, -4)}.other` in en, k);
  }
});

test("every key index.html names exists", () => {
  const html = readFileSync(join(here, "..", "static", "index.html"), "utf8");
  const keys = [...html.matchAll(/data-i18n(?:-aria|-placeholder)?="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(keys.length > 100, `only ${keys.length} keys found`);
  const unknown = keys.filter((k) => !(k in en));
  assert.deepEqual(unknown, []);
});

test("the system's languages choose at first start", () => {
  const cases = [
    [["nb-NO"], "nb"],
    [["no"], "nb"],
    [["nn-NO"], "nb"],
    [["nb_NO.UTF-8"], "nb"],
    [["fr-BE"], "fr"],
    [["fr-LU"], "fr"],
    [["fr-CH"], "fr"],
    [["fr"], "fr"],
    [["sv-FI"], "sv"],
    [["fi-FI"], "fi"],
    [["da-DK"], "da"],
    [["de-AT"], "de"],
    [["nl-BE"], "nl"],
    [["en-US"], "en"],
    [["pt-BR"], "en"],
    [["pt-BR", "sv-SE", "en"], "sv"],
    [[], "en"],
  ];
  for (const [system, want] of cases) assert.equal(resolve("", system), want, JSON.stringify(system));
  // A saved choice wins over the system; an unknown saved value follows the system.
  assert.equal(resolve("da", ["fr-BE"]), "da");
  assert.equal(resolve("xx", ["fi-FI"]), "fi");
  assert.equal(fromLocale("es-ES"), null);
});

test("messages, plurals, numbers and money in the chosen language", () => {
  setLanguage("fr");
  assert.equal(t("now.frames", { accepted: 3, rejected: 0 }), "3 télégrammes lus, 0 rejetés");
  assert.equal(plural("strength.short", 1), "Trop court : il manque 1 caractère.");
  assert.equal(plural("strength.short", 3), "Trop court : il manque 3 caractères.");
  assert.equal(plural("now.kind.voltage", 0), "0 tensions");
  setLanguage("en");
  assert.equal(plural("now.kind.voltage", 0), "0 voltages");
  assert.equal(plural("now.kind.voltage", 1), "1 voltage");
  setLanguage("fi");
  assert.equal(plural("tips.count", 2), "2 vinkkiä omista lukemistasi.");
  // Intl in the language's locale (when the system speaks another one): Finnish groups with a
  // narrow no-break space and writes a decimal comma.
  if (fromLocale(globalThis.navigator?.language ?? "") !== "fi") {
    assert.equal(locale(), "fi-FI");
    // (Spaces are matched loosely: ICU versions differ between no-break and narrow ones.)
    assert.match(num(1234.5, 1), /^1\s234,5$/u);
    setLanguage("sv");
    assert.match(money(12.5, "SEK"), /^12,50\skr$/u);
    setLanguage("nb");
    assert.match(money(12.5, "NOK"), /^(12,50\skr|kr\s12,50)$/u);
    setLanguage("da");
    assert.match(money(12.5, "DKK"), /^12,50\skr\.$/u);
    setLanguage("fr");
    assert.match(money(12.5, "EUR"), /^12,50\s€$/u);
    // The currency is the contract's: Norwegian kroner stay kroner in French.
    assert.match(money(12.5, "NOK"), /^12,50\sNOK$/u);
    setLanguage("en");
    assert.equal(money(1438, "EUR"), "€1,438.00");
  }
  setLanguage("en");
  assert.equal(money(3, null), num(3, 2));
});
