#!/bin/bash
# launch/slurm-sandbox.sh: a private one-node Slurm on this machine, to try
# launch/slurm.sbatch (time limits, requeue, chains) without a cluster.
#
#   launch/slurm-sandbox.sh start [--install]   start it; prints the line to run:
#                                                 export SLURM_CONF=DIR/slurm.conf
#   launch/slurm-sandbox.sh status              say whether it runs
#   launch/slurm-sandbox.sh stop                cancel its jobs, stop it, remove DIR
#
# DIR is /tmp/scratchnet-slurm, or SANDBOX=DIR.  It holds a MUNGE key and
# the socket of a munged of its own, a slurm.conf (cluster sntest, this
# machine as controller and only node with all its CPUs, partition debug
# without a time limit, daemons as root on ports 16817 and 16818), the
# state, spool, logs and pid files; /etc/slurm and /etc/munge are not read
# or changed.  It runs until `stop`, which ends exactly the three daemons of
# its pid files that were started for DIR, and acts only on a DIR of this
# user that no one else may write in.  `start` needs Debian's slurm-wlm and munge packages:
# without them it prints the apt-get line to run, with --install it runs it.
# start and stop need root (the daemons run as root); status does not.
# Exit status: 0 done (status: running), 1 failed (status: not running or
# only in part), 2 wrong usage or not root.  A failed start removes what it
# started.  tests/slurm/run.sh (make test-slurm) runs its jobs on this Slurm.
set -uo pipefail
DIR=${SANDBOX:-/tmp/scratchnet-slurm}
CONF=$DIR/slurm.conf
MARK=$DIR/scratchnet-slurm-sandbox
PORTS="16817 16818"
DAEMONS="ctld:slurmctld d:slurmd munge:munged"   # pid file stem : process name
say() { echo "slurm-sandbox: $*" >&2; }
usage() { sed -n '5,8p' "$0" >&2; exit 2; }

# the pid in DIR/$1.pid if that process runs, is the daemon $2 and was
# started for DIR (its command line names a file in DIR): a pid left in a
# stale file may belong to another process by now, such as the machine's
# own munged
live_pid() {
    local pid cmd
    pid=$(cat "$DIR/$1.pid" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 1
    cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || return 1
    case "$cmd" in *"$DIR/"*) echo "$pid" ;; *) return 1 ;; esac
}

