#!/bin/sh
# bench/bench.sh: scratchnet against PyTorch on this machine, in one run
# (make bench).  Not part of make test.
#
#   bench/bench.sh [MODELS...]          default: mlp lenet5 lstm cnn
#   env: DATA (default data/fashion-mnist.h5), REPEATS (default 5),
#        NO_TORCH=1 (scratchnet's half alone: PyTorch's columns say -)
#
# 1. OpenBLAS sgemm peak at 1 and 2 threads (build/bench/gemm_peak), and
#    one conv layer's time with each conv algorithm on the zoo's shapes
#    (build/bench/conv_algos).
# 2. For each model and global batch 64 and 256: scratchnet at 1 rank x 2
#    threads and 2 ranks x 1 thread, PyTorch (bench/torch_bench.py) at
#    1 x 2, in REPEATS rounds of the three runs, the same number of steps
#    after 5 warm-up steps, the same data held in memory as uint8.  Every
#    number in the table is the median of the REPEATS runs, but the two
#    ratios: each is the median over the rounds of that round's ratio
#    (runs seconds apart compared with each other, so that a slow minute
#    of this shared host, which slows both, does not decide the ratio).
# 3. One Markdown table: images/s, the ratio, achieved GFLOP/s of the
#    training step (3x forward FLOPs, from `scratchnet info`) as a share of
#    the 2-thread sgemm peak, peak resident memory per process, and
#    scratchnet's time split of a step (ms, rank 0 of the 1 x 2 run).
set -eu
cd "$(dirname "$0")/.."
DATA=${DATA:-data/fashion-mnist.h5}
REPEATS=${REPEATS:-5}
BIN=build/scratchnet
PY=/usr/bin/python3
MPIRUN=${SN_MPIRUN:-mpirun --oversubscribe}
MODELS=${*:-mlp lenet5 lstm cnn}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. bench/load.sh

[ -f "$DATA" ] || { echo "bench: $DATA is missing; run make data" >&2; exit 2; }
# the PyTorch side, asked before minutes of other runs (make bench installs it)
NO_TORCH=${NO_TORCH:-0}
[ "$NO_TORCH" = 1 ] || $PY -c 'import torch, h5py' 2> /dev/null || {
    echo "bench: $PY cannot import torch and h5py, which the PyTorch runs need: apt-get install" \
         "python3-torch python3-h5py (make bench does), or run make bench; NO_TORCH=1" \
         "measures scratchnet alone" >&2
    exit 2; }
torch_version() { [ "$NO_TORCH" = 1 ] && echo "not run" || $PY -c 'import torch; print(torch.__version__)'; }
# the train split only: the runs stop at --steps, no test evaluation to wait for
h5copy -i "$DATA" -o "$tmp/train.h5" -s /train -d /train

steps_of() {   # steps timed after the warm-up, so each run takes a few seconds
    case $1 in
    mlp) echo 1000 ;; lenet5) echo 200 ;; lstm) echo 30 ;; *) echo 16 ;;
    esac
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "## machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores;" \
     "SIMD: $(grep -m1 '^flags' /proc/cpuinfo | grep -o 'avx512f\|avx2\|fma\|sse4_2' | sort -u | tr '\n' ' ')"
echo "openblas $(dpkg-query -W -f '${Version}' libopenblas0-openmp 2>/dev/null || echo '?')," \
     "open mpi $(dpkg-query -W -f '${Version}' openmpi-bin 2>/dev/null || echo '?')," \
     "torch $(torch_version)," \
     "gcc $(gcc -dumpfullversion)"
