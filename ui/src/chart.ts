// Puts an SVG chart rendered by the shell (plotters) into the page.

const parser = new DOMParser();

/** Replaces the content of `host` with the SVG document `svg` (no scripts: it is parsed as XML). */
export function showSvg(host: HTMLElement, svg: string): void {
  const doc = parser.parseFromString(svg, "image/svg+xml");
  const root = doc.documentElement;
  if (root.nodeName !== "svg") return;
  root.setAttribute("role", "img");
  const title = root.querySelector("title")?.textContent ?? "";
  root.setAttribute("aria-label", title);
  root.removeAttribute("width");
  root.removeAttribute("height");
  host.replaceChildren(document.importNode(root, true));
}

/** The pixel size to render a chart for `host` at (at least 320 x 180). */
export function sizeOf(host: HTMLElement): { width: number; height: number } {
  const r = host.getBoundingClientRect();
  return { width: Math.max(320, Math.round(r.width)), height: Math.max(180, Math.round(r.height)) };
}

/** Whether the page is showing the dark theme. */
export function isDark(): boolean {
  return document.documentElement.dataset.theme === "dark";
}
