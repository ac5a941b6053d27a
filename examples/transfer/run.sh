#!/bin/sh
# examples/transfer/run.sh: the transfer-learning example of
# docs/TRANSFER.md, end to end (make transfer; a few minutes on 2 cores).
#   1. data: classes 0-4 of Fashion-MNIST (all 30,000 training images), and
#      100 training images of each of classes 5-9 (their whole test split)
#   2. pretrain LeNet-5 with a 5-class head on classes 0-4
#   3. fine-tune on the 500 images: convolutions frozen, new 10-class head
#   4. the same network from scratch on the same 500 images
# and prints the test accuracy of 3 and 4 on the 5,000 test images of 5-9.
set -eu
cd "$(dirname "$0")/../.."
BIN=build/scratchnet
DATA=${DATA:-data/fashion-mnist.h5}
OUT=${OUT:-data/transfer}
MPIRUN=${SN_MPIRUN:-mpirun --oversubscribe}
mkdir -p "$OUT"
$BIN convert subset "$DATA" --classes 0-4 -o "$OUT/classes0-4.h5"
$BIN convert subset "$DATA" --classes 5-9 --per-class 100 -o "$OUT/classes5-9-100.h5"
run() { OMP_NUM_THREADS=1 $MPIRUN -np 2 $BIN train --threads 1 --progress-every 1000000 "$@"; }
run --model examples/transfer/pretrain.cfg --data "$OUT/classes0-4.h5" --out "$OUT/pretrained.h5"
run --model examples/transfer/finetune.cfg --data "$OUT/classes5-9-100.h5" \
    --init "$OUT/pretrained.h5" --out "$OUT/finetuned.h5" --log "$OUT/finetune.jsonl"
run --model examples/transfer/scratch.cfg --data "$OUT/classes5-9-100.h5" \
    --out "$OUT/scratch.h5" --log "$OUT/scratch.jsonl"
echo "test accuracy on the 5,000 test images of classes 5-9:"
# eval's first line, "test: N examples  loss L  accuracy A% (k/N)", without its
# label, printed beside this one's once eval has ended (a warning eval writes
# to stderr came between the two)
first() { $BIN eval --weights "$1" --data "$OUT/classes5-9-100.h5" | head -1 | sed 's/^test: //'; }
tuned=$(first "$OUT/finetuned.h5")
echo "  fine-tuned from classes 0-4: $tuned"
scratch=$(first "$OUT/scratch.h5")
echo "  from scratch:                $scratch"
