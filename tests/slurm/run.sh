#!/bin/bash
# tests/slurm/run.sh: a one-node Slurm on this machine (launch/slurm-sandbox.sh
# in a temporary folder; it installs Debian's slurm-wlm and munge when they
# are missing), then launch/slurm.sbatch submitted with sbatch (make
# test-slurm; needs root):
#   1. a job trains and leaves a checkpoint, the final weights and FINISHED;
#      a second submission resumes from it
#   2. the default checkpoint folder is per job name, model and data: a job
#      on other data does not resume the first one's checkpoint, one on the
#      same data staged to another folder does
#   3. requeue of a job that is certainly running (a progress line seen, far
#      from its end): clean stop (exit 75, checkpoint), resume, finish
#   4. a chain: a job cut off by SIGTERM to its batch shell (what
#      --signal=B:TERM@120 sends before the time limit) exits 75, its
#      sbatch --dependency=afternotok successor resumes and finishes, and the
#      successor of a finished job never runs
#   5. the time limit itself: --time=1 --signal=B:TERM@50 cuts the job off
#      cleanly with a checkpoint
#   6. an MPICH build (build-mpich/, when built) runs at 2 ranks
# Jobs run from a folder of their own (checkpoints/ lands there).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
tmp=$(mktemp -d /tmp/sn-slurm.XXXXXX)
# the sandbox's Slurm (launch/slurm-sandbox.sh) in a folder of this run's
export SANDBOX=$tmp/slurm
sandbox=$top/launch/slurm-sandbox.sh
cleanup() {
    "$sandbox" stop || true
    rm -rf "$tmp"
}
trap cleanup EXIT
"$sandbox" start --install
export SLURM_CONF=$SANDBOX/slurm.conf
sinfo
make --no-print-directory data >/dev/null
data=$top/data/fashion-mnist.h5
sub=$tmp/submit
mkdir -p "$sub"
cd "$sub"
export SCRATCHNET=$top/build/scratchnet MODEL=$top/models/mlp.cfg DATA=$data
sb=$top/launch/slurm.sbatch
status=0
fail() { echo "FAIL: $*"; status=1; }
# wait (up to $2 s) until the job $1 has left the queue
wait_gone() {
    for i in $(seq "$2"); do
        [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0
        sleep 1
    done
    fail "job $1 still in the queue after $2 s"
}
# wait (up to $3 s) until file $1 holds the text $2
wait_text() {
    for i in $(seq $(($3 * 5))); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.2
    done
    fail "no '$2' in $1 after $3 s"
}

# 1. first job: 300 steps; second job: resumes and goes on to 400 (a longer
#    run moves the schedule's horizon, which resume refuses unless told)
ck=$tmp/ckpt
CKPT=$ck sbatch --wait -o "$tmp/job1.out" "$sb" --steps 300 --quiet || fail "job 1 exit status"
cat "$tmp/job1.out"
ls "$ck"/ckpt-00000300.h5 >/dev/null || fail "no checkpoint after the first job"
[ -f "$ck/final.h5" ] || fail "no final weights (--out) after the first job"
[ -f "$ck/FINISHED" ] || fail "no FINISHED marker after the first job"
CKPT=$ck sbatch --wait -o "$tmp/job2.out" "$sb" --steps 400 --resume-override horizon || fail "job 2 exit status"
cat "$tmp/job2.out"
grep -q "resumed from $ck/ckpt-00000300.h5" "$tmp/job2.out" || fail "the second job did not resume"
ls "$ck"/ckpt-00000400.h5 >/dev/null || fail "no checkpoint after the second job"

# 2. the default folder: the same job name on other data starts fresh
"$SCRATCHNET" convert subset "$data" --classes 0-4 --per-class 200 -o "$tmp/five.h5" >/dev/null
sbatch --wait -o "$tmp/job2a.out" "$sb" --steps 60 --quiet || fail "job 2a exit status"
DATA=$tmp/five.h5 sbatch --wait -o "$tmp/job2b.out" "$sb" --steps 60 || fail "job 2b exit status"
cat "$tmp/job2a.out" "$tmp/job2b.out"
grep -q "resumed from" "$tmp/job2b.out" && fail "a job on other data resumed another job's checkpoint"
grep -q "resume auto: no checkpoint in checkpoints/scratchnet-mlp-five-" "$tmp/job2b.out" ||
    fail "the job on other data did not get a folder of its own"
[ "$(ls -d checkpoints/scratchnet-mlp-*/ | wc -l)" = 2 ] || fail "expected two checkpoint folders"
# ... and the same data staged to a folder of the job's own (a per-job
# local disk) continues the first job's run
mkdir -p "$tmp/stage/job9" && cp "$data" "$tmp/stage/job9/"
DATA=$tmp/stage/job9/fashion-mnist.h5 sbatch --wait -o "$tmp/job2c.out" "$sb" --steps 60 ||
    fail "job 2c exit status"
cat "$tmp/job2c.out"
grep -q "resumed from checkpoints/scratchnet-mlp-fashion-mnist-" "$tmp/job2c.out" ||
    fail "a job on the same data staged elsewhere did not continue the first one's run"

# 3. requeue a job that is certainly running: wait for its first progress
# line (step 50 of 8000; the requeue reaches it a few hundred steps later)
jid=$(sbatch --parsable -J requeue --open-mode=append -o "$tmp/job3.out" "$sb" \
      --steps 8000 --epochs 1000 --progress-every 50)
wait_text "$tmp/job3.out" "epoch 1/1000 \[" 120
scontrol requeue "$jid"
# once requeued (pending again), a job waits two minutes before it is
# eligible to start; this test need not
for i in $(seq 600); do
    [ "$(squeue -h -j "$jid" -o %T:%r 2>/dev/null)" = PENDING:BeginTime ] && break
    sleep 0.1
done
scontrol update JobId="$jid" StartTime=now || true
wait_gone "$jid" 300
cat "$tmp/job3.out"
ck3=$(ls -d checkpoints/requeue-mlp-fashion-mnist-* 2>/dev/null || echo none)
grep -q "stopped by SIGTERM" "$tmp/job3.out" || fail "no clean stop at requeue"
grep -q "cut off by SIGTERM" "$tmp/job3.out" || fail "the requeued run did not say it was cut off"
grep -q "resumed from $ck3/ckpt-" "$tmp/job3.out" || fail "the requeued job did not resume"
ls "$ck3"/ckpt-00008000.h5 >/dev/null || fail "the requeued job did not finish"
[ -f "$ck3/FINISHED" ] || fail "no FINISHED marker after the requeued job"

# 4. a chain: cut off -> exit 75 -> the afternotok successor resumes and finishes
j4=$(sbatch --parsable -J chain -o "$tmp/job4.out" "$sb" --steps 8000 --epochs 1000 --progress-every 50)
j5=$(sbatch --parsable -J chain -o "$tmp/job5.out" --dependency=afternotok:"$j4" "$sb" \
     --steps 8000 --epochs 1000 --progress-every 1000)
j6=$(sbatch --parsable -J chain -o "$tmp/job6.out" --dependency=afternotok:"$j5" "$sb" \
     --steps 8000 --epochs 1000)
wait_text "$tmp/job4.out" "epoch 1/1000 \[" 120
scancel --batch --signal=TERM "$j4"
wait_gone "$j4" 120
wait_gone "$j5" 300
cat "$tmp/job4.out" "$tmp/job5.out"
grep -q "cut off by SIGTERM.*(exit status 75)" "$tmp/job4.out" || fail "job 4 not cut off with 75"
grep -q "resumed from checkpoints/chain-mlp-fashion-mnist-" "$tmp/job5.out" ||
    fail "the chained job did not resume"
grep -q "finished; wrote checkpoints/chain-" "$tmp/job5.out" || fail "the chained job did not finish"
# slurmctld marks it on its next pass over the queue
for i in $(seq 120); do
    reason=$(squeue -h -j "$j6" -o %r 2>/dev/null || true)
    [ "$reason" = DependencyNeverSatisfied ] && break
    sleep 0.5
done
[ "$reason" = DependencyNeverSatisfied ] ||
    fail "the successor of a finished job should never run (squeue says '$reason')"
scancel "$j6" 2>/dev/null || true
[ -s "$tmp/job6.out" ] && fail "the successor of a finished job ran"

# 5. the time limit: TERM to the batch shell 50 s before 1 minute is up
# (Slurm may send it earlier, even before training starts: then there is
# no checkpoint to ask for, but the job must still end as cut off)
jid=$(sbatch --parsable -J limit --time=1 --signal=B:TERM@50 -o "$tmp/job7.out" "$sb" \
      --steps 1000000 --epochs 1000 --progress-every 500)
wait_gone "$jid" 150
grep -v '^epoch' "$tmp/job7.out" || true
grep -q "cut off by SIGTERM.*(exit status 75)" "$tmp/job7.out" ||
    fail "the time limit did not end the job as cut off"
if grep -q "^epoch 1/1000 \[" "$tmp/job7.out"; then   # training had started
    grep -q "stopped by SIGTERM" "$tmp/job7.out" || fail "no clean stop at the time limit"
    ls checkpoints/limit-mlp-fashion-mnist-*/ckpt-*.h5 >/dev/null 2>&1 ||
        fail "no checkpoint at the time limit"
else
    echo "(the time-limit signal came before training started: nothing to checkpoint)"
fi

# 6. an MPICH build at 2 ranks: srun starts it with PMI-2 (under PMIx each
# rank saw a world of one)
if [ -x "$top/build-mpich/scratchnet" ]; then
    SCRATCHNET=$top/build-mpich/scratchnet CKPT=$tmp/ckmpich sbatch --wait -n 2 \
        -o "$tmp/job8.out" "$sb" --steps 40 || fail "job 8 (MPICH) exit status"
    cat "$tmp/job8.out"
    grep -q "2 ranks (mpi)" "$tmp/job8.out" || fail "the MPICH build did not run as 2 ranks"
    [ -f "$tmp/ckmpich/FINISHED" ] || fail "no FINISHED marker after the MPICH job"
else
    echo "(no build-mpich/scratchnet: the MPICH case is skipped; make MPI=mpich builds it)"
fi

if [ $status = 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $status
