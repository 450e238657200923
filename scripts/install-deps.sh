#!/usr/bin/env bash
# Installs everything Cairn needs to build and test, from Debian 12 packages and the npm registry.
# Idempotent: safe to run again; installs only what is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsodium-dev libsecp256k1-dev libb2-dev libsqlite3-dev sqlite3 libpq-dev
  libexpected-dev libtomlplusplus-dev libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev clang-format-14 clang-tidy-14 python3
  nodejs npm
  openssl wrk nginx-light
)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# nodejs/npm may come from elsewhere (a machine image with its own Node): accept any node >= 20.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
filtered=()
for p in "${missing[@]}"; do [ -n "$p" ] && filtered+=("$p"); done
if [ ${#filtered[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${filtered[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo
  $sudo_cmd apt-get update -qq || true
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${filtered[@]}"
fi

# npm peers for interop tests (exact versions in tests/interop/package.json).
if [ -f "$here/tests/interop/package.json" ] && [ "${CAIRN_SKIP_NPM:-0}" != 1 ]; then
  cd "$here/tests/interop"
  if [ ! -d node_modules ] || [ package.json -nt node_modules/.installed ]; then
    echo "install-deps: npm install in tests/interop"
    npm install --no-audit --no-fund --ignore-scripts --loglevel=error
    touch node_modules/.installed
  fi
fi

# The Filecoin devnet's own npm packages (exact versions in devnet/package.json).
if [ -f "$here/devnet/package.json" ] && [ "${CAIRN_SKIP_NPM:-0}" != 1 ]; then
  cd "$here/devnet"
  if [ ! -d node_modules ] || [ package.json -nt node_modules/.installed ]; then
    echo "install-deps: npm install in devnet"
    npm install --no-audit --no-fund --ignore-scripts --loglevel=error
    touch node_modules/.installed
  fi
fi
