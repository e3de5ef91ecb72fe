#!/usr/bin/env bash
# scripts/main.sh - the main job: set up, build, and run cnn on the best
# device present. Until training lands this prints what cnn found (`cnn
# info`) and runs the tensor example there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build_dir=${BUILD_DIR:-$root/build}
"$build_dir/bin/cnn" info
echo
"$build_dir/bin/tensor_basics" auto
