#!/usr/bin/env bash
# The HTML reports in a real browser: headless Chromium (Debian's `chromium`
# package, installed when missing) opens the incident's run report and a
# compare report and tests/browser/check.py checks them over the DevTools
# protocol (no network request, no console error, the summary table against
# summary.json, every plot drawn, no sideways scrolling at 1280 and 390 px)
# and writes screenshots at both widths to target/report-shots/.
#
# Usage: tests/browser/run.sh
# Env:   SURGESIM=path/to/binary   (default: target/release/surgesim, built if missing)
#        CHROMIUM=path/to/chromium (default: chromium on PATH)
# Exit:  0 all checks passed; 1 a check failed or Chromium could not be installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
note() { echo "browser: $*"; }

CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
if [ -z "$CHROMIUM" ]; then
  note "installing chromium"
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    note "chromium is missing and cannot be installed here (needs root and apt-get)"
    note "0 passed, 1 failed"
    exit 1
  fi
  apt_log=$(mktemp)
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get -o DPkg::Lock::Timeout=600 update >"$apt_log" 2>&1 &&
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium fonts-dejavu-core >>"$apt_log" 2>&1; }; then
    tail -n 20 "$apt_log"
    rm -f "$apt_log"
    note "apt-get install chromium failed"
    note "0 passed, 1 failed"
    exit 1
  fi
  rm -f "$apt_log"
  CHROMIUM=$(command -v chromium)
fi
"$CHROMIUM" --version 2>/dev/null || true

BIN=${SURGESIM:-$ROOT/target/release/surgesim}
if [ ! -x "$BIN" ]; then
  note "building $BIN"
  cargo build --release --locked -q
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/surgesim-browser.XXXXXX")
trap 'rm -rf "$T"' EXIT
"$BIN" run scenarios/incident-2025-07-25.toml -r 20 --report --out "$T/incident" >/dev/null
"$BIN" compare scenarios/incident-2025-07-25.toml scenarios/incident-2025-07-25/*.toml -r 5 \
  --report --out "$T/compare" >/dev/null

SHOTS=$ROOT/target/report-shots
rm -rf "$SHOTS"
python3 tests/browser/check.py "$CHROMIUM" "$SHOTS" run:"$T/incident" compare:"$T/compare"
