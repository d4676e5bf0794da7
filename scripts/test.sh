#!/usr/bin/env bash
# Runs every Hearth check: formatting, lints, all unit/integration tests, and the end-to-end
# suite that drives the real desktop app through tauri-driver + WebKitWebDriver under Xvfb.
# Needs no meter, no network, no display of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
command -v tauri-driver >/dev/null 2>&1 || cargo install tauri-driver --locked --version '^2'
# Every locked crate's source, for every target: the privacy test resolves the dependency tree
# of each desktop platform (`cargo tree --offline --target ...`), and a fresh CARGO_HOME has only
# what this machine's own builds downloaded. Idempotent and quick once fetched.
cargo fetch --locked

step() { echo; echo "== $* ==" >&2; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --workspace --all-targets -- -D warnings

LOG="$(mktemp -d)"
trap 'rm -rf "$LOG"' EXIT
status=0

step "cargo test --workspace"
cargo test --locked --workspace 2>&1 | tee "$LOG/unit.txt" || status=1

# The window's texts: every language has every key and placeholder (node's own test runner).
step "ui: every language complete (node --test)"
(cd ui && npm test) 2>&1 | tee "$LOG/ui.txt" || status=1

# Every cargo-fuzz target for a short time box (scripts/fuzz.sh; a crash fails the run). Without
# AddressSanitizer here: our code forbids `unsafe`, overflow checks stay on, and it spares CI the
# long sanitized build of the bundled SQLite (long campaigns use FUZZ_SANITIZER=address).
step "fuzz: every target for ${FUZZ_SECONDS:-8} s"
FUZZ_SANITIZER="${FUZZ_SANITIZER:-none}" \
  FUZZ_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/hearth-fuzz-target-ci}" \
  bash scripts/fuzz.sh 2>&1 | tee "$LOG/fuzz.txt" || status=1

step "end-to-end: hearth-desktop under Xvfb"
if cargo build --locked -p hearth-desktop; then
  MESA_SHADER_CACHE_DISABLE=true xvfb-run -a -s "-screen 0 1280x800x24" \
    python3 tests/e2e/run_e2e.py "$CARGO_TARGET_DIR/debug/hearth-desktop" 2>&1 | tee "$LOG/e2e.txt" || status=1
  # The tests whose pages depend on the hour and the day, again with the app's clock at the
  # worst moments: a Monday 00:30 that is also the 1st of a month (the current week, day and
  # month hold half an hour), and a Sunday 23:50 on the last day of a month when Amsterdam
  # leaves summer time that night.
  for clock in "2027-03-01 00:30:00|" "2027-10-31 23:50:00|Europe/Amsterdam"; do
    MESA_SHADER_CACHE_DISABLE=true TZ="${clock#*|}" xvfb-run -a -s "-screen 0 1280x800x24" \
      python3 tests/e2e/run_e2e.py --clock "${clock%|*}" "$CARGO_TARGET_DIR/debug/hearth-desktop" 2>&1 \
      | tee -a "$LOG/e2e.txt" || status=1
  done
else
  status=1
fi

# One line for everything: the sums of every `test result:` line, of the fuzz targets (one
# each) and of the E2E summary.
passed=0; failed=0
while read -r p f; do passed=$((passed + p)); failed=$((failed + f)); done < <(
  sed -n 's/^test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$LOG/unit.txt"
  sed -n 's/^e2e: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$LOG/e2e.txt" 2>/dev/null || true
  sed -n 's/^# pass \([0-9]*\)$/\1 0/p; s/^# fail \([0-9]*\)$/0 \1/p' "$LOG/ui.txt" 2>/dev/null || true
  awk '$NF == "ok" { print 1, 0 } / CRASH / { print 0, 1 }' "$LOG/fuzz.txt" 2>/dev/null || true
)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo
echo "$passed passed, $failed failed"
exit "$status"
