#!/bin/sh
# launch/local.sh: run scratchnet on one machine with P ranks.
#
#   launch/local.sh P scratchnet-arguments...
#   e.g. launch/local.sh 2 train --model models/mlp.cfg --data data/fashion-mnist.h5
#
# Picks threads per rank = cores / P (at least 1) so ranks x threads never
# exceeds the cores, binds each rank to its own cores when they fit, and
# adds Open MPI's root and oversubscribe permissions only where needed.
#
# SIGTERM, SIGINT (Ctrl-C), SIGUSR1, SIGHUP (the terminal or ssh session
# closed) or another signal scratchnet stops on (SIGUSR2, SIGALRM, SIGQUIT,
# SIGXCPU, SIGPWR) to this script goes to the ranks themselves: they finish the step, save (checkpoint, --out) and exit 0,
# and so do mpirun and this script.  mpirun never sees those signals (it runs in a
# session of its own): Open MPI's mpirun answers them by ending the job
# itself, SIGKILL a second after SIGTERM, and exits 1 whatever the ranks do.
# SIGKILL to this script, which it cannot catch, reaches mpirun as SIGUSR1
# (its parent-death signal, setpriv --pdeathsig): the ranks save and stop
# the same way instead of training on, detached.
set -eu
# The script's own messages are best effort: a closed stderr (2>&-) is
# opened on /dev/null and a full one (2>/dev/full) skipped, so the job runs
# as it does without the launcher (set -e ended it at its first message)
if ! true >&2; then exec 2>/dev/null; fi
say() { printf 'launch/local.sh: %s\n' "$*" >&2 2>/dev/null || :; }
# A stop signal before mpirun starts: nothing is started (as in
# launch/cluster.sh); one between the start and the traps below is passed
# on once they are set.  Without these traps it ended the script at once
# (exit 143) and left the job to start alone.
# Every signal scratchnet takes as a stop (src/cli/main.c), with its
# number: USR2, ALRM and the rest ended the script at once and left the
# ranks saving unwatched (hostile round 70 F8).
stops="TERM:15 INT:2 USR1:10 HUP:1 USR2:12 ALRM:14 QUIT:3 XCPU:24 PWR:30"
early="" pid=""
for s in $stops; do trap "early=${s%%:*}" "${s%%:*}"; done
case "${1:-}" in -h|--help) sed -n '2,9p' "$0"; exit 0 ;; esac
[ $# -ge 2 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
P=$1; shift
case "$P" in ''|*[!0-9]*) P_ok=no ;; *) P_ok=yes ;; esac
# decimal (sh reads 010 as octal), 1 to 9999
P_n=$(printf '%s' "$P" | sed 's/^0*//')
case "$P_ok:$P_n" in yes:?|yes:??|yes:???|yes:????) P=$P_n ;; *)
    say "ranks must be a whole number from 1 to 9999, got '$P'"; exit 2 ;; esac
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)   # through a link to the script
bin=${SCRATCHNET:-$here/build/scratchnet}
# installed (share/doc/scratchnet/launch): the one installed with the
# scripts (PREFIX/bin: a site's other versions, or a user's own build on
# PATH, never mix with these docs), else the scratchnet on PATH
[ -x "$bin" ] || [ -n "${SCRATCHNET:-}" ] ||
    bin=$({ [ ! -f "$here/Makefile" ] && [ -x "$here/../../../bin/scratchnet" ] &&
            echo "$here/../../../bin/scratchnet"; } || command -v scratchnet || echo "$bin")
case "$bin" in -*)   # never an option of mpirun's
    say "SCRATCHNET='$bin': the path of a program, not an option (./$bin for a file of that name)"
    exit 2 ;;
