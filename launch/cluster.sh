#!/bin/bash
# launch/cluster.sh: run scratchnet on the nodes of a hostfile, with Open MPI
# or MPICH, and make sure the job ends when a node is lost.
#
#   launch/cluster.sh HOSTFILE scratchnet-arguments...
#   e.g. launch/cluster.sh launch/hostfile.example train --model models/mlp.cfg \
#            --data /shared/fashion-mnist.h5 --checkpoint-dir /shared/ckpt --resume auto
#
# HOSTFILE is Open MPI's format, one node a line: `node01 slots=2` (slots =
# ranks on that node); it is turned into hydra's `node01:2` for MPICH.
# Environment (all optional):
#   MPI=openmpi|mpich  the MPI scratchnet was built with (make MPI=...); default openmpi
#   SCRATCHNET=PATH    the command (default build/scratchnet, build-mpich/scratchnet for mpich)
#   THREADS=T          OpenMP threads per rank, 1 to 1024 (default: this node's cores /
#                      ranks per node)
#   BIND=core|none     bind each rank to its T cores (default) or not at all
#   AGENT=CMD          how the launcher reaches a node (default ssh; words, such
#                      as `ssh -p 2222`)
#   PASS_ENV="A B"     more variables for every rank (Open MPI passes only what
#                      it is told with -x: this script passes OMP_NUM_THREADS,
#                      and HDF5_USE_FILE_LOCKING, HDF5_PLUGIN_PATH,
#                      OPENBLAS_CORETYPE, SN_MODEL_MAX_BYTES, SN_MPI and
#                      SN_CKPT_LOCK when set;
#                      MPICH's mpiexec passes the whole environment)
#   GRACE=S            seconds the launcher may take to end the job after a rank's
#                      watchdog (train --timeout) gave up (default 5)
# A lost node (its network cut, or the machine gone) can leave mpirun or
# mpiexec waiting for it for the kernel's TCP timeout, about 15 minutes:
# when a rank's watchdog has given up and the launcher is still running
# GRACE seconds later, this script asks every node for an answer (AGENT
# NODE true), names those that give none, ends the launcher and exits 1.
# SIGTERM, SIGINT (Ctrl-C), SIGUSR1, SIGHUP (the terminal or ssh session
# closed) or another signal scratchnet stops on (SIGUSR2, SIGALRM, SIGQUIT,
# SIGXCPU, SIGPWR) to this script stops the run as launch/local.sh does:
# the ranks finish the step, save (checkpoint, --out) and exit 0, and this
# script exits with the launcher's status (0).  Open MPI's mpirun passes
# SIGUSR1 alone to the ranks of every node, so it gets SIGUSR1 for each;
# MPICH's mpiexec gets SIGTERM, SIGINT or SIGUSR1 itself (SIGTERM for the
# others, which it would die of).
set -uo pipefail
[ $# -ge 2 ] || { sed -n '2,39p' "$0" >&2; exit 2; }
hostfile=$1; shift
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)   # through a link to the script
# A stop signal before the job starts: noted, and nothing is started (it
# killed the script, exit 143 and no line, or came too early to be passed on)
early=""
stops="TERM INT USR1 HUP USR2 ALRM QUIT XCPU PWR"   # as src/cli/main.c takes them
for s in $stops; do trap "early=$s" "$s"; done
# A stop to the script's process group (scancel, timeout, kill -- -PGID)
# also ends the set-up's helpers (head, mktemp): a step that failed then
# failed of the stop, which is said instead of blaming the user's files
stopped_early() {
    [ -n "$early" ] || return 0
    echo "launch/cluster.sh: SIG$early before the job started: nothing started, nothing saved" >&2
    exit 1
}
die() { stopped_early; echo "launch/cluster.sh: $*" >&2; exit 2; }
[ -r "$hostfile" ] || die "cannot read the hostfile '$hostfile'"
MPI=${MPI:-openmpi}
AGENT=${AGENT:-ssh}
BIND=${BIND:-core}
GRACE=${GRACE:-5}
case "$BIND" in core|none) ;; *) die "BIND must be core or none, got '$BIND'" ;; esac
. "$here/launch/nodes.sh"
v=$(whole "$GRACE" 1 999) || die "GRACE must be whole seconds from 1 to 999, got '$GRACE'"
GRACE=$v

