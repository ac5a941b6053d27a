#!/bin/sh
# bench/zoo.sh: train zoo models on Fashion-MNIST with 2 ranks and print a
# Markdown table row per model (make zoo).  Each model trains for the
# epochs its model file sets; rows: final test accuracy, wall time of the
# training command, images/s of the last epoch, peak resident memory of
# the largest rank.  Logs stay in $ZOO_DIR (default data/zoo).  The
# CIFAR-10 models (cifar_*, alexnet) read data/cifar10.h5 (make
# data-cifar10) and evaluate the test split after their last epoch only;
# ZOO_ARGS adds train flags to every run (e.g. ZOO_ARGS="--seed 2");
# ZOO_SEEDS="1 2 3" trains each model once per seed (--seed S, logs in
# $ZOO_DIR/seedS).  A model evaluated with test-time views (test_flip or
# test_views) also gets its score without them.
#
#   bench/zoo.sh [MODEL ...]        (default: every Fashion-MNIST model)
set -eu
if [ ! -x build/scratchnet ] || [ ! -d models ]; then   # its paths are the checkout's
    echo "bench/zoo.sh: run it from the scratchnet folder (no build/scratchnet or models/ in $(pwd))" >&2
    exit 2
fi
FMNIST=${DATA:-data/fashion-mnist.h5}
CIFAR=${CIFAR_DATA:-data/cifar10.h5}
DIR=${ZOO_DIR:-data/zoo}
MPIRUN=${SN_MPIRUN:-mpirun --oversubscribe}
mkdir -p "$DIR"
[ $# -gt 0 ] || set -- mlp lenet5 lstm gru rnn cnn inception resnet autoencoder
echo "| model | test accuracy | epochs | wall time | images/s | peak MiB per rank | command |"
echo "|---|---|---|---|---|---|---|"
run_one() {   # model, seed ("" for the file's own)
    m=$1
    dir=$DIR
    [ -n "$2" ] && dir="$DIR/seed$2" && mkdir -p "$dir"
    log="$dir/$m.jsonl"
    rm -f "$log"
    extra="${ZOO_ARGS:-}"
    [ -n "$2" ] && extra="--seed $2 $extra"
    DATA=$FMNIST
    [ "$m" = mlp ] && extra="--epochs 15 $extra"   # mlp.cfg keeps 5 epochs for make run
    case "$m" in
    cifar*|alexnet)
        DATA=$CIFAR
        extra="--eval-every $(sed -n 's/^epochs *= *//p' "models/$m.cfg") $extra" ;;
    esac
    start=$(date +%s)
    OMP_NUM_THREADS=1 $MPIRUN -np 2 build/scratchnet train --model "models/$m.cfg" --data "$DATA" \
        --threads 1 --quiet --log "$log" --out "$dir/$m.h5" $extra
    wall=$(( $(date +%s) - start ))
    last=$(tail -1 "$log")
    get() { echo "$last" | sed -n "s/.*\"$1\": \([-0-9.eE+]*\).*/\1/p"; }
    acc=$(get test_acc); [ -n "$acc" ] && acc=$(awk "BEGIN{printf \"%.2f%%\", 100*$acc}") || acc="(loss $(get test_loss))"
    if grep -q '^test_flip *= *1\|^test_views' "models/$m.cfg"; then   # also the score without them
        sed '/^test_flip/d; /^test_views/d; /^test_weights/d' "models/$m.cfg" > "$dir/$m.plain.cfg"
        plain=$(OMP_NUM_THREADS=1 $MPIRUN -np 2 build/scratchnet eval --weights "$dir/$m.h5" \
            --data "$DATA" --model "$dir/$m.plain.cfg" --threads 1 |
            sed -n 's/.*accuracy \([0-9.]*%\).*/\1/p')
        acc="$acc ($plain without test-time views)"
    fi
    echo "| $m | $acc | $(get epoch) | $((wall / 60)) min $((wall % 60)) s | $(printf '%.1f' "$(get images_per_s)") | $(get peak_rss_mb) | \`mpirun -np 2 build/scratchnet train --model models/$m.cfg --data $DATA --threads 1 $extra\` |"
}
for m in "$@"; do
    for seed in ${ZOO_SEEDS:-file}; do
        [ "$seed" = file ] && seed=
        run_one "$m" "$seed"
    done
done
