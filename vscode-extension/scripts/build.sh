#!/usr/bin/env bash
# Build the extension: type-check, unit tests (node --test), esbuild bundle into dist/, and a .vsix.
#   scripts/build.sh [--out FILE.vsix] [--skip-tests]
# Needs the npm dependencies (`npm ci` here, or tests/editors/install_tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

out=""
run_tests=1
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        --skip-tests) run_tests=0; shift ;;
        -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

if [ ! -d node_modules/vscode-languageclient ]; then
    echo "build.sh: node_modules missing; run 'npm ci' in vscode-extension/ (or tests/editors/install_tools.sh)" >&2
    exit 2
fi

version=$(node -p "require('./package.json').version")
out="${out:-sophia-artemis-$version.vsix}"

npx --no-install tsc --noEmit -p .
npx --no-install tsc --noEmit -p webview
if [ "$run_tests" = 1 ]; then
    rm -rf out
    npm test --silent
fi
rm -rf dist
npx --no-install esbuild src/extension.ts --bundle --platform=node --format=cjs --target=node18 \
    --external:vscode --minify --sourcemap --log-level=warning --outfile=dist/extension.js
# the graph webview's script, cytoscape included: the page loads nothing from the network
npx --no-install esbuild webview/graph.ts --bundle --platform=browser --format=iife --target=es2020 \
    --minify --log-level=warning --outfile=dist/webview/graph.js
npx --no-install vsce package --no-dependencies --out "$out" > /dev/null
echo "built $out ($(du -k "$out" | cut -f1) KB)"
