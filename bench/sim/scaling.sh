#!/bin/sh
# bench/sim/scaling.sh: weak-scaling efficiency of zoo models on simulated
# fat trees (make sim; run it alone on the machine: make sim).
#
# For each model, platform (bench/sim/platforms/PLATFORM.xml), ranks per
# node K and rank count P, the replay (build/bench/sim/replay.so) takes
# STEPS steps of the model at its profiled batch per rank
# (bench/sim/profiles) with each strategy, and the efficiency is the
# simulated step at 1 rank over the simulated step at P ranks.  Prints
# markdown tables (one per model and platform) and, on stderr, each run's
# wall time, CPU time and peak RSS.
#
#   sh bench/sim/scaling.sh
#   MODELS="cnn resnet cifar_resnet" PLATFORMS="ib eth25" PER_NODE="1 4 8"
#   RANKS="16 64 256" STRATEGIES="buckets buckets:rabenseifner" (also: sharded,
#   blocking, buckets:bf16, hier, hier:bf16)   STEPS=3
# A strategy is the replay's --strategy, optionally with :ALGORITHM, the
# schedule MPI_Iallreduce takes (Open MPI's MCA parameter
# coll_libnbc_iallreduce_algorithm: ring, binomial, rabenseifner; without
# it, libnbc's own choice), and optionally with @MB, the bucket size
# (train's --bucket-mb; default 1): "buckets:rabenseifner@4".
set -eu
BUILD=${BUILD:-build}
MODELS=${MODELS:-cnn resnet cifar_resnet}
PLATFORMS=${PLATFORMS:-ib eth25}
PER_NODE=${PER_NODE:-1 4 8}
RANKS=${RANKS:-16 64 256}
STRATEGIES=${STRATEGIES:-buckets buckets:rabenseifner}
STEPS=${STEPS:-3}
# Per-float costs of a reduction and a copy on the profiles' core
# (build/bench/sim/calib's op_ns and copy_ns on this machine).
OP_NS=${OP_NS:-0.0944}
COPY_NS=${COPY_NS:-0.0852}
here=$(pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# run PLATFORM K P MODEL STRATEGY: the simulated step in ms
run() {
    seq 0 $(( ($3 + $2 - 1) / $2 - 1 )) | while read -r n; do
        i=0
        while [ $i -lt "$2" ]; do echo "node-$n"; i=$((i + 1)); done
    done > "$dir/hosts"
    s=${5%@*} alg=0 mb=1
    case "$5" in *@*) mb=${5##*@} ;; esac
    case "$s" in
    *:ring) alg=1 s=${s%:*} ;;
    *:binomial) alg=2 s=${s%:*} ;;
    *:rabenseifner) alg=3 s=${s%:*} ;;
    esac
    start=$(date +%s.%N)
    (cd "$dir" && /usr/bin/time -f "%M %U %S" -o "$dir/rss" smpirun -platform "$here/bench/sim/platforms/$1.xml" \
        -hostfile hosts -np "$3" "$here/$BUILD/bench/sim/replay.so" \
        --cfg=smpi/simulate-computation:no --cfg=smpi/test:0 --cfg=smpi/coll-selector:ompi \
        --log=root.thresh:critical --cfg=smpi/tmpdir:"$dir" \
        --model "$here/models/$4.cfg" --profile "$here/bench/sim/profiles/$4.txt" \
        --events "$here/bench/sim/profiles/$4.events" --strategy "$s" --algorithm "$alg" --bucket-mb "$mb" \
        --op-ns "$OP_NS" --copy-ns "$COPY_NS" --steps "$STEPS") > "$dir/out" 2>&1 ||
        { cat "$dir/out" >&2; echo "scaling.sh: $*: the replay failed" >&2; exit 1; }
    ms=$(sed -n 's/^result: step_ms \([0-9.]*\).*/\1/p' "$dir/out")
    echo "sim: $1 K=$2 P=$3 $4 $5: $ms ms/step, wall $(echo "$(date +%s.%N) - $start" | bc | cut -c1-6) s," \
        "cpu $(awk '{ print $2 + $3 }' "$dir/rss") s, peak RSS $(($(cut -d' ' -f1 "$dir/rss") / 1024)) MB" >&2
    echo "$ms"
}

echo "Simulated weak-scaling efficiency (step at 1 rank / step at P ranks), $STEPS steps,"
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
for m in $MODELS; do
    for p in $PLATFORMS; do
        one=$(run "$p" 1 1 "$m" buckets)
        echo
        echo "**$m on $p** (1 rank: $one ms/step)"
        echo
        printf '| ranks/node | strategy |'
        for P in $RANKS; do printf ' %s |' "$P"; done
        echo
        printf '|---|---|'
        for P in $RANKS; do printf -- '---:|'; done
        echo
        for k in $PER_NODE; do
            for s in $STRATEGIES; do
                printf '| %s | %s |' "$k" "$s"
                for P in $RANKS; do
                    t=$(run "$p" "$k" "$P" "$m" "$s")
                    printf ' %s |' "$(awk -v a="$one" -v b="$t" 'BEGIN { printf "%.0f%%", 100 * a / b }')"
                done
                echo
            done
        done
    done
done
