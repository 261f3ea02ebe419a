#!/usr/bin/env bash
# Creates .venv (git-ignored) with the pinned Python clients of scripts/requirements.txt:
# the official MCP SDK, openapi-spec-validator, jsonschema and the OpenTelemetry SDK. Idempotent: when .venv holds
# exactly these requirements (stamped by their sha256) nothing is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=".venv/.requirements.sha256"
want="$(sha256sum scripts/requirements.txt | cut -d' ' -f1)"
if [[ -x .venv/bin/python && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
if ! python3 -m venv .venv 2>/dev/null; then
  # Debian ships venv's ensurepip separately.
  if command -v apt-get >/dev/null 2>&1; then
    sudo -n apt-get install -y -q python3-venv >/dev/null 2>&1 || apt-get install -y -q python3-venv >/dev/null
  fi
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements.txt
echo "$want" > "$stamp"
