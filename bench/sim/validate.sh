#!/bin/sh
# bench/sim/validate.sh: the simulator against this machine (make sim-validate;
# about 3 minutes a model; run it alone on the machine).
#
# For each model, RUNS times in turn:
#   - `train --profile` at 1 rank x 1 thread, the model file's batch / 2
#     examples (what the replay injects: a fresh profile, taken under the
#     same load as the measurement);
#   - `train --profile` at 2 ranks x 1 thread on this host, the model file's
#     batch, --allreduce mpi (Open MPI's messages, which the simulator
#     models; the shared-window reducer is one host's only), with STRATEGY's
#     flags: the measured step (ms/step of rank 0).
# Then the replay of those profiles on 2 simulated ranks of one host whose
# loopback and per-float costs are build/bench/sim/calib's, measured first
# (bench/sim/platforms/local.xml.in), and the error of the median simulated
# step against the median measured one.
#
#   sh bench/sim/validate.sh [MODEL ...]      (default: cnn mlp)
#   STRATEGY=buckets|blocking|sharded RUNS=3
set -eu
BUILD=${BUILD:-build}
BIN=$BUILD/scratchnet
RUNS=${RUNS:-3}
STRATEGY=${STRATEGY:-buckets}
MPIRUN=${MPIRUN:-mpirun --allow-run-as-root --oversubscribe}
# Open MPI's vader copies large messages through CMA (process_vm_readv) when
# it can; in this machine's VM that path ran at 0.64 GB/s against 12-16 GB/s
# for vader's own copy through shared memory, and whether it is taken
# differed between runs.  The calibration and the measurement must take the
# same path: the shared-memory copy, unless the caller says otherwise.
export OMPI_MCA_btl_vader_single_copy_mechanism=${OMPI_MCA_btl_vader_single_copy_mechanism:-none}
[ $# -gt 0 ] || set -- cnn mlp
case "$STRATEGY" in
buckets) flags="--allreduce mpi" ;;
blocking) flags="--allreduce mpi --no-overlap" ;;
sharded) flags="--shard-optimizer" ;;
*) echo "validate.sh: STRATEGY: buckets, blocking or sharded" >&2; exit 2 ;;
esac
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
here=$(pwd)

cal=$($MPIRUN -np 2 "$BUILD/bench/sim/calib" | grep '^calib:')
echo "$cal"
num() { echo "$cal" | sed -n "s/.* $1 \([0-9.]*\).*/\1/p"; }
sed -e "s/@LAT@/$(num latency_us)/" -e "s/@BW@/$(num bandwidth_GBps)/" \
    bench/sim/platforms/local.xml.in > "$dir/local.xml"
echo "local local" | tr ' ' '\n' > "$dir/hosts"

ms() { sed -n 's/.* \([0-9.]*\) ms\/step.*/\1/p'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for m in "$@"; do
    gbatch=$(sed -n 's/^batch *= *\([0-9]*\).*/\1/p' "models/$m.cfg")
    case "$m" in
    cifar*) data=data/cifar10.h5 ;;
    *) data=data/fashion-mnist.h5 ;;
    esac
    case "$m" in
    mlp) steps=1000 ;;
    lstm) steps=200 ;;
    cnn) steps=40 ;;
    *) steps=25 ;;
    esac
    one="OMP_NUM_THREADS=1 $BIN train --model models/$m.cfg --data $data --batch $((gbatch / 2)) --steps $steps --threads 1 --profile --quiet"
    two="OMP_NUM_THREADS=1 $MPIRUN -np 2 $BIN train --model models/$m.cfg --data $data --batch $gbatch --steps $steps --threads 1 $flags --profile --quiet"
    echo "# $one" > "$dir/$m.txt"
    : > "$dir/$m.measured"
    for r in $(seq "$RUNS"); do
        sh -c "$one" | sed -n '/^profile:/,$p' >> "$dir/$m.txt"
        sh -c "$two" | grep '^profile:' | ms >> "$dir/$m.measured"
    done
    measured=$(median < "$dir/$m.measured")
    (cd "$dir" && smpirun -platform local.xml -hostfile hosts -np 2 "$here/$BUILD/bench/sim/replay.so" \
        --cfg=smpi/simulate-computation:no --cfg=smpi/test:0 --cfg=smpi/coll-selector:ompi \
        --log=root.thresh:critical --cfg=smpi/tmpdir:"$dir" \
        --model "$here/models/$m.cfg" --profile "$m.txt" --events "$here/bench/sim/profiles/$m.events" \
        --strategy "$STRATEGY" --op-ns "$(num op_ns)" --copy-ns "$(num copy_ns)" --steps 5) \
        > "$dir/$m.sim" 2>&1 || { cat "$dir/$m.sim"; exit 1; }
    simulated=$(sed -n 's/^result: step_ms \([0-9.]*\).*/\1/p' "$dir/$m.sim")
    profiled=$(sed -n 's/.*profile_step_ms \([0-9.]*\).*/\1/p' "$dir/$m.sim")
    echo "$m $STRATEGY: measured 2 ranks $(tr '\n' ' ' < "$dir/$m.measured")ms (median $measured)," \
        "1-rank profile $profiled ms, simulated 2 ranks $simulated ms:" \
        "error $(awk -v s="$simulated" -v m="$measured" 'BEGIN { printf "%+.1f%%", 100 * (s - m) / m }')"
done
