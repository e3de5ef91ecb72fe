#!/bin/sh
# bench/compare_models.sh - `cnn bench models` against PyTorch 1.13
# (bench/peer_torch_models.py) on the same models, batches and threads,
# their samples interleaved by bench/compare_models.py. Results go to OUT
# (default bench-results/models/): cnn.json, torch.json, samples.csv,
# cnn.txt, torch.txt and compare.md.
#
#   bench/compare_models.sh [--cnn PATH] [--threads T] [--models LIST]
#                           [--batch N] [--samples S] [--warmup W] [--out DIR]
#
# --cnn defaults to build/bin/cnn under the repository, else `cnn` on PATH;
# --threads to the number of CPUs (both sides also get OMP_NUM_THREADS and
# OPENBLAS_NUM_THREADS = T).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cnn=""
threads=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
out=bench-results/models
set -- "$@" --end-of-options
while [ "$1" != --end-of-options ]; do
    case "$1" in
    --cnn) cnn=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --models|--batch|--samples|--warmup|--min-ms)
        set -- "$@" "$1" "$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "compare_models.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
shift
if [ -z "$cnn" ]; then
    if [ -x "$root/build/bin/cnn" ]; then cnn=$root/build/bin/cnn
    else cnn=$(command -v cnn || true); fi
fi
if [ -z "$cnn" ] || [ ! -x "$cnn" ]; then
    echo "compare_models.sh: no cnn program; build it or pass --cnn PATH" >&2
    exit 2
fi
start=$(date +%s)
status=0
/usr/bin/python3 "$here/compare_models.py" --cnn "$cnn" \
    --threads "$threads" --out "$out" "$@" || status=$?
echo "compare_models.sh: $(( $(date +%s) - start )) s; results in $out/"
exit $status
