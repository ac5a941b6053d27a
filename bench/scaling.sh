#!/bin/sh
# bench/scaling.sh: the cost model of docs/SCALING.md, fitted on this
# machine (make scaling).
#   1. MPI_Allreduce latency (alpha) and bandwidth (beta) at 2 ranks
#      (build/bench/allreduce, shared memory);
#   2. each zoo model's step at 32 examples per rank, 1 rank x 1 thread
#      (train --steps 15 --profile: compute and backward ms);
#   3. predicted weak-scaling efficiency at 2, 8, 64 and 512 ranks, 32
#      examples per rank, with the default 1 MB buckets overlapped with
#      backward, for this machine's alpha and beta and for an assumed
#      cluster network (ALPHA_NET, BETA_NET: 5 us and 10 GB/s by default,
#      roughly 100 Gb/s InfiniBand; an assumption, not a measurement).
# Ring allreduce of n bytes in k buckets: k 2(P-1) alpha + 2 (P-1)/P n / beta;
# exposed = max(the last bucket's allreduce, allreduce - backward);
# efficiency = step / (step + exposed).
set -eu
cd "$(dirname "$0")/.."
DATA=${DATA:-data/fashion-mnist.h5}
CIFAR=${CIFAR:-data/cifar10.h5}
MPIRUN=${SN_MPIRUN:-mpirun --oversubscribe}
ALPHA_NET=${ALPHA_NET:-5e-6}
BETA_NET=${BETA_NET:-10e9}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$MPIRUN -np 2 build/bench/allreduce > "$tmp/ar"
cat "$tmp/ar"
A=$(sed -n 's/^alpha \([0-9.e+-]*\) s.*/\1/p' "$tmp/ar")
B=$(sed -n 's/.*beta \([0-9.e+-]*\) GB\/s.*/\1/p' "$tmp/ar")
h5copy -i "$DATA" -o "$tmp/f.h5" -s /train -d /train
[ -f "$CIFAR" ] && h5copy -i "$CIFAR" -o "$tmp/c.h5" -s /train -d /train
echo
echo "| model | params | step ms (32 ex, 1 core) | backward ms | network | P=2 | P=8 | P=64 | P=512 |"
echo "|---|---|---|---|---|---|---|---|---|"
for m in ${MODELS:-mlp lenet5 cnn rnn lstm gru inception resnet autoencoder alexnet cifar_inception cifar_resnet}; do
    case $m in alexnet|cifar_*) d=$tmp/c.h5 ;; *) d=$tmp/f.h5 ;; esac
    [ -f "$d" ] || continue
    np=$(build/scratchnet info --model models/$m.cfg | sed -n 's/^parameters: \([0-9]*\) learnt.*/\1/p')
    OMP_NUM_THREADS=1 build/scratchnet train --model models/$m.cfg --data "$d" --batch 32 \
        --steps 15 --threads 1 --quiet --profile > "$tmp/out"
    step=$(sed -n 's/.* \([0-9.]*\) ms\/step.*/\1/p' "$tmp/out")
    bwd=$(sed -n 's/.* backward \([0-9.]*\) allreduce.*/\1/p' "$tmp/out")
    for net in "this machine (shm):$A:${B}e9" "cluster (assumed):$ALPHA_NET:$BETA_NET"; do
        awk -v m=$m -v np=$np -v step=$step -v bwd=$bwd -v net="$net" 'BEGIN {
            split(net, f, ":"); a = f[2]; b = f[3]
            n = 4 * np; k = int((n + 1048575) / 1048576); last = n < 1048576 ? n : 1048576
            printf "| %s | %d | %.1f | %.1f | %s |", m, np, step, bwd, f[1]
            split("2 8 64 512", ps, " ")
            for (i = 1; i <= 4; i++) {
                P = ps[i]
                ar = k * 2 * (P - 1) * a + 2 * (P - 1) / P * n / b
                tl = 2 * (P - 1) * a + 2 * (P - 1) / P * last / b
                ex = ar - bwd / 1000 > tl ? ar - bwd / 1000 : tl
                printf " %.1f%% |", 100 * (step / 1000) / (step / 1000 + ex)
            }
            printf "\n"
        }'
    done
done
