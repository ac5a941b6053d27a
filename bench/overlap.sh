#!/bin/sh
# bench/overlap.sh: how much of the gradient allreduce the overlap hides, at
# 2 ranks x 1 thread (make scaling).  For each model: --no-overlap (one
# blocking allreduce after backward) and the default (buckets reduced while
# backward runs), REPEATS runs of --steps N --profile --trace each.
#   wait: rank 0's allreduce phase (includes waiting for the slower rank)
#   exposed: from the timeline, per step, from the moment the LAST rank
#            finished backward to the moment the last rank has its averaged
#            gradients: the communication nothing hid (the ranks' clocks
#            are the same CLOCK_MONOTONIC on one machine)
#   hidden = 1 - exposed(overlap) / exposed(blocking).  Medians.
# Both modes with --allreduce mpi: the messages a job across hosts sends
# (on one host the default takes the shared arena, where nothing overlaps).
set -eu
cd "$(dirname "$0")/.."
DATA=${DATA:-data/fashion-mnist.h5}
REPEATS=${REPEATS:-3}
MPIRUN=${SN_MPIRUN:-mpirun --oversubscribe}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. bench/load.sh
h5copy -i "$DATA" -o "$tmp/train.h5" -s /train -d /train
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# median over steps of max_r(end of allreduce) - max_r(end of backward)
exposed() {
    awk -F'[:,]' '/"name": "(backward|allreduce)", "ph": "X"/ {
        name = $0; sub(/.*"name": "/, "", name); sub(/".*/, "", name)
        pid = $0; sub(/.*"pid": /, "", pid); sub(/,.*/, "", pid)
        ts = $0; sub(/.*"ts": /, "", ts); sub(/,.*/, "", ts)
        du = $0; sub(/.*"dur": /, "", du); sub(/[,}].*/, "", du)
        k = ++count[name, pid]; e = ts + du
        if (e > last[name, k]) last[name, k] = e
        if (k > steps) steps = k
    } END {
        for (k = 1; k <= steps; k++) print (last["allreduce", k] - last["backward", k]) / 1000
    }' "$1" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
echo "| model | steps | blocking: wait / exposed ms | overlap: wait / exposed ms | hidden | step ms blocking / overlap |"
echo "|---|---|---|---|---|---|"
load_start
for m in ${MODELS:-cnn lstm mlp}; do
    # lstm: buckets of 0.25 MB put its W_hh and biases (and the dense head)
    # in one bucket, reduced while the W_ih product runs, and W_ih in another
    BK=""
    case $m in cnn) N=25 ;; lstm) N=60; BK="--bucket-mb 0.25" ;; *) N=200 ;; esac
    for mode in block overlap; do
        : > "$tmp/$mode.ar"; : > "$tmp/$mode.step"; : > "$tmp/$mode.ex"
        flag=""; [ $mode = block ] && flag=--no-overlap
        i=0
        while [ $i -lt "$REPEATS" ]; do
            OMP_NUM_THREADS=1 $MPIRUN -np 2 build/scratchnet train --model models/$m.cfg \
                --data "$tmp/train.h5" --steps $N --threads 1 --quiet --profile --trace "$tmp/t.json" \
                --allreduce mpi $flag $BK > "$tmp/out" 2>> "$tmp/warn" || load_failed
            exposed "$tmp/t.json" >> "$tmp/$mode.ex"
            sed -n 's/.* allreduce \([0-9.]*\) optimizer.*/\1/p' "$tmp/out" >> "$tmp/$mode.ar"
            sed -n 's/.* \([0-9.]*\) ms\/step.*/\1/p' "$tmp/out" >> "$tmp/$mode.step"
            i=$((i + 1))
        done
    done
    b=$(median < "$tmp/block.ar"); o=$(median < "$tmp/overlap.ar")
    bs=$(median < "$tmp/block.step"); os=$(median < "$tmp/overlap.step")
    be=$(median < "$tmp/block.ex"); oe=$(median < "$tmp/overlap.ex")
    # a blocking exposure of a few microseconds is noise: no share of it
    awk -v m=$m -v n=$((N - 5)) -v b=$b -v o=$o -v be=$be -v oe=$oe -v bs=$bs -v os=$os 'BEGIN {
        hid = be >= 0.05 ? sprintf("%.0f%%", 100 * (1 - oe / be)) : "n/a (blocking exposed < 0.05 ms)"
        printf "| %s | %d | %.3f / %.3f | %.3f / %.3f | %s | %.2f / %.2f |\n", m, n, b, be, o, oe,
               hid, bs, os }'
done
load_warn bench/overlap.sh
load_said
