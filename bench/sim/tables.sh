#!/bin/sh
# bench/sim/tables.sh: the simulated tables of docs/SCALING.md (make sim,
# also make scaling-sim), in two streams for two cores:
#   1. weak-scaling efficiency of mlp, lstm, cnn, resnet and cifar_resnet at
#      16, 64 and 256 ranks, 8 a node, on both fat trees (ib, eth25), flat
#      buckets with libnbc's default schedule and with Rabenseifner's, the
#      hierarchical reducer with Rabenseifner's, and hierarchical with bf16;
#   2. resnet and cifar_resnet at 1024 ranks on ib (the two best strategies);
#   3. the bucket size: cnn on eth25 and mlp and lstm on ib at 256 ranks.
# Writes $OUT/tables.md (default data/sim) and each run's wall time, CPU
# time and peak RSS to $OUT/runs.txt.
set -eu
OUT=${OUT:-data/sim}
mkdir -p "$OUT"
here=$(cd "$(dirname "$0")" && pwd)
start=$(date +%s)
main() {   # MODELS...: stream's part of table 1
    MODELS="$*" PLATFORMS="ib eth25" PER_NODE=8 RANKS="16 64 256" \
        STRATEGIES="buckets buckets:rabenseifner hier:rabenseifner hier:bf16" sh "$here/scaling.sh"
}
one_k() {   # MODEL: table 2's row (a 1024-rank hier:bf16 run takes about 490 s of CPU)
    MODELS=$1 PLATFORMS=ib PER_NODE=8 RANKS=1024 \
        STRATEGIES="buckets:rabenseifner hier:bf16" sh "$here/scaling.sh"
}
(
    main cifar_resnet resnet mlp
    one_k cifar_resnet
) > "$OUT/stream1.md" 2> "$OUT/stream1.err" &
one=$!
(
    main cnn lstm
    MODELS=cnn PLATFORMS=eth25 PER_NODE=8 RANKS=256 STRATEGIES="buckets@0.25 buckets@1 \
buckets@4 buckets@16 buckets:rabenseifner@0.25 buckets:rabenseifner@4 hier@0.25 hier@4" \
        sh "$here/scaling.sh"
    MODELS="mlp lstm" PLATFORMS=ib PER_NODE=8 RANKS=256 STRATEGIES="buckets:rabenseifner@0.0625 \
buckets:rabenseifner@0.25 buckets:rabenseifner@1 hier:bf16@0.0625 hier:bf16@0.25" \
        sh "$here/scaling.sh"
    one_k resnet
) > "$OUT/stream2.md" 2> "$OUT/stream2.err" &
two=$!
rc=0
wait $one || rc=1
wait $two || rc=1
cat "$OUT/stream1.md" "$OUT/stream2.md" > "$OUT/tables.md"
cat "$OUT/stream1.err" "$OUT/stream2.err" > "$OUT/runs.txt"
rm -f "$OUT"/stream[12].md "$OUT"/stream[12].err
[ $rc = 0 ] || { echo "tables.sh: a simulation failed (see $OUT/runs.txt)" >&2; exit 1; }
cat "$OUT/tables.md"
echo "tables.sh: $(( $(date +%s) - start )) s; tables in $OUT/tables.md, runs in $OUT/runs.txt"
