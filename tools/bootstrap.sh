#!/usr/bin/env bash
# Shared by tools/run, tools/test, tools/fuzz and .ci/run: install missing Debian packages, then configure and
# build. Sourcing it also sets up the compiler cache (trainsim_ccache_env) for every build of the clone.
# Usage: source tools/bootstrap.sh; trainsim_bootstrap [BUILD_DIR] [BUILD_TYPE [TARGET...]]
set -euo pipefail

TRAINSIM_PACKAGES=(cmake g++ make pkg-config python3 libsimgrid-dev libboost-graph-dev nlohmann-json3-dev
                   libspdlog-dev catch2 libcli11-dev ccache python3-dev pybind11-dev)

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

# trainsim_build [BUILD_DIR [BUILD_TYPE [TARGET...]]]: configure and build (every target by default).
trainsim_build() {
  local dir=${1:-build} type=${2:-Release}
  shift $(($# < 2 ? $# : 2))
  local root targets=()
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  for t in "$@"; do targets+=(--target "$t"); done
  trainsim_ccache_env
  cmake -S "$root" -B "$root/$dir" -DCMAKE_BUILD_TYPE="$type" >/dev/null
  cmake --build "$root/$dir" -j"$(nproc)" "${targets[@]}" >&2
}

trainsim_bootstrap() {
  trainsim_install
  trainsim_build "$@"
}

# trainsim_stage NAME COMMAND...: run COMMAND, print its wall time, and append "NAME<TAB>seconds<TAB>exit code"
# to $TRAINSIM_STAGE_LOG when set (.ci/run prints that table at its end). Returns COMMAND's exit code.
# COMMAND runs in a subshell with `set -e` (a failing step inside a function stops it).
trainsim_stage() {
  local name=$1 start rc=0 errexit=0
  shift
  [[ $- == *e* ]] && errexit=1
  start=$(date +%s.%N)
  set +e
  (
    set -e
    "$@"
  )
  rc=$?
  [ "$errexit" -eq 1 ] && set -e
  local secs
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
  echo "== stage $name: ${secs} s (exit $rc)" >&2
  if [ -n "${TRAINSIM_STAGE_LOG:-}" ]; then printf '%s\t%s\t%s\n' "$name" "$secs" "$rc" >> "$TRAINSIM_STAGE_LOG"; fi
  return "$rc"
}

# trainsim_stage_since NAME START: the same report for a step that began at START (date +%s).
trainsim_stage_since() {
  local secs=$(($(date +%s) - $2))
  echo "== stage $1: ${secs} s" >&2
  if [ -n "${TRAINSIM_STAGE_LOG:-}" ]; then printf '%s\t%s\t0\n' "$1" "$secs" >> "$TRAINSIM_STAGE_LOG"; fi
}

trainsim_ccache_env