# the nodes and their slots (every node must have the same count)
me=launch/cluster.sh
read_hostfile "$hostfile" || { stopped_early; exit 2; }
np=$((per * ${#nodes[@]}))
if [ -n "${THREADS:-}" ]; then
    # scratchnet's range for a rank's threads (--threads, OMP_NUM_THREADS)
    v=$(whole "$THREADS" 1 1024) || die "THREADS must be a whole number from 1 to 1024, got '$THREADS'"
    THREADS=$v
else   # this node's cores: nproc alone answers OMP_NUM_THREADS
    cores=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
    THREADS=$(( cores / per ))
    [ "$THREADS" -ge 1 ] || THREADS=1
    [ "$THREADS" -le 1024 ] || THREADS=1024
    threads_from=" (from this machine's $cores cores; THREADS= to set)"
fi

cwd_nameable || die "$room_why"
tmpdir_room || die "$room_why"
tmp=$(mktemp -d 2>/dev/null) ||   # every file of the launch goes there, never into /
    die "cannot make a temporary folder in ${TMPDIR:-/tmp} (TMPDIR): set TMPDIR to a folder you may write in"
# only this shell removes it: a child it forks (the watcher, a `sleep 1 &`)
# that a signal to the process group reaches before it has dropped this
# trap must not take the folder from under the watcher
trap '[ "$BASHPID" = "$$" ] && rm -rf "$tmp"' EXIT
case "$MPI" in
openmpi)
    bin=${SCRATCHNET:-$(default_bin "$here/build/scratchnet")}
    # the nodes as read and checked: mpirun never reads the user's file
    # again (a pipe would be empty, a file changed since unchecked)
    for n in "${nodes[@]}"; do echo "$n slots=$per"; done > "$tmp/hosts"
    # -q: without Open MPI's boxes after a rank's own one-line error (a
    # rank ended by a signal, or cores too few to bind, is said below)
    cmd=(mpirun -q --hostfile "$tmp/hosts" -np "$np" -x OMP_NUM_THREADS="$THREADS")
    [ "$(id -u)" = 0 ] && cmd+=(--allow-run-as-root)
    if [ "$BIND" = core ]; then
        cmd+=(--map-by "ppr:$per:node:PE=$THREADS" --bind-to core)
    else
        cmd+=(--map-by "ppr:$per:node" --bind-to none)
    fi
    [ "$AGENT" = ssh ] || cmd+=(--mca plm_rsh_agent "$AGENT")
    read -ra pass <<< "${PASS_ENV:-}"   # its words, never file names a '*' would match
    for v in HDF5_USE_FILE_LOCKING HDF5_PLUGIN_PATH OPENBLAS_CORETYPE SN_MODEL_MAX_BYTES SN_MPI \
             SN_CKPT_LOCK "${pass[@]}"; do
        case "$v" in [A-Za-z_]*) ;; *) die "PASS_ENV: '$v' is not a variable name" ;; esac
        case "$v" in *[!A-Za-z0-9_]*) die "PASS_ENV: '$v' is not a variable name" ;; esac
        [ -n "${!v+set}" ] && cmd+=(-x "$v")
    done
    ;;
mpich)
    bin=${SCRATCHNET:-$(default_bin "$here/build-mpich/scratchnet")}
    for n in "${nodes[@]}"; do echo "$n:$per"; done > "$tmp/hosts"
    mpiexec=mpiexec.mpich
    command -v "$mpiexec" >/dev/null || mpiexec=mpiexec
    cmd=("$mpiexec" -f "$tmp/hosts" -n "$np" -ppn "$per" -genv OMP_NUM_THREADS "$THREADS"
         -launcher ssh)
    [ "$BIND" = core ] && cmd+=(-bind-to "core:$THREADS")
    [ "$AGENT" = ssh ] || cmd+=(-launcher-exec "$AGENT")
    ;;
