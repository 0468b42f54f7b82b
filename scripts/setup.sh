#!/usr/bin/env bash
# Prepares a Debian 12 machine for building and testing Reclaim.
#
# Installs the Debian packages the project needs (skipping those present),
# unpacks Dear ImGui's sources from Debian's source package into
# third_party-build/ (outside git), installs the pinned npm packages for the
# browser tests and configures the native and WebAssembly builds.
# Running it again does only what is missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
deps="$root/.deps"
packages=(
  build-essential cmake pkg-config git ca-certificates xz-utils
  emscripten nodejs npm
  libimgui-dev libcpp-httplib-dev nlohmann-json3-dev libsqlite3-dev sqlite3
  doctest-dev libgmime-3.0-dev libcurl4-openssl-dev libssl-dev
  libspdlog-dev libcli11-dev dovecot-imapd chromium fonts-dejavu-core curl wrk
)

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_update_once() {
  if [[ $apt_updated -eq 0 ]]; then
    as_root apt-get update -q
    apt_updated=1
  fi
}

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    # nodejs may come from another repository, so a working node counts.
    if [[ $p == nodejs || $p == npm ]] && command -v "${p/nodejs/node}" >/dev/null; then
      continue
    fi
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    echo "setup: all Debian packages present"
    return
  fi
  echo "setup: installing ${missing[*]}"
  apt_update_once
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Adds deb-src entries that mirror the configured deb entries, so that
# `apt-get source` can fetch imgui from the same mirror and suite.
enable_deb_src() {
  local list=/etc/apt/sources.list.d/reclaim-deb-src.sources
  [[ -f $list ]] && return
  local tmp
  tmp=$(mktemp)
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk 'BEGIN { RS = ""; ORS = "\n\n" }
         /(^|\n)Types:[^\n]*deb/ && !/deb-src/ { sub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f" >>"$tmp"
  done
  if [[ -f /etc/apt/sources.list ]]; then
    local legacy
    legacy=$(grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' || true)
    if [[ -n $legacy ]]; then
      echo "$legacy" | as_root tee /etc/apt/sources.list.d/reclaim-deb-src.list >/dev/null
    fi
  fi
  as_root cp "$tmp" "$list"
  rm -f "$tmp"
  apt_updated=0
}

fetch_imgui_sources() {
  local dest="$deps/imgui"
  if [[ -f $dest/imgui.cpp && -f $dest/backends/imgui_impl_glfw.cpp ]]; then
    echo "setup: Dear ImGui sources present in $dest"
    return
  fi
  enable_deb_src
  apt_update_once
  local work
  work=$(mktemp -d)
  (cd "$work" && apt-get source --download-only imgui >/dev/null)
  local tarball
  tarball=$(ls "$work"/imgui_*.orig.tar.* | head -n 1)
  rm -rf "$dest"
  mkdir -p "$dest"
  tar -xf "$tarball" -C "$dest" --strip-components=1
  rm -rf "$work"
  echo "setup: Dear ImGui sources unpacked into $dest"
}

install_npm_packages() {
  if [[ -d $root/tests/browser/node_modules/playwright-core ]]; then
    echo "setup: npm packages present"
    return
  fi
  if [[ -f $root/tests/browser/package-lock.json ]]; then
    (cd "$root/tests/browser" && npm ci --no-audit --no-fund)
  fi
}

configure_builds() {
  cmake -S "$root" -B "$root/build/native" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  export NODE_PATH=/usr/share/nodejs
  emcmake cmake -S "$root" -B "$root/build/wasm" -DCMAKE_BUILD_TYPE=Release \
    -DRECLAIM_IMGUI_DIR="$deps/imgui" >/dev/null
  echo "setup: configured build/native and build/wasm"
}

install_packages
fetch_imgui_sources
install_npm_packages
configure_builds
