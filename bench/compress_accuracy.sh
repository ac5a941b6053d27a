#!/bin/sh
# bench/compress_accuracy.sh: what --compress costs in accuracy
# (make compress-accuracy; about 7 minutes on 2 cores).  Each model of
# MODELS (default: mlp lenet5, Fashion-MNIST, their model files' epochs and
# schedules) trains at 2 ranks x 1 thread for each seed of SEEDS (default 1
# 2 3) with gradients as floats, bf16 and fp16 (FORMATS), every run through
# messages (--allreduce mpi: on one host the default shared window sends
# nothing to compress; across hosts the flat strategy sends these very
# messages).  Prints each run's final test accuracy, then per model and
# format the mean over seeds and its difference from the floats' mean,
# with "ok" when it is within 0.3 points.
#
# Each run takes the shared lock when SN_LOCK names it (flock), so heavy
# jobs of other people wait between runs, not for the whole table:
#   SN_LOCK=/tmp/heavy.lock sh bench/compress_accuracy.sh
set -eu
cd "$(dirname "$0")/.."
DATA=${DATA:-data/fashion-mnist.h5}
MODELS=${MODELS:-mlp lenet5}
SEEDS=${SEEDS:-1 2 3}
FORMATS=${FORMATS:-none bf16 fp16}
MPIRUN=${SN_MPIRUN:-mpirun --oversubscribe}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() {
    if [ -n "${SN_LOCK:-}" ]; then flock "$SN_LOCK" "$@"; else "$@"; fi
}
echo "| model | seed | format | test acc % | seconds |"
echo "|---|---|---|---|---|"
for m in $MODELS; do
    for s in $SEEDS; do
        for f in $FORMATS; do
            rm -f "$tmp/log.jsonl"
            t0=$(date +%s)
            run env OMP_NUM_THREADS=1 $MPIRUN -np 2 build/scratchnet train --model "models/$m.cfg" \
                --data "$DATA" --seed "$s" --threads 1 --allreduce mpi --compress "$f" \
                --eval-every 1000 --quiet --log "$tmp/log.jsonl"
            acc=$(tail -1 "$tmp/log.jsonl" | sed 's/.*"test_acc": \([0-9.]*\).*/\1/')
            pct=$(awk -v a="$acc" 'BEGIN {printf "%.2f", 100 * a}')
            echo "$m $f $pct" >> "$tmp/all"
            echo "| $m | $s | $f | $pct | $(( $(date +%s) - t0 )) |"
        done
    done
done
echo
echo "| model | format | mean test acc % over seeds ($SEEDS) | minus floats' | within 0.3 points |"
echo "|---|---|---|---|---|"
for m in $MODELS; do
    base=$(awk -v m="$m" '$1 == m && $2 == "none" {s += $3; n++} END {printf "%.3f", s / n}' "$tmp/all")
    for f in $FORMATS; do
        mean=$(awk -v m="$m" -v f="$f" '$1 == m && $2 == f {s += $3; n++} END {printf "%.3f", s / n}' "$tmp/all")
        awk -v m="$m" -v f="$f" -v a="$mean" -v b="$base" 'BEGIN {
            d = a - b; printf "| %s | %s | %.2f | %+.2f | %s |\n", m, f, a, d,
            (d >= -0.3 && d <= 0.3) ? "ok" : "NO" }'
    done
done