*) die "MPI must be openmpi or mpich, got '$MPI'" ;;
esac
case "$bin" in -*)   # never an option of the launcher's
    die "SCRATCHNET='$bin': the path of a program, not an option (./$bin for a file of that name)" ;;
esac
# the binary: which build it is, and whether the sources changed since
# (build-mpich/ is rebuilt only by make MPI=mpich, build/ only by make)
make_it="make"
[ "$MPI" = mpich ] && make_it="make MPI=mpich"
version=""
# a path given that names no program here (mpirun then exits 132, read
# as SIGILL): every node runs it by that path, this one too
case "${SCRATCHNET:-}" in
'') ;;
*/*) [ -f "$bin" ] && [ -x "$bin" ] || die "SCRATCHNET=$bin: no executable file at that path" ;;
*)   # a name the nodes look up on PATH (mpirun then exits 134, read as SIGABRT)
    if ! command -v "$bin" > /dev/null; then
        [ -n "$self_node" ] && die "SCRATCHNET=$bin: no program of that name on PATH here" \
                                   "(every node runs it by that name; give its path)"
        echo "$me: warning: SCRATCHNET=$bin: no program of that name on PATH here; the nodes" \
             "must each have one" >&2
    fi ;;
esac
if [ -z "${SCRATCHNET:-}" ]; then
    [ -x "$bin" ] || no_bin "$bin" "$make_it"
    version=$(timeout 10 "$bin" --version 2>/dev/null | head -1)
    newer=$(find "$here/src" "$here/Makefile" -newer "$bin" \( -name '*.[ch]' -o -name Makefile \) \
            2>/dev/null | head -1)
    [ -n "$newer" ] && echo "launch/cluster.sh: warning: $bin is older than ${newer#"$here"/}:" \
                           "$make_it rebuilds it (the ranks run the old code otherwise)" >&2
fi
# the program this script found: built with the MPI family MPI= names
# (one SCRATCHNET names is the user's to know)
[ -z "${SCRATCHNET:-}" ] && same_mpi "$bin"
# on a node of the hostfile, its cores are known: bound ranks that do not
# fit end in Open MPI's binding error otherwise
if [ "$BIND" = core ] && [ -n "$self_node" ]; then
    have=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
    [ $((per * THREADS)) -le "$have" ] ||
        die "$per rank(s) x $THREADS thread(s) on $self_node do not fit its $have cores: lower THREADS or the slots, or BIND=none"
fi
given="" prev=""   # a --threads among scratchnet's arguments wins over THREADS
for a in "$@"; do
    case "$prev" in --threads) given=$a ;; esac
    case "$a" in --threads=*) given=${a#--threads=} ;; esac
    prev=$a
done
if [ -n "$given" ]; then
    threads_from=" (--threads $given given: that many run"
    [ "$BIND" = core ] && threads_from="$threads_from, on the $THREADS core(s) bound to each rank, which THREADS= sets"
    threads_from="$threads_from)"
fi
echo "launch/cluster.sh: $np rank(s) on ${#nodes[@]} node(s) ($per per node) x ${given:-$THREADS} thread(s)${threads_from:-}, $MPI: ${version:-$bin}" >&2

# The job, its stderr copied through a watcher that notes the first line
# of a rank's watchdog and the line that says the ranks took a stop.  The
# watcher outlives a stop signal to this script's process group: the
# launcher's stderr must stay readable.
mkfifo "$tmp/err"
{
    trap '' $stops PIPE
    while IFS= read -r line || [ -n "$line" ]; do   # a last line without its newline too
        printf '%s\n' "$line" >&2 2>/dev/null || :
        [ -e "$tmp/said" ] || { : > "$tmp/said"; } 2>/dev/null
        # scratchnet's own lines, from their first word: a name a user
        # gave (a --log path in a warning) must not read as one
        if [[ $line =~ ^scratchnet:\ error:\ rank\ [0-9]+:\ no\ progress\ for\ [0-9]+\ s\ after ]]; then
            [ -f "$tmp/gaveup" ] || { date +%s > "$tmp/gaveup"; } 2>/dev/null
        fi
        case "$line" in
        "scratchnet: interrupted by SIG"*"nothing trained, nothing saved"*)
            { : > "$tmp/stopped"; : > "$tmp/unsaved"; } 2>/dev/null ;;
        "scratchnet: stopped by SIG"*|"scratchnet: interrupted by SIG"*) { : > "$tmp/stopped"; } 2>/dev/null ;;
        "scratchnet: MPI_Finalize has not returned after "*"; the command's work is done (status 0): "*)
            { : > "$tmp/done0"; } 2>/dev/null ;;
        *"binding more processes than cpus"*) { : > "$tmp/overbound"; } 2>/dev/null ;;
        esac
    done
} < "$tmp/err" &
watcher=$!
# Its stdout through a copier that outlives a terminal that hangs up or a
# reader that went away (| head): it drops what it cannot write, where
# MPICH's mpiexec, writing to the gone terminal itself, ended with status
# 255 after the ranks had saved, and a pipe's SIGPIPE ended the job.
mkfifo "$tmp/out"
{
    trap '' $stops PIPE
    while IFS= read -r line || [ -n "$line" ]; do
        printf '%s\n' "$line" 2>/dev/null || echo >> "$tmp/out.lost"
    done
} < "$tmp/out" &
copier=$!
# In a session of its own, as in launch/local.sh: a Ctrl-C at the terminal
# or a signal to this script's process group reaches this script only
# (mpirun answers SIGTERM and SIGINT by ending the job itself, exit 1).
# Where setpriv can (util-linux 2.33 on), the launcher gets a stop signal
# if this script is killed outright (SIGKILL, timeout -s KILL), so the job
# stops too: SIGUSR1 for Open MPI's mpirun, which passes it to the ranks
# (they save and exit 0; SIGTERM it would answer by ending the job), SIGTERM
# for MPICH's mpiexec, which passes that on.
# setsid does not fork here, so $! is the launcher.
orphan=()
deathsig=TERM
[ "$MPI" = openmpi ] && deathsig=USR1
setpriv --pdeathsig $deathsig true 2>/dev/null && orphan=(setpriv --pdeathsig $deathsig)
if [ -n "$early" ]; then
    echo "launch/cluster.sh: SIG$early before the job started: nothing started, nothing saved" >&2
    exec 2>/dev/null   # not the watcher's end
    kill -KILL "$watcher" "$copier" 2>/dev/null
    exit 1
fi
setsid "${orphan[@]}" "${cmd[@]}" "$bin" "$@" > "$tmp/out" 2> "$tmp/err" &
job=$!

# A stop signal: passed on once (see the top); mpirun passes SIGUSR1 only
# to ranks that exist, so it gets it again every second until rank 0 says
# the ranks took it.  A second Ctrl-C goes to the launcher as SIGINT: the
# job ends at once.  Another SIGTERM or SIGUSR1 changes nothing (timeout(1)
# and Slurm send SIGTERM twice).
stop=""
pass_on() {
    if [ -n "$stop" ]; then   # a second Ctrl-C: the launcher ends the job at once
        [ "$1" = INT ] && kill -INT "$job" 2>/dev/null && second_int=yes
        return
    fi
    stop=$1
    case $1 in TERM|INT|USR1) ;; *) stop=TERM ;; esac   # mpiexec dies of SIGHUP, SIGUSR2...
    [ "$MPI" = openmpi ] && stop=USR1
    echo "launch/cluster.sh: SIG$1, passed on to the ranks as SIG$stop: they stop after this" \
         "step and save" >&2
    kill -"$stop" "$job" 2>/dev/null
}
for s in $stops; do trap "trapped=yes; pass_on $s" "$s"; done
[ -n "$early" ] && pass_on "$early"   # one that came while the job started

ended_by_us=0
while kill -0 "$job" 2>/dev/null; do
    sleep 1 & wait $!   # a wait, not sleep itself: a trapped signal ends it at once
    # until a rank says it took the stop: mpirun passes SIGUSR1 only to the
    # ranks it has started, and mpiexec dropped a SIGTERM that came before
    # its proxies had (the run trained on to its end: round 72 F4); never
    # SIGINT, whose second is a rank's end at once (Ctrl-C twice)
    case $stop in TERM|USR1) [ ! -e "$tmp/stopped" ] && kill -"$stop" "$job" 2>/dev/null ;; esac
    if [ -f "$tmp/gaveup" ] && [ $(( $(date +%s) - $(cat "$tmp/gaveup") )) -ge "$GRACE" ]; then
        lost=$(silent "${nodes[@]}" | sort | paste -sd ' ')
        echo "launch/cluster.sh: the job has not ended $GRACE s after a rank gave up;" \
             "no answer from: ${lost:-none (every node answers)}; ending $MPI's launcher" >&2
        exec 2>/dev/null   # not bash's "Killed" notices of the jobs ended here
        # mpirun is aborting already (a second signal makes it crash in
        # PMIx_Finalize); mpiexec passes SIGTERM on to the nodes it reaches
        if [ "$MPI" = mpich ]; then
            kill -TERM "$job" 2>/dev/null
            for i in 1 2 3 4; do kill -0 "$job" 2>/dev/null && sleep 0.5; done
        fi
        kill -KILL "$job" 2>/dev/null
        ended_by_us=1
        break
    fi
done
# The launcher's own exit status.  A trapped signal ends a wait early (128 +
# its number), and the launcher may end meanwhile: bash keeps its status for
# the next wait, and answers 127 to a wait after that one.
status=0 waited=""
while :; do
    trapped="" s=0
    { wait "$job" || s=$?; } 2>/dev/null   # not bash's "Killed" line
    [ "$s" = 127 ] && [ -n "$waited" ] && break
    status=$s waited=yes
    [ -n "$trapped" ] || break
done
if [ "$ended_by_us" = 1 ]; then   # its agents may hold the pipe open: stop reading
    sleep 1
    kill -KILL "$watcher" "$copier" 2>/dev/null   # they ignore SIGTERM
    exit 1
fi
# a launcher ended by a stop before it opened its FIFOs left their readers
# waiting in open() for good: a writer opened and closed here ends them
for fifo in "$tmp/out" "$tmp/err"; do : 3<>"$fifo"; done
while kill -0 "$watcher" 2>/dev/null; do wait "$watcher"; done   # to the job's last line
while kill -0 "$copier" 2>/dev/null; do wait "$copier"; done
# lines a reader that went away (a pipe, a terminal hung up) did not take
# were dropped on purpose; to a file or a device (> /dev/full, a full
# disk) they are results lost
case $(readlink "/proc/$$/fd/1" 2>/dev/null) in /dev/pts/*|/dev/tty*) tty_out=yes ;; *) tty_out="" ;; esac
if [ -s "$tmp/out.lost" ] && [ ! -p /dev/stdout ] && [ -z "$tty_out" ]; then
    echo "launch/cluster.sh: $(wc -l < "$tmp/out.lost") line(s) of the job's output could not" \
         "be written (a full disk, a closed output?): they are lost" >&2
    [ "$status" = 0 ] && status=1
    : > "$tmp/said"
fi
if [ "$status" != 0 ] && [ -f "$tmp/overbound" ]; then
    echo "launch/cluster.sh: $per rank(s) x $THREADS thread(s) do not fit a node's cores" \
         "(Open MPI could not bind them): lower THREADS or the slots, or BIND=none" >&2
    exit 2
fi
# a stop in the ranks' set-up ends them with 1, which MPICH's mpiexec,
# stopped itself, turned into 0: a job that trained nothing is no success
# (round 72 F3)
[ "$status" = 0 ] && [ -f "$tmp/unsaved" ] && status=1
if [ -n "${second_int:-}" ] && [ "$status" != 0 ]; then   # the exit said nothing (round 71 F6)
    echo "launch/cluster.sh: a second SIGINT ended the launcher at once (status $status):" \
         "the ranks' lines above say what was saved; --resume auto continues from the last" \
         "checkpoint" >&2
    exit "$status"
fi
# 129 to 192: ended by signal status - 128; 255 is a launcher's own failure
by_signal=0
[ "$status" -gt 128 ] && [ "$status" -le 192 ] && by_signal=1
if [ -n "$stop" ] && [ "$by_signal" = 1 ]; then   # a rank still starting cannot save yet
    saved="nothing was saved (no rank had started training)"
    [ -f "$tmp/stopped" ] && saved="the lines above say what was saved (--resume auto continues from the last checkpoint)"
    echo "launch/cluster.sh: the job ended by signal" \
         "SIG$(kill -l $((status - 128)) 2>/dev/null || echo $((status - 128))) after the stop" \
         "was passed on: a rank that had not started yet could not take it; $saved" >&2
    exit 1
fi
[ "$by_signal" = 1 ] && echo "launch/cluster.sh: a rank or the launcher was ended by signal" \
    "SIG$(kill -l $((status - 128)) 2>/dev/null || echo $((status - 128)))" \
    "$([ "$status" = 137 ] && echo "(by scratchnet's watchdog when 'no progress' lines" \
       "above name a rank, else by the kernel's out-of-memory killer or a user; a" \
       "training run continues with --resume auto)")" >&2
# ranks whose MPI_Finalize hung ended themselves after work that every
# rank agreed had succeeded; hydra then called the job failed, status 255
# (user 46 U12: an 8-rank MPICH job on the bed)
if [ "$status" != 0 ] && [ -f "$tmp/done0" ] && [ -z "$stop" ]; then
    echo "launch/cluster.sh: $MPI's launcher ended with status $status after the job's work had" \
         "succeeded (every rank agreed on status 0; the ranks whose MPI_Finalize hung ended" \
         "themselves): the job's status is 0" >&2
    exit 0
fi
if [ "$status" = 255 ]; then   # the launcher's own failure, not a rank's
    lost=$(silent "${nodes[@]}" | sort | paste -sd ' ')
    msg="launch/cluster.sh: $MPI's launcher could not run the job (status 255)"
    echo "$msg${lost:+; no answer from: $lost}" >&2
fi
if [ "$status" != 0 ] && [ -n "$stop" ] && [ ! -f "$tmp/stopped" ] && [ "$by_signal" = 0 ]; then
    # MPICH's mpiexec, stopped before its ranks had a handler, ended them
    # (status 15): no agent or node is to blame (round 72 F5)
    echo "launch/cluster.sh: $MPI's launcher ended with status $status after the stop was" \
         "passed on, before a rank said it took it (its checkpoints before then are kept)" >&2
    exit "$status"
fi
if [ "$status" != 0 ] && [ "$status" != 255 ] && [ "$by_signal" = 0 ] && [ ! -e "$tmp/said" ]; then
    # nothing on stderr: no rank said why, so the launcher or an agent failed first
    echo "launch/cluster.sh: $MPI's launcher ended with status $status and no message: it or" \
         "its agent (AGENT=${AGENT:-ssh}) failed before a rank could say anything; check that" \
         "every node answers and runs $bin" >&2
fi
if [ "$status" != 0 ] && [ -f "$tmp/gaveup" ]; then
    lost=$(silent "${nodes[@]}" | sort | paste -sd ' ')
    [ -n "$lost" ] && echo "launch/cluster.sh: a rank gave up waiting; no answer from: $lost" >&2
fi
exit "$status"
