#!/usr/bin/env bash
# Builds and runs every cargo-fuzz target of Hearth (crates/meter/fuzz, crates/vault/fuzz) for
# a short time box each, seeded from the real captures in the crates' tests/fixtures, and
# prints one summary line per target. Exits non-zero on any crash, leak, timeout or
# out-of-memory, leaving the reproducer's path in the output
# (replay it with `<binary> <artifact>` or `cargo fuzz run <target> <artifact>`).
#
#   FUZZ_SECONDS=8    seconds per target (default 8)
#   FUZZ_TARGETS="dsmr sml"  only these targets (default: all)
#   FUZZ_CACHE=~/.cache/hearth-fuzz  corpora, seeds, logs and crash artifacts
#   FUZZ_TARGET_DIR=~/.cache/hearth-fuzz-target  the build cache (both fuzz projects share it)
#   FUZZ_SANITIZER=address  or none: faster builds and runs, no memory-error detection in the
#                           C code linked in (zstd, SQLite); the Rust code is safe either way
#
# Works on a clean clone with no network beyond the crate registry: a stable toolchain with
# RUSTC_BOOTSTRAP=1 accepts the sanitizer flags cargo-fuzz passes; cargo-fuzz is installed
# (pinned) only if missing. Corpora grow in FUZZ_CACHE across runs; seeds are rebuilt from the
# fixtures every run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_EACH=${FUZZ_SECONDS:-8}
CACHE=${FUZZ_CACHE:-$HOME/.cache/hearth-fuzz}
TARGET_DIR=${FUZZ_TARGET_DIR:-$HOME/.cache/hearth-fuzz-target}
SANITIZER=${FUZZ_SANITIZER:-address}
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR=never
mkdir -p "$CACHE/logs"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz 0.13.2"
    cargo install cargo-fuzz --locked --version 0.13.2
fi
HOST=$(rustc -vV | sed -n 's/^host: //p')
BIN=$TARGET_DIR/$HOST/release

# Seeds: the real captures, with the prefix bytes each target reads first (byte 0 = where
# to cut the stream; `glow` also takes a mapping selector), plus the small hand-made seeds
# committed in crates/meter/fuzz/seeds (M-Bus frames, IEC 62056-21 readouts, MQTT lines).
seed() { # seed TARGET PREFIX FILE...
    local target=$1 prefix=$2 f
    shift 2
    mkdir -p "$CACHE/seeds/$target"
    for f in "$@"; do
        [ -f "$f" ] || continue
        { printf "$prefix"; cat "$f"; } >"$CACHE/seeds/$target/$(basename "$f")"
    done
}
make_seeds() {
    local fx=$ROOT/crates/meter/tests/fixtures
    rm -rf "$CACHE/seeds"
    seed dsmr '\x80' "$fx"/dsmr/*.p1 "$fx"/dsmr/*.bin
    seed auto '' "$fx"/dsmr/*.p1 "$fx"/han/*.hdlc "$fx"/sml/*.bin "$fx"/raven/*.xml "$fx"/glow/*.jsonl
    seed glo '' "$fx"/han/*.gcm.hdlc "$fx"/dsmr/*.encrypted.bin
    seed hdlc '\x80' "$fx"/han/*.hdlc
    seed dlms '\x80' "$fx"/han/*.hdlc
    seed sml '\x80' "$fx"/sml/*.bin
    seed raven '\x80' "$fx"/raven/*.xml
    seed glow '\x80\x01' "$fx"/glow/*.jsonl
    seed supplier '' "$fx"/supplier/*.csv "$fx"/supplier/*.xml
    # The vault's decoders: chunks and rollups are not stored as files; the round-trip
    # targets build their own inputs, and the decode target starts from what they find.
    local d
    for d in "$ROOT"/crates/meter/fuzz/seeds/*/; do
        seed "$(basename "$d")" '' "$d"*
    done
}

# project-dir target max_len
TARGETS=(
    "crates/meter/fuzz dsmr 4096"
    "crates/meter/fuzz auto 4096"
    "crates/meter/fuzz glo 1024"
    "crates/meter/fuzz hdlc 4096"
    "crates/meter/fuzz dlms 4096"
    "crates/meter/fuzz mbus 4096"
    "crates/meter/fuzz sml 4096"
    "crates/meter/fuzz iec62056_21 4096"
    "crates/meter/fuzz raven 4096"
    "crates/meter/fuzz glow 4096"
    "crates/meter/fuzz supplier 8192"
    "crates/meter/fuzz pulse 1024"
    "crates/vault/fuzz codec_decode 8192"
    "crates/vault/fuzz codec_round_trip 16384"
    "crates/vault/fuzz sealed 4096"
)

selected() {
    [ -z "${FUZZ_TARGETS:-}" ] && return 0
    local t
    for t in $FUZZ_TARGETS; do [ "$t" = "$1" ] && return 0; done
    return 1
}

# Build each project once (all its targets): release with debug assertions and overflow
# checks, so arithmetic overflow is a crash here as it is in debug builds.
built=""
for line in "${TARGETS[@]}"; do
    read -r dir target _ <<<"$line"
    selected "$target" || continue
    case " $built " in *" $dir "*) continue ;; esac
    echo "fuzz: building $dir"
    (cd "$ROOT/$dir" && cargo fuzz build -O -a -s "$SANITIZER" --target-dir "$TARGET_DIR" >"$CACHE/logs/build.log" 2>&1) || {
        cat "$CACHE/logs/build.log"
        echo "fuzz: build of $dir failed" >&2
        exit 1
    }
    built="$built $dir"
done

make_seeds
failed=0
printf '%-18s %10s %9s %7s %7s %8s  %s\n' target executions exec/s cov ft corpus result
for line in "${TARGETS[@]}"; do
    read -r dir target max_len <<<"$line"
    selected "$target" || continue
    corpus=$CACHE/corpus/$target
    artifacts=$CACHE/artifacts/$target
    log=$CACHE/logs/$target.log
    mkdir -p "$corpus" "$artifacts" "$CACHE/seeds/$target" "$(dirname "$log")"
    set +e
    "$BIN/$target" "$corpus" "$CACHE/seeds/$target" \
        -max_total_time="$SECONDS_EACH" -max_len="$max_len" -timeout=10 \
        -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" </dev/null >"$log" 2>&1
    rc=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    status=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$status")
    if [ "$rc" -eq 0 ]; then
        result=ok
    else
        failed=1
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        result="CRASH (exit $rc) ${artifact:-see $log}"
    fi
    printf '%-18s %10s %9s %7s %7s %8s  %s\n' "$target" "${execs:-?}" "${speed:-?}" \
        "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
    if [ "$rc" -ne 0 ]; then
        grep -E 'panicked at|ERROR: libFuzzer|SUMMARY|^thread' "$log" | head -5 | sed 's/^/    /'
        echo "    reproduce: $BIN/$target $artifact   (log: $log)"
    fi
done
echo "fuzz: ${SECONDS}s in all; $([ "$failed" -eq 0 ] && echo 'no crash' || echo 'CRASHES above')"
exit "$failed"
