#!/bin/bash
# A process limit too low for MPI, refused before MPI starts, is said once
# per job with each MPI family, when a wrapper sets it in every rank
# (`sh -c 'ulimit -n 40; exec scratchnet ...'`, a job script's idiom) as
# when the launcher has it: under MPICH, whose launcher waits for every
# rank, each rank said it (N lines).  The check comes before any file is
# read, so the command's files need not exist.
# SN_BIN_OPENMPI / SN_BIN_MPICH: the binaries (a family without one is
# skipped).
set -u
fails=0 tried=0
bad() { echo "prelimits.sh: $*"; fails=$((fails + 1)); }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for family in openmpi mpich; do
    case $family in
    openmpi) bin=${SN_BIN_OPENMPI:-} run="mpirun --oversubscribe -np 3" ;;
    mpich) bin=${SN_BIN_MPICH:-} run="mpiexec.mpich -n 3" ;;
    esac
    [ -n "$bin" ] && [ -x "$bin" ] || continue
    tried=$((tried + 1))
    cmd="train --model none.cfg --data none.h5 --out none-w.h5"
    for how in wrapper launcher; do
        if [ $how = wrapper ]; then
            timeout 60 $run sh -c "ulimit -n 40; exec $bin $cmd" > "$out" 2>&1
        else
            (ulimit -n 40; timeout 60 $run $bin $cmd) > "$out" 2>&1
        fi
        rc=$?
        lines=$(grep -c "the open-file limit (ulimit -n) is 40, below the 64" "$out")
        if [ "$rc" = 0 ] || [ "$rc" = 124 ] || [ "$lines" != 1 ]; then
            bad "$family, the limit set by the $how in 3 ranks: exit $rc, $lines line(s) (want 1):"
            cat "$out"
        fi
    done
done
[ "$tried" -gt 0 ] || { echo "no binary given (SN_BIN_OPENMPI, SN_BIN_MPICH)"; exit 77; }
[ "$fails" = 0 ]