esac
# a program that is not there: mpirun -q exits 132 or 131 without a word
# (read below as SIGILL, SIGQUIT)
case "$bin" in
*/*) if ! [ -f "$bin" ] || ! [ -x "$bin" ]; then
        if [ -n "${SCRATCHNET:-}" ]; then
            say "SCRATCHNET=$bin: no executable file at that path"
        elif [ -f "$here/Makefile" ]; then
            say "$bin is not built: make builds it (or set SCRATCHNET)"
        else   # an installed copy
            say "no scratchnet on PATH or in $(cd "$here/../../.." && pwd)/bin: add its folder to PATH, or set SCRATCHNET"
        fi
        exit 2
    fi ;;
*) command -v "$bin" > /dev/null || {
    say "SCRATCHNET=$bin: no program of that name on PATH"; exit 2; } ;;
esac
# Open MPI's mpirun starts a program built with MPICH as one single-rank
# job a rank: the program this script found says which MPI it has (one
# SCRATCHNET names is the user's to know; --version within 10 s)
[ -n "${SCRATCHNET:-}" ] ||
case "$(timeout 10 "$bin" --version 2>/dev/null | sed -n 's/^  MPI: *//p' | head -1)" in
MPICH*|*"Intel(R) MPI"*|MVAPICH*)
    say "$bin was built with an MPICH-family MPI; this script runs Open MPI's mpirun: run it as mpiexec -n $P $bin ..."
    exit 2 ;;
esac
# mpirun keeps pipes and sockets open to every rank here, about 4 a rank
# (Open MPI 4.1, measured: 9 ranks start under ulimit -n 64, 25 under 128);
# past the open-file limit it prints ORTE_ERROR_LOG lines and waits for good
lim=$(ulimit -n)
case "$lim" in *[!0-9]*|'') ;; *)
    if [ "$lim" -lt $((4 * P + 28)) ]; then
        say "the open-file limit (ulimit -n $lim) is too low for mpirun to start $P ranks" \
            "here (it keeps about 4 files a rank open: $((4 * P + 28)) or more): raise it" \
            "(ulimit -n 4096), or start fewer ranks"
        exit 1
    fi ;;
esac
# nproc alone would answer OMP_NUM_THREADS (GNU coreutils reads it): the
# affinity mask is what this process may use
cores=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
threads=$((cores / P)); [ "$threads" -ge 1 ] || threads=1
flags="" procbind=true
[ "$(id -u)" = 0 ] && flags="$flags --allow-run-as-root"
# in a narrower set of cores than the machine's (taskset -c, as when
# several jobs share a machine), the ranks keep that set: mpirun's own
# binding counts cores from the machine's first, and bound a rank of
# `taskset -c 1 launch/local.sh 1` to core 0, two such jobs to one core
if [ "$P" -gt "$cores" ]; then   # threads float too (see below)
    flags="$flags --oversubscribe --bind-to none"
    procbind=false
elif [ "$cores" -lt "$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc --all)" ]; then
    # and their threads float in it: OpenMP's binding put every rank's
    # first thread on the set's first core
    flags="$flags --bind-to none"
    procbind=false
else
    flags="$flags --map-by slot:PE=$threads --bind-to core"
