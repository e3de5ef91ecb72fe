#!/usr/bin/env bash
# scripts/setup.sh - installs what a fresh Debian 12 machine lacks to build
# and test cnn (never the CUDA toolkit: CUDA is used when it is already
# there), then configures and builds into BUILD_DIR (default: build).
#
#   scripts/setup.sh [--deps-only]
#
# Environment: BUILD_DIR, BUILD_TYPE (Release), CNN_CMAKE_ARGS (extra cmake
# arguments, e.g. "-DCNN_WERROR=ON"), JOBS (parallel build jobs).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
packages=(build-essential cmake pkg-config check libopenblas-openmp-dev zlib1g-dev
          libjpeg62-turbo-dev libturbojpeg0-dev libpng-dev clang libclang-rt-14-dev
          dataset-fashion-mnist python3 gnuplot-nox)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || {
      echo "setup: need root (or sudo) to apt-get install ${missing[*]}" >&2
      exit 1
    }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[[ "${1:-}" == "--deps-only" ]] && exit 0

build_dir=${BUILD_DIR:-$root/build}
read -r -a extra <<<"${CNN_CMAKE_ARGS:-}"
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" \
  "${extra[@]}"
cmake --build "$build_dir" --parallel "${JOBS:-$(nproc)}"
