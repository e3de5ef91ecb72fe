#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS [TARGET...]] - builds the libFuzzer targets in
# fuzz/ with clang (address and undefined sanitizers) and runs each for
# SECONDS (default 60) from the committed seed corpus (fuzz/corpus/TARGET),
# one after the other. Fails when a target finds a crash, a leak, undefined
# behaviour, a timeout or an out-of-memory; the input is left in
# FUZZ_DIR/artifacts/ (FUZZ_DIR default build-fuzz/) to reproduce with
# FUZZ_DIR/bin/TARGET FILE.
#
# Environment: FUZZ_DIR (build and work folder), FUZZ_JOBS (build jobs),
# FUZZ_FLAGS (extra libFuzzer flags). Needs clang and libclang-rt-14-dev
# (Debian), which scripts/setup.sh installs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_idx fuzz_cifar fuzz_image fuzz_checkpoint fuzz_list)
dir=${FUZZ_DIR:-$root/build-fuzz}
read -r -a extra <<<"${FUZZ_FLAGS:-}"

command -v clang >/dev/null || {
  echo "fuzz: clang is missing (Debian: apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
}
mkdir -p "$dir"
CC=clang CXX=clang++ cmake -S "$root" -B "$dir" -DCNN_FUZZ=ON -DCNN_CUDA=OFF \
  -DCNN_BUILD_TESTS=OFF -DCNN_BUILD_EXAMPLES=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$dir/configure.log" 2>&1 || {
  cat "$dir/configure.log" >&2
  exit 1
}
cmake --build "$dir" --parallel "${FUZZ_JOBS:-$(nproc)}" --target "${targets[@]}"

mkdir -p "$dir/artifacts"
status=0
for t in "${targets[@]}"; do
  # A working corpus that grows across runs; the committed seeds stay as
  # they are (libFuzzer writes new inputs into the first folder only).
  work="$dir/corpus/$t"
  mkdir -p "$work"
  echo "=== $t for $seconds s"
  if ! "$dir/bin/$t" -max_total_time="$seconds" -timeout=30 \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$dir/artifacts/$t-" "${extra[@]}" \
      "$work" "$root/fuzz/corpus/$t" 2>"$dir/$t.log"; then
    echo "fuzz: $t failed; the input is in $dir/artifacts/, the log in $dir/$t.log" >&2
    tail -n 40 "$dir/$t.log" >&2
    status=1
  fi
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+.*DONE" \
    "$dir/$t.log" || true
done
exit $status
