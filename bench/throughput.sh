#!/bin/sh
# bench/throughput.sh: training throughput of a model at several
# ranks x threads layouts, median of REPEATS one-epoch runs each.
#
#   bench/throughput.sh [MODEL] [DATA] [REPEATS]      (make throughput)
#
# Prints one Markdown table row per layout: images/s (median, min, max)
# and epoch seconds; below the table, what the runs said on stderr.  Test evaluation is part of the epoch time, not of
# images/s (which counts training steps only).
set -eu
MODEL=${1:-models/mlp.cfg}
DATA=${2:-data/fashion-mnist.h5}
REPEATS=${3:-5}
BIN=build/scratchnet
MPIRUN=${SN_MPIRUN:-mpirun --oversubscribe}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/load.sh"
echo "| ranks x threads | images/s median | min | max | epoch s (median) |"
echo "|---|---|---|---|---|"
load_start
for layout in "1 1" "1 2" "2 1"; do
    set -- $layout
    P=$1; T=$2
    : > "$tmp/ips"; : > "$tmp/sec"
    i=0
    while [ $i -lt "$REPEATS" ]; do
        rm -f "$tmp/log.jsonl"
        # each rank bound to T cores of its own (Open MPI binds a rank to one
        # core by default: 1 x 2 ran both threads on one core)
        # warnings (a busy core, say) go below the table, not inside it
        if ! OMP_NUM_THREADS=$T $MPIRUN -np "$P" --map-by "slot:PE=$T" --bind-to core \
            $BIN train --model "$MODEL" --data "$DATA" \
            --epochs 1 --quiet --threads "$T" --log "$tmp/log.jsonl" 2>> "$tmp/warn"; then
            load_failed
        fi
        sed 's/.*"images_per_s": \([-0-9.eE+]*\).*/\1/' "$tmp/log.jsonl" >> "$tmp/ips"
        sed 's/.*"elapsed_s": \([-0-9.eE+]*\).*/\1/' "$tmp/log.jsonl" >> "$tmp/sec"
        i=$((i + 1))
    done
    med=$(sort -n "$tmp/ips" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    min=$(sort -n "$tmp/ips" | head -1)
    max=$(sort -n "$tmp/ips" | tail -1)
    sec=$(sort -n "$tmp/sec" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '| %s x %s | %.0f | %.0f | %.0f | %.2f |\n' "$P" "$T" "$med" "$min" "$max" "$sec"
done
load_warn bench/throughput.sh
load_said