echo
echo "## sgemm peak (square n = 256 ... 2048, median of 5)"
build/bench/gemm_peak 1 > "$tmp/g1"
build/bench/gemm_peak 2 > "$tmp/g2"
P1=$(sed -n 's/^peak //p' "$tmp/g1")
P2=$(sed -n 's/^peak //p' "$tmp/g2")
echo "1 thread: $P1 GFLOP/s; 2 threads: $P2 GFLOP/s"
echo
echo "## convolution algorithms (build/bench/conv_algos 2: one layer, forward and backward)"
echo '```'
build/bench/conv_algos 2
echo '```'
echo
echo "## training (median of $REPEATS runs each, ratios the median of the $REPEATS rounds' ratios; steps after 5 warm-up steps)"
echo
echo "| model | batch | scratchnet 1x2 img/s | PyTorch 1x2 img/s | ratio | scratchnet 2x1 img/s | 2x1 / 1x2 | GFLOP/s (share of peak) | RSS MB scratchnet / PyTorch | step ms: data fwd bwd allreduce optim |"
echo "|---|---|---|---|---|---|---|---|---|---|"
load_start
for m in $MODELS; do
    cfg=models/$m.cfg
    S=$(steps_of "$m")
    N=$((S + 5))
    tflops=$($BIN info --model "$cfg" | sed -n 's/.*is about 3x: \([0-9.]*\) M FLOPs per example/\1/p')
    for B in 64 256; do
        : > "$tmp/s12"; : > "$tmp/s21"; : > "$tmp/pt"; : > "$tmp/rss"; : > "$tmp/ptrss"
        : > "$tmp/split"; : > "$tmp/ratio"; : > "$tmp/r21"
        i=0
        while [ "$i" -lt "$REPEATS" ]; do
            OMP_NUM_THREADS=2 $BIN train --model "$cfg" --data "$tmp/train.h5" --batch "$B" \
                --steps "$N" --threads 2 --quiet --profile > "$tmp/out"
            sed -n 's/.*: \([0-9.]*\) images\/s.*/\1/p' "$tmp/out" >> "$tmp/s12"
            sed -n 's/.*peak RSS \([0-9.]*\) MB.*/\1/p' "$tmp/out" >> "$tmp/rss"
            sed -n 's/.*(rank 0): \(.*\) ms;.*/\1/p' "$tmp/out" >> "$tmp/split"
            OMP_NUM_THREADS=1 $MPIRUN -np 2 $BIN train --model "$cfg" --data "$tmp/train.h5" \
                --batch "$B" --steps "$N" --threads 1 --quiet --profile > "$tmp/out"
            sed -n 's/.*: \([0-9.]*\) images\/s.*/\1/p' "$tmp/out" >> "$tmp/s21"
            if [ "$NO_TORCH" = 1 ]; then
                echo "images_per_s=0 peak_rss_mb=0" > "$tmp/out"
            else
                $PY bench/torch_bench.py --model "$m" --data "$tmp/train.h5" --batch "$B" \
                    --threads 2 --steps "$S" --warmup 5 > "$tmp/out"
            fi
            sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p' "$tmp/out" >> "$tmp/pt"
            sed -n 's/.*peak_rss_mb=\([0-9.]*\).*/\1/p' "$tmp/out" >> "$tmp/ptrss"
            # this round's ratios: its last line of each file
            a=$(tail -n 1 "$tmp/s12"); b=$(tail -n 1 "$tmp/s21"); c=$(tail -n 1 "$tmp/pt")
            awk -v a="$a" -v c="$c" 'BEGIN { print (c > 0 ? a / c : 0) }' >> "$tmp/ratio"
            awk -v a="$a" -v b="$b" 'BEGIN { print b / a }' >> "$tmp/r21"
            i=$((i + 1))
        done
        s12=$(median < "$tmp/s12"); s21=$(median < "$tmp/s21"); pt=$(median < "$tmp/pt")
        rss=$(median < "$tmp/rss"); ptrss=$(median < "$tmp/ptrss")
        ratio=$(median < "$tmp/ratio"); r21=$(median < "$tmp/r21")
        # the split of the run with the median images/s
        split=$(paste "$tmp/s12" "$tmp/split" | sort -g | awk -v k=$(( (REPEATS + 1) / 2 )) \
                'NR == k {$1 = ""; print}' | sed 's/^ //; s/data //; s/ forward / \/ /;
                s/ backward / \/ /; s/ allreduce / \/ /; s/ optimizer / \/ /')
        awk -v m="$m" -v B="$B" -v s12="$s12" -v s21="$s21" -v pt="$pt" -v tf="$tflops" \
            -v peak="$P2" -v rss="$rss" -v ptrss="$ptrss" -v sp="$split" -v ratio="$ratio" \
            -v r21="$r21" 'BEGIN {
            gf = s12 * tf / 1000
            ptc = pt > 0 ? sprintf("%.0f", pt) : "-"; rc = pt > 0 ? sprintf("%.2fx", ratio) : "-"
            ptm = pt > 0 ? sprintf("%.0f", ptrss) : "-"
            printf "| %s | %d | %.0f | %s | %s | %.0f | %.2f | %.1f (%.0f%%) | %.0f / %s | %s |\n",
                   m, B, s12, ptc, rc, s21, r21, gf, 100 * gf / peak, rss, ptm, sp
        }'
    done
done
load_warn bench/bench.sh
