#!/usr/bin/env bash
# scripts/cudnn_deprecations.sh - how much of cuDNN's legacy API, deprecated
# in cuDNN 9, the vendor engine still uses. Compiles each src/cuda/*_cudnn.cu
# (the only files allowed to use it, DESIGN.md) once more with cuDNN's
# deprecation attributes turned on (CUDNN_WARN_DEPRECATED, read by
# cudnn_graph.h), as warnings, never errors, and counts them: each
# deprecated name used at one place in our sources counts once, headers such
# as vendor_cudnn.cuh once however many files include them.
#
#   scripts/cudnn_deprecations.sh
#
# Environment: NVCC (default: nvcc on PATH, else /usr/local/cuda/bin/nvcc),
# CUDNN_INCLUDE_DIR (default: the toolkit's include folder, else
# /usr/include), CUDAARCHS (default 90). Prints
#   cuDNN deprecated API uses: N (per file: a_cudnn.cu n, ...)
# and exits 0 (also when cuDNN is absent: nothing to count), or non-zero
# when a file does not compile.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
if [[ ! -x "$nvcc" ]]; then
  echo "cudnn_deprecations: nvcc not found (set NVCC)" >&2
  exit 1
fi
toolkit_include=$(cd "$(dirname "$nvcc")/../include" && pwd)
include=${CUDNN_INCLUDE_DIR:-}
if [[ -z "$include" ]]; then
  for dir in "$toolkit_include" /usr/include /usr/include/x86_64-linux-gnu; do
    [[ -f "$dir/cudnn.h" ]] && { include=$dir; break; }
  done
fi
if [[ -z "$include" ]]; then
  # No cuDNN, no *_cudnn.cu in the build (src/cuda/CMakeLists.txt): nothing
  # to count, and nothing wrong.
  echo "cuDNN deprecated API uses: not counted (cudnn.h not found; set" \
       "CUDNN_INCLUDE_DIR)"
  exit 0
fi
arch=${CUDAARCHS:-90}
arch=${arch%%;*}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
for src in src/cuda/*_cudnn.cu; do
  log="$work/$(basename "$src").log"
  # The module's include folders and definitions (src/cuda/CMakeLists.txt).
  if ! "$nvcc" -c -std=c++17 -arch="sm_$arch" -I include -I src \
       -isystem "$toolkit_include" -isystem "$include" -DCNN_HAVE_CUDNN \
       -DCUDNN_WARN_DEPRECATED -Xcompiler=-Wdeprecated-declarations \
       "$src" -o "$work/$(basename "$src").o" >"$log" 2>&1; then
    echo "cudnn_deprecations: $src does not compile:" >&2
    cat "$log" >&2
    status=1
  fi
done
[[ $status -eq 0 ]] || exit $status

# One line per warning: "path:line:col: warning: 'name' is deprecated".
# Locations repeat when several files include one header: keep each once.
cat "$work"/*.log |
  grep -E '^[^ :]+:[0-9]+:[0-9]+: warning: .*deprecated' |
  sed -E 's/^([^:]+:[0-9]+:[0-9]+): warning: (.*)$/\1 \2/' |
  sort -u >"$work/uses" || true
total=$(wc -l <"$work/uses")
per_file=$(cut -d: -f1 "$work/uses" | sed 's|.*/||' | sort | uniq -c |
           awk '{printf "%s%s %s", sep, $2, $1; sep=", "}')
echo "cuDNN deprecated API uses: $total (per file: ${per_file:-none})"
