#!/usr/bin/env bash
# Builds and starts the Hearth desktop app. With no meter configured yet, the app starts on
# its built-in demo meter; the first-run wizard lets you pick your real meter.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --release --locked -p hearth-desktop
exec "$CARGO_TARGET_DIR/release/hearth-desktop" "$@"
