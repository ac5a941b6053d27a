#!/bin/sh
# launch/local.sh: run scratchnet on one machine with P ranks.
#
#   launch/local.sh P scratchnet-arguments...
#   e.g. launch/local.sh 2 train --model models/mlp.cfg --data data/fashion-mnist.h5
#
# Picks threads per rank = cores / P (at least 1) so ranks x threads never
# exceeds the cores, binds each rank to its own cores when they fit, and
# adds Open MPI's root and oversubscribe permissions only where needed.
set -eu
[ $# -ge 2 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
P=$1; shift
case "$P" in ''|*[!0-9]*|0) echo "launch/local.sh: ranks must be a positive integer, got '$P'" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${SCRATCHNET:-$here/build/scratchnet}
cores=$(nproc)
threads=$((cores / P)); [ "$threads" -ge 1 ] || threads=1
flags=""
[ "$(id -u)" = 0 ] && flags="$flags --allow-run-as-root"
if [ "$P" -gt "$cores" ]; then
    flags="$flags --oversubscribe --bind-to none"
else
    flags="$flags --map-by slot:PE=$threads --bind-to core"
fi
echo "launch/local.sh: $P rank(s) x $threads thread(s) on $cores core(s)" >&2
exec mpirun -np "$P" $flags --mca btl_vader_single_copy_mechanism none \
    -x OMP_NUM_THREADS="$threads" -x OMP_PROC_BIND=true "$bin" "$@"
