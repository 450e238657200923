#!/usr/bin/env bash
# Quick start: installs dependencies, builds the release binary and runs `cairn serve` with its
# embedded defaults (repo ./cairn-data, 127.0.0.1:8080). Extra arguments go to `cairn serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build build -j "$(nproc)" --target cairn
exec build/cairn serve --libp2p-allow-private "$@"