# DIR must be this user's own folder, writable by no one else: stop and a
# stale start remove it and end the processes its pid files name, and in
# /tmp anyone can make a folder of that name for root's `stop` to act on
own_dir() {
    local owner mode
    if [ -L "$DIR" ] || [ ! -d "$DIR" ]; then
        say "$DIR is not a folder (a link or a file): left alone"
        exit 1
    fi
    read -r owner mode <<< "$(stat -c '%u %a' -- "$DIR")"
    if [ "$owner" != "$(id -u)" ] || (( 8#$mode & 8#022 )); then
        say "$DIR belongs to another user (uid $owner) or others may write in it (mode $mode): left alone"
        exit 1
    fi
}

# how many of the three daemons run
count_live() {
    local n=0 d
    for d in $DAEMONS; do live_pid "${d%%:*}" "${d#*:}" >/dev/null && n=$((n + 1)); done
    echo $n
}

# end the daemons of the pid files (TERM, then KILL after 10 s) and remove DIR
teardown() {
    local d pid i
    for d in $DAEMONS; do
        pid=$(live_pid "${d%%:*}" "${d#*:}") || continue
        kill "$pid" 2>/dev/null
        for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    done
    rm -rf "$DIR"
}

need_root() {
    [ "$(id -u)" = 0 ] || { say "$1 needs root (the daemons run as root): run it with sudo"; exit 2; }
}

# the packages: installed, installed now (--install), or the line to run
check_packages() {
    local missing="" p
    for p in munged slurmctld slurmd sbatch; do command -v "$p" >/dev/null || missing="$missing $p"; done
    [ -z "$missing" ] && return 0
    if [ "$1" = --install ]; then
        say "installing slurm-wlm and munge (missing:$missing)"
        apt-get install -y -q slurm-wlm munge >&2 && return 0
        say "apt-get install failed"; exit 1
    fi
    say "missing:$missing; install them with:"
    say "    apt-get install -y slurm-wlm munge"
    say "or run: $0 start --install"
    exit 1
}

# refuse a port in use (another Slurm, or make test-slurm's)
check_ports() {
    local p
    for p in $PORTS; do
        if [ -n "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
            say "port $p is in use (another Slurm, or make test-slurm running?):"
            ss -Hltnp "sport = :$p" >&2
            exit 1
        fi
    done
}

write_conf() {
    local host=$1
    cat > "$CONF" <<CONF
ClusterName=sntest
SlurmctldHost=$host
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/ctld.pid
SlurmdPidFile=$DIR/d.pid
SlurmctldLogFile=$DIR/ctld.log
SlurmdLogFile=$DIR/d.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
NodeName=$host CPUs=$(nproc) RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=UNLIMITED State=UP OverSubscribe=YES
CONF
}

# a failed start: the daemons' logs, then nothing left behind
start_failed() {
    local f
    say "$1"
    for f in munge/log ctld.log d.log; do
        [ -s "$DIR/$f" ] && { say "--- $DIR/$f (end)"; tail -5 "$DIR/$f" >&2; }
    done
    teardown
    say "stopped what it started; nothing left in $DIR"
    exit 1
}

# is DIR taken: by a sandbox that runs (refuse), by a stopped one (removed),
# or by something else (refuse, never removed)
check_dir() {
    [ -e "$DIR" ] || return 0
    [ -f "$MARK" ] || { say "$DIR exists and is not a sandbox folder: choose another with SANDBOX=DIR"; exit 1; }
    own_dir
    if [ "$(count_live)" != 0 ]; then
        say "already running in $DIR (to use it: export SLURM_CONF=$CONF; to stop it: $0 stop)"
        exit 1
    fi
    say "removing $DIR, left by a sandbox that no longer runs"
    rm -rf "$DIR"
}

start() {
    local host i
    need_root start
    [ $# -le 1 ] && [ "${1:---install}" = --install ] || usage
    check_packages "${1:-}"
    check_dir
    check_ports
    mkdir -m 755 "$DIR" || exit 1
    touch "$MARK" || exit 1
    trap 'start_failed "interrupted"' INT TERM HUP
    mkdir -p "$DIR/state" "$DIR/spool" "$DIR/munge"
    host=$(hostname)
    dd if=/dev/urandom of="$DIR/munge/key" bs=1024 count=1 2>/dev/null && chmod 400 "$DIR/munge/key" ||
        start_failed "could not write the MUNGE key"
    munged --key-file="$DIR/munge/key" --socket="$DIR/munge/sock" --pid-file="$DIR/munge.pid" \
        --log-file="$DIR/munge/log" --seed-file="$DIR/munge/seed" --force ||
        start_failed "munged did not start"
    write_conf "$host" || start_failed "could not write $CONF"
    slurmctld -f "$CONF" || start_failed "slurmctld did not start"
    slurmd -f "$CONF" || start_failed "slurmd did not start"
    for i in $(seq 60); do
        [ "$(SLURM_CONF=$CONF sinfo -h -o %T 2>/dev/null)" = idle ] && break
        [ "$(count_live)" = 3 ] || start_failed "a daemon ended while starting"
        sleep 0.5
    done
    [ "$(SLURM_CONF=$CONF sinfo -h -o %T 2>/dev/null)" = idle ] ||
        start_failed "node $host not idle after 30 s"
    trap - INT TERM HUP
    say "running in $DIR: cluster sntest, node $host ($(nproc) CPUs), partition debug;"
    say "stop it with: ${SANDBOX:+SANDBOX=$SANDBOX }$0 stop.  To use it in a shell, run:"
    echo "export SLURM_CONF=$CONF"
}

# scancel the sandbox's jobs and wait (up to 60 s) until they have left
cancel_jobs() {
    local i
    export SLURM_CONF=$CONF
    [ -n "$(squeue -h -o %i 2>/dev/null)" ] || return 0
    say "cancelling its jobs: $(squeue -h -o %i | tr '\n' ' ')"
    scancel $(squeue -h -o %i) 2>/dev/null
    for i in $(seq 120); do
        [ -z "$(squeue -h -o %i 2>/dev/null)" ] && return 0
        sleep 0.5
    done
    say "jobs still in the queue after 60 s; stopping anyway"
}

stop() {
    [ $# = 0 ] || usage
    need_root stop
    [ -e "$DIR" ] || { say "not running (no $DIR)"; return 0; }
    [ -f "$MARK" ] || { say "$DIR is not a sandbox folder: left alone"; exit 1; }
    own_dir
    [ "$(count_live)" = 3 ] && cancel_jobs
    teardown
    say "stopped; $DIR removed"
}

status() {
    local d pid n=0 line=""
    [ $# = 0 ] || usage
    [ -f "$MARK" ] || { say "not running (no sandbox in $DIR)"; exit 1; }
    for d in $DAEMONS; do
        pid=$(live_pid "${d%%:*}" "${d#*:}") && { n=$((n + 1)); line="$line ${d#*:} $pid"; }
    done
    case $n in
        3) say "running in $DIR:$line; to use it: export SLURM_CONF=$CONF" ;;
        0) say "not running (folder $DIR left; $0 stop removes it)"; exit 1 ;;
        *) say "only in part:${line:- no daemon}; $0 stop ends it"; exit 1 ;;
    esac
}

cmd=${1:-}; [ $# -gt 0 ] && shift
case $cmd in
    start) start "$@" ;;
    stop) stop "$@" ;;
    status) status "$@" ;;
    *) usage ;;
esac
