#!/usr/bin/env bash
# The clients no one here wrote, for the contract tests: Stoplight Prism (a validating proxy), openapi-typescript +
# openapi-fetch + TypeScript (a generated client type-checked with tsc --strict). Installed from npm into .local/npm
# (ignored by git), pinned; a second run reuses them. Prints the folder. Fails loudly when npm cannot install them.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${NPM_TOOLS_DIR:-$(pwd)/.local/npm}
PACKAGES=(@stoplight/prism-cli@5.16.0 openapi-typescript@7.13.0 typescript@5.9.3 openapi-fetch@0.17.0)
STAMP="$PREFIX/.installed"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "${PACKAGES[*]}" ] && [ -x "$PREFIX/node_modules/.bin/prism" ]; then
  echo "$PREFIX"; exit 0
fi
command -v npm >/dev/null || { echo "npm is missing: install Node.js 20 and npm (apt-get install -y nodejs npm)" >&2; exit 1; }
mkdir -p "$PREFIX"
[ -f "$PREFIX/package.json" ] || echo '{"name": "content-planning-contract-tools", "private": true}' > "$PREFIX/package.json"
npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "${PACKAGES[@]}" >&2
echo "${PACKAGES[*]}" > "$STAMP"
echo "$PREFIX"
