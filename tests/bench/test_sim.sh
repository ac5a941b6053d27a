#!/bin/sh
# test_sim: the simulator's smoke test (bench/sim; run by make test where
# SimGrid is installed).  models/mlp.cfg replayed from its committed
# profile on the simulated InfiniBand fat tree:
#   - 1 rank: the simulated step is the profile's step (nothing to send);
#   - 8 ranks, 3 steps, each strategy, --check: every rank gets the mean of
#     the gradients through the real reducer and the simulator's MPI
#     (libnbc's schedules, the blocking collectives), and a step costs more
#     than on one rank; one rank a node, and for the hierarchical ones
#     (hier, hier:bf16: the shared arena of a node) and buckets:bf16 4 a node.
set -u
BUILD=${BUILD:-build}
if ! command -v smpirun >/dev/null || [ ! -f "$BUILD/bench/sim/replay.so" ]; then
    echo "test_sim: skipped: SimGrid (smpirun) or $BUILD/bench/sim/replay.so missing (make deps; make sim-build)"
    exit 0
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
seq 0 7 | sed 's/^/node-/' > "$dir/hosts"
printf 'node-0\nnode-0\nnode-0\nnode-0\nnode-1\nnode-1\nnode-1\nnode-1\n' > "$dir/hosts4"
fail=0
sim() {   # sim RANKS ARGS...: the replay's "result:" line
    np=$1; shift
    smpirun -platform bench/sim/platforms/ib.xml -hostfile "$dir/${HOSTS:-hosts}" -np "$np" \
        "$BUILD/bench/sim/replay.so" --cfg=smpi/simulate-computation:no --cfg=smpi/test:0 \
        --cfg=smpi/coll-selector:ompi --cfg=smpi/bcast:binomial_tree --log=root.thresh:critical \
        --cfg=smpi/tmpdir:"$dir" --model models/mlp.cfg --profile bench/sim/profiles/mlp.txt \
        --events bench/sim/profiles/mlp.events --op-ns 0.1 --copy-ns 0.08 --steps 3 "$@" \
        > "$dir/out" 2>&1
    grep '^result:' "$dir/out" || { cat "$dir/out"; echo "no result line"; }
}
field() { echo "$1" | sed -n "s/.* $2 \([0-9.]*\).*/\1/p"; }
one=$(sim 1)
echo "1 rank: $one"
awk -v a="$(field "$one" step_ms)" -v b="$(field "$one" profile_step_ms)" \
    'BEGIN { exit !(b > 0 && a > 0.999 * b && a < 1.001 * b) }' ||
    { echo "FAIL: 1 rank's step is not the profile's"; fail=1; }
for s in buckets blocking sharded buckets:bf16 hier hier:bf16; do
    case $s in buckets:bf16 | hier*) HOSTS=hosts4 ;; *) HOSTS=hosts ;; esac
    r=$(HOSTS=$HOSTS sim 8 --strategy "$s" --shared-above 0 --check)
    echo "8 ranks, $s: $r"
    case "$r" in *"check ok"*) ;; *) echo "FAIL: $s: the mean is wrong"; fail=1 ;; esac
    awk -v a="$(field "$r" step_ms)" -v b="$(field "$one" step_ms)" 'BEGIN { exit !(a > b) }' ||
        { echo "FAIL: $s: 8 ranks no slower than 1"; fail=1; }
done
exit $fail
