#!/usr/bin/env bash
# tests/cli_interrupt.sh CNN DIR - Ctrl-C during `cnn train`: the program
# saves a checkpoint at the current batch and exits with 130, and a run
# resumed from that checkpoint starts at that batch and finishes.
set -euo pipefail
cnn=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
fail() {
    echo "FAIL: $*" >&2
    cat "$dir/first.txt" >&2 || true
    exit 1
}
common=(--model small --batch 16 --limit-batches 40 --eval-batches 2
        --threads 1 --out "$dir/run")
# Many short epochs, so that the interrupt lands inside training whatever
# the machine's speed.
"$cnn" train "${common[@]}" --epochs 100000 > "$dir/first.txt" 2>&1 &
pid=$!
# The program prints "training ..." once Ctrl-C is handled.
for _ in $(seq 1200); do
    grep -q '^training ' "$dir/first.txt" && break
    kill -0 "$pid" 2> /dev/null || fail "cnn train exited before training"
    sleep 0.1
done
grep -q '^training ' "$dir/first.txt" || fail "no 'training' line in 120 s"
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 130 ] || fail "cnn train exited with $rc after SIGINT, not 130"
line=$(grep '^interrupted at epoch' "$dir/first.txt") ||
    fail "no 'interrupted at epoch' line"
[ -s "$dir/run/model.ckpt" ] || fail "no checkpoint after the interrupt"
[ ! -e "$dir/run/model.ckpt.tmp" ] || fail "a temporary file was left"
epoch=$(sed -E 's/^interrupted at epoch ([0-9]+), batch ([0-9]+):.*/\1/' <<< "$line")
batch=$(sed -E 's/^interrupted at epoch ([0-9]+), batch ([0-9]+):.*/\2/' <<< "$line")
# Resume and finish that epoch.
"$cnn" train "${common[@]}" --epochs "$epoch" \
    --resume "$dir/run/model.ckpt" > "$dir/resume.txt" 2>&1 ||
    { cat "$dir/resume.txt" >&2; fail "the resumed run failed"; }
grep -q "^resuming .* at epoch $epoch, batch $batch," "$dir/resume.txt" ||
    { cat "$dir/resume.txt" >&2; fail "did not resume at epoch $epoch, batch $batch"; }
grep -q "epoch $epoch/$epoch: train loss" "$dir/resume.txt" ||
    { cat "$dir/resume.txt" >&2; fail "the resumed epoch did not finish"; }
echo "interrupted at epoch $epoch, batch $batch; resumed and finished"
