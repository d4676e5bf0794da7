// Builds the front end into dist/: copies static/ and compiles src/*.ts with tsc.
// Plain Node stdlib plus the pinned TypeScript compiler; no bundler, works offline.
import { cpSync, rmSync, mkdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
cpSync(join(here, "static"), dist, { recursive: true });
execFileSync(process.execPath, [join(here, "node_modules", "typescript", "bin", "tsc"), "-p", here], {
  stdio: "inherit",
});
console.log("ui: built dist/");
