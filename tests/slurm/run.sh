#!/bin/bash
# tests/slurm/run.sh: a one-node Slurm on this machine (slurmctld + slurmd +
# munge, configured in a temporary folder), then launch/slurm.sbatch
# submitted with sbatch: the job must train and leave a checkpoint, and a
# second submission must resume from it (make test-slurm; installs
# Debian's slurm-wlm when run as root).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
command -v slurmctld >/dev/null || apt-get install -y -q slurm-wlm munge
tmp=$(mktemp -d /tmp/sn-slurm.XXXXXX)
host=$(hostname)
cpus=$(nproc)
cleanup() {
    [ -f "$tmp/ctld.pid" ] && kill "$(cat "$tmp/ctld.pid")" 2>/dev/null || true
    [ -f "$tmp/d.pid" ] && kill "$(cat "$tmp/d.pid")" 2>/dev/null || true
    [ -f "$tmp/munge.pid" ] && kill "$(cat "$tmp/munge.pid")" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/munge"
# munge with a key of its own
dd if=/dev/urandom of="$tmp/munge/key" bs=1024 count=1 2>/dev/null
chmod 400 "$tmp/munge/key"
munged --key-file="$tmp/munge/key" --socket="$tmp/munge/sock" --pid-file="$tmp/munge.pid" \
    --log-file="$tmp/munge/log" --seed-file="$tmp/munge/seed" --force
cat > "$tmp/slurm.conf" <<CONF
ClusterName=sntest
SlurmctldHost=$host
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/ctld.pid
SlurmdPidFile=$tmp/d.pid
SlurmctldLogFile=$tmp/ctld.log
SlurmdLogFile=$tmp/d.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
NodeName=$host CPUs=$cpus RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=30 State=UP OverSubscribe=YES
CONF
export SLURM_CONF=$tmp/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for i in $(seq 30); do
    sinfo -h -o %T 2>/dev/null | grep -q idle && break
    sleep 1
done
sinfo
make --no-print-directory data >/dev/null
ck=$tmp/ckpt
status=0
# first job: 300 steps; second job: resumes and goes on to 400
MODEL=models/mlp.cfg CKPT=$ck sbatch --wait -o "$tmp/job1.out" launch/slurm.sbatch --steps 300 --quiet || status=1
cat "$tmp/job1.out"
ls "$ck"/ckpt-00000300.h5 >/dev/null || { echo "FAIL: no checkpoint after the first job"; status=1; }
MODEL=models/mlp.cfg CKPT=$ck sbatch --wait -o "$tmp/job2.out" launch/slurm.sbatch --steps 400 || status=1
cat "$tmp/job2.out"
grep -q "resumed from $ck/ckpt-00000300.h5" "$tmp/job2.out" || { echo "FAIL: the second job did not resume"; status=1; }
ls "$ck"/ckpt-00000400.h5 >/dev/null || { echo "FAIL: no checkpoint after the second job"; status=1; }
# preemption: requeue a running job; Slurm sends SIGTERM, scratchnet writes a
# checkpoint and exits 0, the requeued job resumes from it and finishes
ck3=$tmp/ckpt3
jid=$(MODEL=models/mlp.cfg CKPT=$ck3 sbatch --parsable --open-mode=append -o "$tmp/job3.out" \
      launch/slurm.sbatch --steps 2500)
for i in $(seq 60); do
    [ "$(squeue -h -j "$jid" -o %T)" = RUNNING ] && break
    sleep 0.5
done
sleep 4
scontrol requeue "$jid"
for i in $(seq 240); do
    [ -z "$(squeue -h -j "$jid" 2>/dev/null)" ] && break
    sleep 1
done
cat "$tmp/job3.out"
grep -q "stopped by signal 15" "$tmp/job3.out" || { echo "FAIL: no clean stop at requeue"; status=1; }
grep -q "resumed from $ck3/ckpt-" "$tmp/job3.out" || { echo "FAIL: the requeued job did not resume"; status=1; }
ls "$ck3"/ckpt-00002500.h5 >/dev/null || { echo "FAIL: the requeued job did not finish"; status=1; }
if [ $status = 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $status
