#!/bin/bash
# A process limit too low for MPI, refused before MPI starts, is said once
# per job with each MPI family, when a wrapper sets it in every rank
# (`sh -c 'ulimit -n 40; exec scratchnet ...'`, a job script's idiom) as
# when the launcher has it: under MPICH, whose launcher waits for every
# rank, each rank said it (N lines).  The check comes before any file is
# read, so the command's files need not exist.  And a stop while MPI
# starts ends a rank whose MPI_Init never returns.
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
    # started by the other family's launcher: 3 worlds of one, said once by
    # rank 0 (round 67 F7: each process said it)
    case $family in
    openmpi) other="mpiexec.mpich -n 3" ;;
    mpich) other="mpirun --oversubscribe -np 3" ;;
    esac
    timeout 60 $other "$bin" info --model none.cfg > "$out" 2>&1
    rc=$?
    lines=$(grep -c "scratchnet: error:" "$out")
    if [ "$rc" = 0 ] || [ "$rc" = 124 ] || [ "$lines" != 1 ] ||
        ! grep -q "this process sees a world of 1 rank but .* says the job has more: " "$out"; then
        bad "$family binary under the other family's launcher, 3 processes: exit $rc, $lines" \
            "error line(s) (want 1, in full):"
        cat "$out"
    fi
done
# A rank that ended before MPI started leaves MPICH's rank 0 waiting in
# MPI_Init for good (hydra's way); one stop ends it 5 s later with a line
# (it waited for a second stop before)
bin=${SN_BIN_MPICH:-}
if [ -n "$bin" ] && [ -x "$bin" ]; then
    mpiexec.mpich -n 1 "$bin" train --model none.cfg --data none.h5 : -n 1 sh -c \
        "ulimit -n 40; exec $bin train --model none.cfg --data none.h5" > "$out" 2>&1 &
    job=$!
    for i in $(seq 100); do   # rank 0 up and the other rank gone
        r0=$(pgrep -f "^$bin train --model none.cfg" | head -1)
        [ -n "$r0" ] && grep -q "ulimit -n" "$out" && break
        sleep 0.1
    done
    start=$(date +%s)
    kill -TERM "$r0" 2>/dev/null
    for i in $(seq 300); do kill -0 "$job" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$job" 2>/dev/null; then
        bad "MPICH rank 0 in MPI_Init still running 30 s after one SIGTERM"
        pkill -KILL -f "^$bin train --model none.cfg"; kill -KILL "$job"
    elif ! grep -q "stopped while MPI started, which had not ended 5 s later" "$out"; then
        bad "MPICH rank 0 stopped in MPI_Init: no line saying so: $(cat "$out")"
    fi
    wait "$job" 2>/dev/null
    echo "MPICH rank 0 stopped in MPI_Init: ended after $(( $(date +%s) - start )) s"
fi
[ "$tried" -gt 0 ] || { echo "no binary given (SN_BIN_OPENMPI, SN_BIN_MPICH)"; exit 77; }
[ "$fails" = 0 ]
