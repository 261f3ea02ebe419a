#!/usr/bin/env bash
# What the portal's browser test needs (tests/it/portal.rs), idempotent and fast when
# present: headless Chromium and chromedriver from Debian's packages (apt-get, as root or
# with passwordless sudo), node and npm, and the pinned npm packages of
# tests/browser/package-lock.json (playwright-core, which drives the Debian Chromium, and
# axe-core) in tests/browser/node_modules (git-ignored), stamped by the lock's sha256.
set -euo pipefail
cd "$(dirname "$0")/.."
apt_install() {
  local sudo=""
  [[ "$(id -u)" -ne 0 ]] && sudo="sudo -n"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "scripts/browser.sh: install $* (no apt-get here)" >&2
    exit 2
  fi
  $sudo apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$@" >/dev/null
}
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  apt_install chromium chromium-driver
fi
if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
stamp="tests/browser/node_modules/.lock.sha256"
want="$(sha256sum tests/browser/package-lock.json | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
npm ci --prefix tests/browser --no-audit --no-fund --silent
echo "$want" > "$stamp"
