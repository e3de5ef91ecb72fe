#!/usr/bin/env bash
# scripts/main.sh - the main job: set up, build, and train the small net on
# Fashion-MNIST on the best device present (a GPU if there is one, else the
# CPU). Metrics, the plot and the checkpoint go to runs/small/. Extra
# arguments go to `cnn train` (e.g. --epochs 5).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build_dir=${BUILD_DIR:-$root/build}
cd "$root"
"$build_dir/bin/cnn" info | sed -n '/== devices ==/,$p'
echo
exec "$build_dir/bin/cnn" train --model small --device auto --out runs/small "$@"
