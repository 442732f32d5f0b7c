#!/usr/bin/env bash
# The extension's heavy tests, in one go: the webview page in headless Chromium, the suite inside code-server's
# real extension host, and the end-to-end run of the packaged .vsix against the API server (simulated GPUs).
# Installs what they need when it is missing (Chromium from Debian, Node 24 and code-server in a cache folder
# outside the repository). Every step must pass: nothing is skipped.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"

"$here/scripts/install-code-server.sh"
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
test -x "$CHROMIUM_PATH" || { echo "Chromium not found at $CHROMIUM_PATH" >&2; exit 1; }

echo "== package the .vsix"
npm run package

echo "== webview page in Chromium"
npx vitest run --config vitest.config.mts --project webview

echo "== tests inside code-server's extension host"
npx tsx --conditions=source test/e2e/host-tests.mts

echo "== end to end: the .vsix in code-server, generate on a simulated GPU server"
npx tsx --conditions=source test/e2e/ui.mts
