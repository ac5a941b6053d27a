#!/bin/sh
# bench/sim/profile.sh: the measured inputs of the simulator, for each model
# (make sim-profiles; a few minutes on 2 cores):
#   bench/sim/profiles/MODEL.txt     RUNS outputs of `train --profile` at 1 rank
#                                    x 1 thread, BATCH examples a step (the
#                                    replay takes the median of each number)
#   bench/sim/profiles/MODEL.events  where backward calls the reducer
#                                    (build/bench/sim/events)
# Each file starts with the command that made it, the commit and the load
# average of the machine before and after (the profiles are timings: a
# loaded machine makes every layer slower alike, which moves the absolute
# step times and, less, the efficiencies).
#
#   sh bench/sim/profile.sh [MODEL ...]    (default: the five of make scaling-sim)
set -eu
BIN=${BUILD:-build}/scratchnet
EVENTS=${BUILD:-build}/bench/sim/events
OUT=${SIM_PROFILES:-bench/sim/profiles}
RUNS=${RUNS:-3}
[ $# -gt 0 ] || set -- mlp lstm cnn resnet cifar_resnet
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
for m in "$@"; do
    # batch per rank: what each of make zoo's 2 ranks computes (the file's global batch / 2)
    batch=$(( $(sed -n 's/^batch *= *\([0-9]*\).*/\1/p' "models/$m.cfg") / 2 ))
    case "$m" in
    cifar*|alexnet) data=data/cifar10.h5 ;;
    *) data=data/fashion-mnist.h5 ;;
    esac
    case "$m" in   # enough steps for about 5 s of timed steps
    mlp) steps=1000 ;;
    lstm|rnn|gru|lenet5|autoencoder) steps=200 ;;
    cnn|inception) steps=40 ;;
    *) steps=25 ;;
    esac
    cmd="OMP_NUM_THREADS=1 $BIN train --model models/$m.cfg --data $data --batch $batch --steps $steps --threads 1 --profile --quiet"
    {
        echo "# $cmd"
        echo "# $RUNS runs at commit $commit; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
        for r in $(seq "$RUNS"); do
            sh -c "$cmd" | sed -n '/^profile:/,$p'
        done
        echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    } > "$OUT/$m.txt"
    {
        echo "# $EVENTS models/$m.cfg $batch 1 5   (commit $commit)"
        "$EVENTS" "models/$m.cfg" "$batch" 1 5
    } > "$OUT/$m.events"
    echo "profile.sh: $OUT/$m.txt $OUT/$m.events"
done
