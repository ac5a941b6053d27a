#!/bin/sh
# make valgrind: short runs of the real command under valgrind memcheck: a
# convert, then one training per zoo model for 28x28 images (every layer
# kind; the cached and the read-per-batch data paths; checkpoint and
# resume), an eval, a predict and an info.  Any invalid read or write, use
# of an uninitialised value, or definitely/indirectly lost block fails the
# run (exit 99).  What Open MPI allocates at start and keeps is suppressed
# (Open MPI's own suppression file, and tests/valgrind/openmpi.supp).
# The HDF5 probe runs in a child process started from the program (io/h5.c);
# --trace-children follows it.
# Usage: tests/valgrind/run.sh BUILD DATA   (DATA: data/fashion-mnist.h5)
set -e
BIN=$1/scratchnet
DATA=$2
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
VG="valgrind -q --trace-children=yes --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect
    --suppressions=/usr/share/openmpi/openmpi-valgrind.supp
    --suppressions=tests/valgrind/openmpi.supp"
export OMP_NUM_THREADS=2
n=0
check() {   # check NAME COMMAND...: run under valgrind, report
    name=$1; shift
    start=$(date +%s)
    if $VG "$@" > "$OUT/log" 2>&1; then
        n=$((n + 1)); echo "clean  $name  ($(( $(date +%s) - start )) s)"
    else
        echo "FAIL   $name"; cat "$OUT/log"; exit 1
    fi
}
# 10 train and 2 test images per class: valgrind runs code 20-100x slower
check "convert subset" $BIN convert subset "$DATA" --classes 0-9 --per-class 10 --test-per-class 2 \
    -o "$OUT/small.h5"
DATA=$OUT/small.h5
for m in mlp lenet5 cnn rnn lstm gru inception resnet autoencoder; do
    check "train $m (cached)" $BIN train --model models/$m.cfg --data "$DATA" --batch 4 --steps 3 \
        --checkpoint-dir "$OUT/$m" --checkpoint-every 2 --quiet
    # one step more than the checkpoint's run: its schedule's horizon moves
    check "train $m (read per batch, resumed)" $BIN train --model models/$m.cfg --data "$DATA" \
        --batch 4 --steps 4 --checkpoint-dir "$OUT/$m" --resume auto --resume-override horizon \
        --cache-mb 0 --quiet
done
check "train mlp --out, --log, --accumulate" $BIN train --model models/mlp.cfg --data "$DATA" \
    --steps 5 --accumulate 2 --out "$OUT/mlp.h5" --log "$OUT/mlp.jsonl" --quiet
check "train mlp --shard-optimizer (adam)" $BIN train --model models/mlp.cfg --data "$DATA" \
    --steps 3 --optimizer adam --shard-optimizer --checkpoint-dir "$OUT/shard" --quiet
check "eval mlp" $BIN eval --weights "$OUT/mlp.h5" --data "$DATA"
check "predict lenet5 from a checkpoint" $BIN predict --weights "$OUT/lenet5/ckpt-00000004.h5" \
    --input "$DATA" -o "$OUT/p.csv"
check "info resnet" $BIN info --model models/resnet.cfg
echo "valgrind: $n runs clean"
