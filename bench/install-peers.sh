#!/usr/bin/env bash
# Installs the optional peers `npm run bench` compares against. Never run in CI: the bench
# skips a missing peer and says why. Debian: golang-jwt's `jwt` CLI and openssl; npm: jwtgen,
# into its own prefix (default ~/.cache/chatid-bench-peers, or BENCH_PEERS_DIR), not the project.
set -euo pipefail
dir="${BENCH_PEERS_DIR:-$HOME/.cache/chatid-bench-peers}"
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get install -y -qq jwt openssl >/dev/null
else
  echo "skipping Debian peers (need root and apt-get): apt-get install jwt openssl" >&2
fi
mkdir -p "$dir"
npm install --prefix "$dir" --no-audit --no-fund jwtgen@2 >/dev/null
echo "peers ready: $(command -v jwt || echo 'no jwt'), $(command -v openssl || echo 'no openssl'), $dir/node_modules/.bin/jwtgen"