fi
# a --threads among scratchnet's arguments wins over OMP_NUM_THREADS
given="" prev=""
for a in "$@"; do
    case "$prev" in --threads) given=$a ;; esac
    case "$a" in --threads=*) given=${a#--threads=} ;; esac
    prev=$a
done
# mpirun starts every rank in the current folder, which it must name
# (getcwd): a folder another shell removed, or a path of more than the
# system's 4,095 bytes, ended the job with Open MPI's bare "Unable to get
# the current working directory" (hostile round 73 F1; as in launch/nodes.sh)
if ! env pwd -P > /dev/null 2>&1; then
    say "the current folder was removed (by another shell?): mpirun starts the ranks in it; cd to a folder that exists"
    exit 2
fi
# bytes, not the characters a shell's length counts in a UTF-8 locale (a
# 4,434-byte path of folders named é passed as 2,234: hostile round 74 F1),
# counted on pwd's output itself, as $( ) would cut a name's own trailing
# newlines (a folder named z and 250 newlines passed: round 75 F2); less
# pwd's own newline
cwd_bytes=$(( $(env pwd -P | LC_ALL=C wc -c) - 1 ))
if [ "$cwd_bytes" -ge 4096 ]; then
    say "the current folder's path is $cwd_bytes bytes, more than the system's 4,095 (PATH_MAX): mpirun starts the ranks in it and could not name it; cd to a folder with a shorter path"
    exit 2
fi
# mpirun keeps its session files in TMPDIR (else TEMP, else TMP, else
# /tmp): the one it takes is the one checked here.  One that is no folder
# it may write in ends it with ORTE_ERROR_LOG lines that do not say so
if [ -z "${TMPDIR:-}" ] && [ -n "${TEMP:-${TMP:-}}" ]; then
    TMPDIR=${TEMP:-$TMP}
    export TMPDIR
fi
if [ -n "${TMPDIR:-}" ] && { [ ! -d "$TMPDIR" ] || [ ! -w "$TMPDIR" ]; }; then
    say "TMPDIR=$TMPDIR is no folder this user may write in (mpirun keeps its session files there): set TMPDIR to one, or unset it"
    exit 2
fi
# Open MPI takes a relative TMPDIR from / ("/reltmp/...": three errors,
# though the run goes on): made absolute
case "${TMPDIR:-/}" in /*) ;; *) abs=$(CDPATH= cd -- "$TMPDIR" 2>/dev/null && pwd -P) && export TMPDIR="$abs" ;; esac
# and a full one ends it with PMIx's OUT-OF-RESOURCE lines (16 MiB: its
# session files and gnuplot's); Open MPI's orte_tmpdir_base, when the
# environment sets it, comes before all of them
sess=${TMPDIR:-/tmp}
sess_name=TMPDIR
if [ -n "${OMPI_MCA_orte_tmpdir_base:-}" ]; then
    # as TMPDIR: relative made absolute (Open MPI takes it from /), a
    # folder this user may write in when it is there (Open MPI makes it)
    case "$OMPI_MCA_orte_tmpdir_base" in /*) ;; *)
        OMPI_MCA_orte_tmpdir_base="$(pwd -P)/$OMPI_MCA_orte_tmpdir_base"
        export OMPI_MCA_orte_tmpdir_base ;; esac
    # made now when missing, as Open MPI would (its failure said only ORTE_ERROR_LOG lines)
    [ -e "$OMPI_MCA_orte_tmpdir_base" ] || mkdir -p "$OMPI_MCA_orte_tmpdir_base" 2> /dev/null || :
    if [ ! -d "$OMPI_MCA_orte_tmpdir_base" ] || [ ! -w "$OMPI_MCA_orte_tmpdir_base" ]; then
        say "OMPI_MCA_orte_tmpdir_base=$OMPI_MCA_orte_tmpdir_base is no folder this user may write in (mpirun keeps its session files there): set it to one, or unset it"
        exit 2
    fi
    sess=$OMPI_MCA_orte_tmpdir_base
    sess_name=OMPI_MCA_orte_tmpdir_base
fi
free_kb=$(df -Pk "$sess" 2>/dev/null | awk 'NR == 2 { print $4 }')
free_files=$(df -Pi "$sess" 2>/dev/null | awk 'NR == 2 { print $4 }')
case "$free_files" in *[!0-9]*|'') free_files="" ;; esac   # "-": a file system without a count
if [ -n "$free_files" ] && [ "$free_files" -lt 256 ]; then
    say "$sess_name=$sess has no room for more files (${free_files} inodes free; mpirun keeps its session files there): free some, or set $sess_name to another folder"
    exit 2
fi
if [ -n "$free_kb" ] && [ "$free_kb" -lt 16384 ]; then
    say "$sess_name=$sess is full for mpirun (${free_kb} KiB free of the 16384 KiB its session files need): free some, or set $sess_name to another folder"
    exit 2
fi
say "$P rank(s) x ${given:-$threads} thread(s) on $cores core(s)${given:+ (--threads $given given; $threads would fit)}"
# In the background (a shell runs traps between commands, and `wait` is one),
# in a session of its own (a Ctrl-C at the terminal reaches this script's
# process group only): setsid and setpriv do not fork here, so $! is mpirun.
orphan=""   # setpriv has --pdeathsig from util-linux 2.33 (Debian 10) on
setpriv --pdeathsig USR1 true 2>/dev/null && orphan="setpriv --pdeathsig USR1"
# -q: without Open MPI's boxes after a rank's own one-line error (a rank
# ended by a signal is said below instead)
if [ -n "$early" ]; then
    say "SIG$early before the job started: nothing started, nothing saved"
    exit 1
fi
# mpirun's output through copiers that drop what a reader that went away
# (| head, a pager quit) cannot take: mpirun, writing to it itself, aborted
# the job on SIGPIPE and then crashed (exit 139), where scratchnet alone
# trains on
pipes=$(mktemp -d)
trap 'rm -rf "$pipes"' EXIT
mkfifo "$pipes/out" "$pipes/err"
copy_from() {   # copy_from FIFO: a line that cannot be written is counted in FIFO.lost
    ( trap '' TERM INT USR1 HUP USR2 ALRM QUIT XCPU PWR PIPE
      while IFS= read -r line || [ -n "$line" ]; do
          printf '%s\n' "$line" 2>/dev/null || echo >> "$1.lost"
      done ) < "$1" &
}
copy_from "$pipes/out"
copiers=$!
copy_from "$pipes/err" >&2
copiers="$copiers $!"
setsid $orphan mpirun -q -np "$P" $flags --mca btl_vader_single_copy_mechanism none \
    -x OMP_NUM_THREADS="$threads" -x OMP_PROC_BIND=$procbind "$bin" "$@" \
    > "$pipes/out" 2> "$pipes/err" &
pid=$!
# The ranks are mpirun's children.  A signal goes to each once it runs a
# program of its own (its name is no longer mpirun's: a child mpirun has
# forked but not yet started would die of it, as mpirun) and has its handler
# for the signal (SigCgt in /proc): one still loading would die of it too.
# The name is compared, never matched as a pattern, so any SCRATCHNET works,
# a wrapper that execs scratchnet too.  A signal that comes before the ranks
# are ready waits for them (up to 10 s, then mpirun gets it and ends the
# job); one that comes after mpirun has gone has nothing to stop.
catches() {   # catches PID SIGNUM: the process has a handler for the signal
    mask=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
    [ -n "$mask" ] || return 1
    mask=$(printf '%s' "$mask" | tail -c 8)   # signals 1-32
    [ $(( (0x$mask >> ($2 - 1)) & 1 )) = 1 ]
}
to_ranks() {   # to_ranks NAME NUMBER
    num=$2 sent="" tries=0
    while kill -0 "$pid" 2>/dev/null; do
        own=$(cat "/proc/$pid/comm" 2>/dev/null || :)
        for r in $(pgrep -P "$pid"); do
            case " $sent " in *" $r "*) continue ;; esac
            [ "$(cat "/proc/$r/comm" 2>/dev/null || :)" != "$own" ] || continue
            catches "$r" "$num" && kill "-$1" "$r" 2>/dev/null && sent="$sent $r"
        done
        [ "$(echo $sent | wc -w)" -ge "$P" ] && return 0
        tries=$((tries + 1))
        if [ "$tries" -ge 100 ]; then
            say "$(echo $sent | wc -w) of $P rank(s) took SIG$1 in 10 s" \
                "(no handler for it?): passing it to mpirun, which ends the job"
            kill "-$1" "$pid" 2>/dev/null
            return 0
        fi
        sleep 0.1
    done
}
# each to the ranks, not to mpirun: it would end the job (HUP: 1 s to save)
for s in $stops; do trap "trapped=yes; to_ranks ${s%%:*} ${s##*:}" "${s%%:*}"; done
for s in $stops; do   # one that came while mpirun started
    [ "$early" != "${s%%:*}" ] || { trapped=yes; to_ranks "$early" "${s##*:}"; }
done
# mpirun's own exit status.  A trapped signal ends a wait early (128 + its
# number), and mpirun may end while the trap runs, reaped by the shell as it
# waits for the trap's pkill or sleep (timeout(1) sends SIGTERM twice: the
# second finds no rank left): the shell keeps its status for the next wait,
# and bash answers 127 to a wait after that one.
status=0 waited=""
while :; do
    trapped="" s=0
    wait "$pid" 2>/dev/null || s=$?
    [ "$s" = 127 ] && [ -n "$waited" ] && break
    status=$s waited=yes
    [ -n "$trapped" ] || break
done
# an mpirun ended by a stop before it opened its FIFOs left their readers
# waiting in open() for good: a writer opened and closed here ends them
for fifo in "$pipes/out" "$pipes/err"; do : 3<>"$fifo"; done
for c in $copiers; do   # to mpirun's last line (a trap may end a wait early)
    while kill -0 "$c" 2>/dev/null; do wait "$c" 2>/dev/null || :; done
done
# lines a reader that went away (a pipe, a terminal hung up) did not take
# were dropped on purpose; to a file or a device (> /dev/full, a full
# disk) they are results lost
case $(readlink "/proc/$$/fd/1" 2>/dev/null) in /dev/pts/*|/dev/tty*) tty_out=yes ;; *) tty_out="" ;; esac
if [ -s "$pipes/out.lost" ] && [ ! -p /dev/stdout ] && [ -z "$tty_out" ]; then
    say "$(wc -l < "$pipes/out.lost") line(s) of the job's output could not be" \
         "written (a full disk, a closed output?): they are lost"
    [ "$status" = 0 ] && status=1
fi
# mpirun killed outright (SIGKILL, the out-of-memory killer) leaves its
# ranks running, detached, still writing checkpoints for a few seconds:
# they are in its session.  They are told to stop (they save, as for any
# stop) and waited for, so that nothing started next (a requeue) runs
# beside them.
# living: a rank that ended and that mpirun left unreaped (it exits when
# the job fails, not waiting) is a zombie until its new parent reaps it,
# which a container's PID 1 without --init never does
living() { ps -o pid=,stat= -s "$pid" 2>/dev/null | awk '$2 !~ /^Z/ { print $1 }' | paste -sd ' ' -; }
ranks=$(living)
who="a rank"
if [ -n "$ranks" ]; then
    who="mpirun"
    say "mpirun ended (status $status) and left its ranks ($ranks) running:" \
        "sent SIGTERM, waiting for them to save and stop"
    kill -TERM $ranks 2>/dev/null
    i=0
    while [ -n "$(living)" ] && [ $i -lt 600 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if [ -n "$(living)" ]; then
        say "ranks still running after 60 s: $(living)"
    else   # their own 'stopped ... checkpoint written' lines went with mpirun's pipes
        say "the ranks stopped within $((i / 10)).$((i % 10)) s; their own lines went with" \
            "mpirun: what they saved is the newest checkpoint in --checkpoint-dir (and" \
            "--out; scratchnet info --weights FILE names its step)"
    fi
fi
[ "$status" -gt 192 ] && say "mpirun failed (status $status)"
[ "$status" -gt 128 ] && [ "$status" -le 192 ] && say "$who was ended by signal" \
    "SIG$(kill -l $((status - 128)) 2>/dev/null || echo $((status - 128)))" \
    "$([ "$status" = 137 ] && echo "(by scratchnet's watchdog when 'no progress' lines" \
       "above name a rank, else by the kernel's out-of-memory killer or a user; a" \
       "training run continues with --resume auto)")"
exit "$status"
