#!/usr/bin/env bash
# Builds and starts the Hearth desktop app. Until a meter is set up (no vault yet), it starts
# on the built-in demo meter with a throwaway data directory; `--setup` opens the first-run
# wizard instead (passphrase, your meter, tariffs). Any other arguments go to the app.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --release --locked -p hearth-desktop
VAULT="${XDG_DATA_HOME:-$HOME/.local/share}/hearth/vault.hearth"
if [ "$#" -eq 0 ] && [ ! -e "$VAULT" ]; then
  echo "hearth: no meter set up yet, so Hearth starts on its built-in demo meter." >&2
  echo "hearth: to set up your own meter: bash scripts/run-app.sh --setup" >&2
  set -- --demo
fi
exec "$CARGO_TARGET_DIR/release/hearth-desktop" "$@"
