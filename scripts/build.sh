#!/usr/bin/env bash
# Builds the native and the WebAssembly trees configured by scripts/setup.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${RECLAIM_JOBS:-$(nproc)}
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}

cmake --build "$root/build/native" -j "$jobs"
cmake --build "$root/build/wasm" -j "$jobs"
