#!/usr/bin/env bash
# scripts/test.sh - set up, build and run every test suite with CTest. GPU
# suites skip (CTest's skip code) on a machine without a usable GPU.
#
#   scripts/test.sh [ctest arguments, e.g. -L cpu]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build_dir=${BUILD_DIR:-$root/build}
cd "$build_dir"
ctest --output-on-failure --parallel "${JOBS:-$(nproc)}" "$@"
