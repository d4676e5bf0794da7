#!/usr/bin/env bash
# Builds Hearth's Debian package: the desktop app and, beside it, the `hearth` command line
# (installed as /usr/bin/hearth; tauri.conf.json maps it from src-tauri/cli-stage/). Offline:
# everything comes from the crates and npm registries scripts/setup.sh already reaches.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --locked --release -p hearth-cli
mkdir -p src-tauri/cli-stage
install -m 0755 "$CARGO_TARGET_DIR/release/hearth" src-tauri/cli-stage/hearth
(cd src-tauri && npx --yes @tauri-apps/cli@^2 build --bundles deb)
deb="$(ls -t "$CARGO_TARGET_DIR"/release/bundle/deb/*.deb | head -n 1)"
# The package must hold both programs.
listing="$(dpkg-deb -c "$deb")"   # read whole: grep -q ending early must not fail the pipe
for bin in hearth hearth-desktop; do
  grep -Eq " (\./)?usr/bin/$bin\$" <<<"$listing" || { echo "no /usr/bin/$bin in $deb" >&2; exit 1; }
done
echo "$deb"
