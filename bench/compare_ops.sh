#!/bin/sh
# bench/compare_ops.sh - runs `cnn bench ops` and bench/peer_torch.py on the
# same cases and thread count, one after the other, and prints them side by
# side (bench/compare_ops.py). Results go to OUT (default bench-results/):
# cnn.json, cnn.csv, torch.json, compare.txt and compare.md.
#
#   bench/compare_ops.sh [--cnn PATH] [--threads T] [--repeat R] [--quick]
#                        [--filter LIST] [--out DIR]
#
# --cnn defaults to build/bin/cnn under the repository, else `cnn` on PATH;
# --threads to the number of CPUs. Both sides get OMP_NUM_THREADS and
# OPENBLAS_NUM_THREADS = T as well, so no library under them uses more.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cnn=""
threads=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
repeat=5
quick=""
filter=""
out=bench-results
while [ $# -gt 0 ]; do
    case "$1" in
    --cnn) cnn=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --quick) quick=--quick; shift ;;
    --filter) filter=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "compare_ops.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
if [ -z "$cnn" ]; then
    if [ -x "$root/build/bin/cnn" ]; then cnn=$root/build/bin/cnn
    else cnn=$(command -v cnn || true); fi
fi
if [ -z "$cnn" ] || [ ! -x "$cnn" ]; then
    echo "compare_ops.sh: no cnn program; build it or pass --cnn PATH" >&2
    exit 2
fi
mkdir -p "$out"
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"
start=$(date +%s)
set -- --threads "$threads" --repeat "$repeat" $quick
[ -n "$filter" ] && set -- "$@" --filter "$filter"
status=0
"$cnn" bench ops "$@" --json "$out/cnn.json" --csv "$out/cnn.csv" || status=$?
/usr/bin/python3 "$here/peer_torch.py" "$@" --json "$out/torch.json"
echo
/usr/bin/python3 "$here/compare_ops.py" "$out/cnn.json" "$out/torch.json" \
    --markdown "$out/compare.md" | tee "$out/compare.txt"
echo
echo "compare_ops.sh: $(( $(date +%s) - start )) s; results in $out/"
exit $status
