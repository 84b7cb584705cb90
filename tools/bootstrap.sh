#!/usr/bin/env bash
# Shared by tools/run and tools/test: install missing Debian packages, then configure and build.
# Usage: source tools/bootstrap.sh; trainsim_bootstrap [BUILD_DIR] [BUILD_TYPE]
set -euo pipefail

TRAINSIM_PACKAGES=(cmake g++ make pkg-config python3 libsimgrid-dev libboost-graph-dev nlohmann-json3-dev
                   libspdlog-dev catch2 libcli11-dev ccache)

trainsim_missing_packages() {
  local missing=()
  for p in "${TRAINSIM_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  echo "${missing[@]:-}"
}

trainsim_install() {
  local missing
  missing=$(trainsim_missing_packages)
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "trainsim: missing Debian packages. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y $missing" >&2
    exit 2
  fi
  echo "trainsim: installing $missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# A compiler cache shared by every clone on this machine: paths under the clone are hashed relative to it.
trainsim_ccache_env() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
  export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
  export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-time_macros,include_file_mtime,include_file_ctime}
  export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
}

trainsim_build() {
  local dir=${1:-build} type=${2:-Release}
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  trainsim_ccache_env
  cmake -S "$root" -B "$root/$dir" -DCMAKE_BUILD_TYPE="$type" >/dev/null
  cmake --build "$root/$dir" -j"$(nproc)" >&2
}

trainsim_bootstrap() {
  trainsim_install
  trainsim_build "$@"
}
