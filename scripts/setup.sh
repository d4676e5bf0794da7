#!/usr/bin/env bash
# Installs what building and testing Hearth needs on Debian/Ubuntu, idempotently:
# the system libraries Tauri links (WebKitGTK 4.1), Xvfb and WebKitWebDriver for the
# end-to-end suite, socat for pseudo-terminal meters, mosquitto (a real MQTT broker for the
# UK source tests), gnome-keyring + dbus (a real Secret Service for the OS keyring tests),
# libdbus (the keyring crate talks D-Bus), libfaketime (the end-to-end suite runs the app at a
# Monday 00:30 and a Sunday 23:50), and tauri-driver.
# Sourced by run-app.sh and test.sh; safe to run again (it skips what is there).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PKGS="build-essential pkg-config curl libssl-dev libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev
      libjavascriptcoregtk-4.1-dev librsvg2-dev libayatana-appindicator3-dev libudev-dev
      xvfb xauth x11-utils webkit2gtk-driver socat imagemagick strace mosquitto mosquitto-clients openssl python3
      libdbus-1-dev dbus-daemon gnome-keyring faketime"
# shellcheck disable=SC2086
if ! dpkg -s $PKGS >/dev/null 2>&1; then
  echo "hearth: installing system packages (once)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -q --no-install-recommends $PKGS
fi

if ! command -v cargo >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/cargo" ]; then
  echo "hearth: installing the Rust toolchain (rustup, once)…" >&2
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
fi
# Binaries `cargo install` puts in CARGO_HOME (tauri-driver) are found wherever CARGO_HOME is.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$HOME/.cargo/bin:$PATH"

if ! command -v npm >/dev/null 2>&1; then
  echo "hearth: installing Node.js for the front-end build (once)…" >&2
  $SUDO apt-get install -y -q --no-install-recommends nodejs npm
fi
# The front end: TypeScript compiled by the pinned tsc into ui/dist, which the app embeds.
# (axe-core too: the end-to-end suite injects it to check accessibility.)
if [ ! -x ui/node_modules/.bin/tsc ] || [ ! -f ui/node_modules/axe-core/axe.min.js ]; then
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi
(cd ui && npm run --silent build >&2)

# Build output lives outside the clone so repeated runs are warm.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hearth-target}"
