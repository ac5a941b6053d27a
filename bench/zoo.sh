#!/bin/sh
# bench/zoo.sh: train zoo models on Fashion-MNIST with 2 ranks and print a
# Markdown table row per model (make zoo).  Each model trains for the
# epochs its model file sets; rows: final test accuracy, wall time of the
# training command, images/s of the last epoch, peak resident memory of
# the largest rank.  Logs stay in $ZOO_DIR (default data/zoo).
#
#   bench/zoo.sh [MODEL ...]        (default: every Fashion-MNIST model)
set -eu
DATA=${DATA:-data/fashion-mnist.h5}
DIR=${ZOO_DIR:-data/zoo}
MPIRUN=${SN_MPIRUN:-mpirun --oversubscribe}
mkdir -p "$DIR"
[ $# -gt 0 ] || set -- mlp lenet5 lstm gru rnn cnn inception resnet autoencoder
echo "| model | test accuracy | epochs | wall time | images/s | peak MiB per rank | command |"
echo "|---|---|---|---|---|---|---|"
for m in "$@"; do
    log="$DIR/$m.jsonl"
    rm -f "$log"
    extra=""
    [ "$m" = mlp ] && extra="--epochs 15"   # mlp.cfg keeps 5 epochs for make run
    start=$(date +%s)
    OMP_NUM_THREADS=1 $MPIRUN -np 2 build/scratchnet train --model "models/$m.cfg" --data "$DATA" \
        --threads 1 --quiet --log "$log" --out "$DIR/$m.h5" $extra
    wall=$(( $(date +%s) - start ))
    last=$(tail -1 "$log")
    get() { echo "$last" | sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p"; }
    acc=$(get test_acc); [ -n "$acc" ] && acc=$(awk "BEGIN{printf \"%.2f%%\", 100*$acc}") || acc="(loss $(get test_loss))"
    echo "| $m | $acc | $(get epoch) | $((wall / 60)) min $((wall % 60)) s | $(get images_per_s) | $(get peak_rss_mb) | \`mpirun -np 2 build/scratchnet train --model models/$m.cfg --data $DATA --threads 1 $extra\` |"
done
