// Number and time formatting for display, in the chosen language's locale (no rounding surprises).

import { locale, num, timeOfDay } from "./i18n.js";

/** Watts as `1 234 W` or `12.3 kW` (above 10 kW). */
export function watts(w: number | null): string {
  if (w === null || !Number.isFinite(w)) return "–";
  if (Math.abs(w) >= 10000) return `${(w / 1000).toLocaleString(locale(), { maximumFractionDigits: 1 })} kW`;
  return `${num(Math.round(w))} W`;
}

/** A value with a fixed number of decimals and a unit, or a dash when absent. */
export function fixed(v: number | null, decimals: number, unit: string): string {
  if (v === null || !Number.isFinite(v)) return "–";
  return `${num(v, decimals)} ${unit}`;
}

/** Local wall-clock time of an RFC 3339 string (`14:05:09`). */
export function clock(rfc3339: string | null): string {
  if (!rfc3339) return "–";
  const d = new Date(rfc3339);
  return Number.isNaN(d.getTime()) ? "–" : timeOfDay(d);
}
