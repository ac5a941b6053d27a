#!/bin/sh
# bench/stream.sh: training from the file against training from memory
# (make stream; a few minutes on 2 cores).  Each model of MODELS (default:
# lenet5 cnn, Fashion-MNIST) trains STEPS steps at 2 ranks x 1 thread with
# the splits held in memory (--cache-mb 4096, the default) and read from
# the file every step (--cache-mb 0: each rank reads its next batch's rows
# on a thread of its own while the step computes), the two alternating,
# REPEATS times each (default 5).  images/s is --profile's (rank 0, the
# steps after the warm-up).  Prints the medians and streamed / cached.
#
#   SN_LOCK=/tmp/heavy.lock sh bench/stream.sh   (each run under the shared lock)
set -eu
cd "$(dirname "$0")/.."
DATA=${DATA:-data/fashion-mnist.h5}
MODELS=${MODELS:-lenet5 cnn}
REPEATS=${REPEATS:-5}
MPIRUN=${SN_MPIRUN:-mpirun --oversubscribe}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. bench/load.sh
run() {
    if [ -n "${SN_LOCK:-}" ]; then flock "$SN_LOCK" "$@"; else "$@"; fi
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| model | steps | cached images/s | streamed images/s | streamed / cached | data ms/step cached / streamed |"
echo "|---|---|---|---|---|---|"
load_start
for m in $MODELS; do
    case $m in cnn) N=${STEPS:-40} ;; *) N=${STEPS:-300} ;; esac
    : > "$tmp/c.ips"; : > "$tmp/s.ips"; : > "$tmp/c.data"; : > "$tmp/s.data"
    i=0
    while [ $i -lt "$REPEATS" ]; do
        for mode in c s; do
            mb=4096; [ $mode = s ] && mb=0
            run env OMP_NUM_THREADS=1 $MPIRUN -np 2 build/scratchnet train --model "models/$m.cfg" \
                --data "$DATA" --steps $N --threads 1 --quiet --profile --cache-mb $mb > "$tmp/out" \
                2>> "$tmp/warn" || load_failed
            sed -n 's/.* threads*: \([0-9.]*\) images\/s.*/\1/p' "$tmp/out" >> "$tmp/$mode.ips"
            sed -n 's/.*(rank 0): data \([0-9.]*\) .*/\1/p' "$tmp/out" >> "$tmp/$mode.data"
        done
        i=$((i + 1))
    done
    c=$(median < "$tmp/c.ips"); s=$(median < "$tmp/s.ips")
    awk -v m="$m" -v n="$N" -v c="$c" -v s="$s" -v dc="$(median < "$tmp/c.data")" \
        -v ds="$(median < "$tmp/s.data")" \
        'BEGIN {printf "| %s | %d | %.0f | %.0f | %.3f | %s / %s |\n", m, n, c, s, s / c, dc, ds}'
done
load_warn bench/stream.sh
load_said
