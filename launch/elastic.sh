#!/bin/bash
# launch/elastic.sh: run scratchnet over a hostfile with launch/cluster.sh,
# and when the job fails, continue it on the nodes that still answer.
#
#   launch/elastic.sh [--max-restarts N] HOSTFILE train ... --checkpoint-dir DIR \
#       --checkpoint-every K --resume auto ...
#
# The job runs as `launch/cluster.sh HOSTFILE' ARGS...` (see that script for
# HOSTFILE's format and the environment: MPI, SCRATCHNET, THREADS, BIND,
# AGENT, GRACE).  When it ends with a status other than 0 or 2 (a lost node,
# a rank that died), this script asks every node of HOSTFILE for an answer
# (AGENT NODE true), and starts the job again on those that answer with
# `--resume auto` (in place of any --resume given; a job started with
# --resume FILE restarts from FILE while DIR holds no checkpoint), up to N times (default
# 3).  Each start takes the largest rank count that divides the global
# batch (train --batch, else the model file's [net] batch) into shares
# that --accumulate divides, with at most the hostfile's slots on each
# answering node, so every rank keeps the same share B/P and the global
# batch B, which is what the checkpoint continues
# exactly (another world size at the same global batch resumes the same
# run; docs/CLUSTER.md).  Each restart is one line on stderr: its time,
# number, the nodes kept and dropped, the world size and the step it
# resumes from (the newest checkpoint in DIR).  --checkpoint-dir and
# --checkpoint-every are required: without them a restart would repeat the
# whole run.
# Exit status: 0 when the training finished; the failed job's status when no
# restart is left or no node answers; 2 for bad arguments (this script's or
# scratchnet's: those are not retried).  SIGTERM, SIGINT, SIGUSR1, SIGHUP
# (the terminal or ssh session closed) or another signal scratchnet stops on
# (SIGUSR2, SIGALRM, SIGQUIT, SIGXCPU, SIGPWR) is passed on to
# launch/cluster.sh (the ranks save and stop) and ends the restarts.
set -uo pipefail
me=launch/elastic.sh
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)   # through a link to the script
die() { echo "$me: $*" >&2; exit 2; }
. "$here/launch/nodes.sh"   # whole, read_hostfile
usage() { sed -n '2,31p' "$0" >&2; exit 2; }
max=3
while [ $# -gt 0 ]; do
    case "$1" in
    --max-restarts|--max-restarts=*)
        if [ "$1" = --max-restarts ]; then
            [ $# -ge 2 ] || die "--max-restarts needs a number"
            v=$2; shift 2
        else
            v=${1#--max-restarts=}; shift
        fi
        max=$(whole "$v" 0 9999) ||
            die "--max-restarts must be a whole number from 0 to 9999, got '$v'" ;;
    -h|--help) usage ;;
    --) shift; break ;;
    -) break ;;   # a hostfile named -, as cluster.sh reads it
    -*) die "unknown option $1 (its options: --max-restarts N; then HOSTFILE and scratchnet's arguments)" ;;
    *) break ;;
    esac
done
[ $# -ge 2 ] || usage
hostfile=$1; shift
[ -r "$hostfile" ] || die "cannot read the hostfile '$hostfile'"
AGENT=${AGENT:-ssh}
export AGENT
read_hostfile "$hostfile" || exit 2

# What the restarts need from scratchnet's arguments; `rest` is the
# arguments without --resume, for the restarts to add their own.
# scratchnet takes --flag VALUE and --flag=VALUE alike.
first=("$@") ckdir="" every="" batch="" accum=1 model="" resume="" rest=()
note() {   # note FLAG VALUE: what the restarts need to know
    case "$1" in
    --checkpoint-dir) ckdir=$2 ;;
    --checkpoint-every) every=$2 ;;
    --batch) batch=$2 ;;
    --accumulate) accum=$2 ;;
    --model) model=$2 ;;
    esac
}
while [ $# -gt 0 ]; do
    case "$1" in
    --checkpoint-dir|--checkpoint-every|--batch|--accumulate|--model|--resume)
        [ $# -ge 2 ] || die "$1 needs a value"
        [ "$1" = --resume ] && { resume=$2; shift 2; continue; }
        note "$1" "$2"
        rest+=("$1" "$2"); shift 2 ;;
    --checkpoint-dir=*|--checkpoint-every=*|--batch=*|--accumulate=*|--model=*)
        note "${1%%=*}" "${1#*=}"
        rest+=("$1"); shift ;;
    --resume=*) resume=${1#--resume=}; shift ;;
    *) rest+=("$1"); shift ;;
    esac
done
[ -n "$ckdir" ] || die "needs --checkpoint-dir DIR in scratchnet's arguments (a restart continues from its newest checkpoint)"
[ -n "$every" ] || die "needs --checkpoint-every K in scratchnet's arguments (without it a restart repeats up to an epoch)"
if [ -z "$batch" ]; then
    # the model file as scratchnet reads it (its parser, its defaults)
    [ -n "$model" ] || die "needs --model (or --batch) to know the global batch"
    case "${MPI:-openmpi}" in
    mpich) bin=$(default_bin "$here/build-mpich/scratchnet") ;;
    *) bin=$(default_bin "$here/build/scratchnet") ;;
    esac
    bin=${SCRATCHNET:-$bin}
    case "$bin" in -*)
        die "SCRATCHNET='$bin': the path of a program, not an option (./$bin for a file of that name)" ;;
    esac
    if [ -n "${SCRATCHNET:-}" ]; then
        command -v "$bin" > /dev/null || die "SCRATCHNET=$bin: no such program"
    else
        [ -x "$bin" ] || no_bin "$bin" "make"
    fi
    info=$("$bin" info --model "$model" 2>&1) || die "cannot read the global batch of '$model': $info"
    batch=$(printf '%s\n' "$info" | sed -n 's/^input .*  batch \([0-9]*\)  .*/\1/p' | head -1)
fi
# decimal, as scratchnet reads it (bash would take 0012 for octal)
v=$(whole "$batch" 1 9999999999) ||
    die "the global batch must be a whole number from 1 to 9999999999, got '$batch'"
batch=$v
# each rank's share must split into --accumulate micro-batches: the world
# size P must divide B / accumulate, or scratchnet refuses the start
v=$(whole "$accum" 1 9999999999) ||
    die "--accumulate must be a whole number from 1 to 9999999999, got '$accum'"
accum=$v
[ $((batch % accum)) = 0 ] ||
    die "--accumulate $accum does not divide the global batch $batch: no rank count can run it"
share=""
[ "$accum" = 1 ] || share=" into shares --accumulate $accum divides"

# place B: the world size for the answering nodes in `alive`: the largest
# hosts x ranks-per-host (at most `per`) that divides B, more hosts first.
# Sets use_hosts, use_per; returns 1 when no count divides B (cannot happen:
# 1 rank always does).  Over B's divisors, in one awk: trying every pair
# took 67 s for 2,000 nodes of 4,096 slots.
place() {
    local r
    r=$(awk -v B="$1" -v H="${#alive[@]}" -v P="$per" 'BEGIN {
        n = 0   # the divisors of B, largest first
        for (i = 1; i * i <= B; i++)
            if (B % i == 0) { d[n++] = i; if (i * i != B) d[n++] = B / i }
        for (i = 1; i < n; i++)
            for (j = i; j > 0 && d[j] > d[j - 1]; j--) { t = d[j]; d[j] = d[j - 1]; d[j - 1] = t }
        for (a = 0; a < n; a++)   # the largest world size that fits, then the most hosts
            if (d[a] <= H * P)
                for (b = 0; b < n; b++)
                    if (d[b] <= H && d[a] % d[b] == 0 && d[a] / d[b] <= P) {
                        printf "%d %d\n", d[b], d[a] / d[b]; exit
                    }
    }')
    read -r use_hosts use_per <<< "$r"
    [ -n "$use_hosts" ]
}

# newest_step: the step of the newest checkpoint in the folder (0: none)
newest_step() {
    local s
    s=$(ls "$ckdir" 2>/dev/null | sed -n 's/^ckpt-0*\([0-9][0-9]*\)\.h5$/\1/p' | sort -n | tail -1)
    echo "${s:-0}"
}

# what a restart continues, for its line
resumes_from() {
    local s
    s=$(newest_step)
    if [ "$s" != 0 ]; then
        echo "resumes from step $s (the newest checkpoint in $ckdir)"
    elif [ -n "$resume" ] && [ "$resume" != auto ]; then
        echo "resumes from $resume, as the job did (no checkpoint in $ckdir yet)"
    else
        echo "starts afresh (no checkpoint in $ckdir yet)"
    fi
}

cwd_nameable || die "$room_why"
tmpdir_room || die "$room_why"
tmp=$(mktemp -d 2>/dev/null) ||   # every file of the launch goes there, never into /
    die "cannot make a temporary folder in ${TMPDIR:-/tmp} (TMPDIR): set TMPDIR to a folder you may write in"
# only this shell removes it: a child it forks (the watcher, a `sleep 1 &`)
# that a signal to the process group reaches before it has dropped this
# trap must not take the folder from under the watcher
trap '[ "$BASHPID" = "$$" ] && rm -rf "$tmp"' EXIT
stopped=""
job=""
# SIGINT goes on as SIGTERM (the same stop): a job started in the
# background of a script ignores SIGINT, and cannot trap it.
pass_on() {
    stopped=$1
    [ -n "$job" ] && kill -"${1/INT/TERM}" "$job" 2>/dev/null
}
# every signal scratchnet stops on: one that ended this script alone left
# the job running unwatched (SIGHUP, SIGUSR2: rounds 69 and 70)
for s in TERM INT USR1 HUP USR2 ALRM QUIT XCPU PWR; do trap "trapped=yes; pass_on $s" "$s"; done

restart=0 status=1 args=("${first[@]}")
while :; do
    lost=$(silent "${nodes[@]}" | paste -sd ' ')
    # by a table, not by scanning the list for each node (16,384 nodes: 18 s)
    unset silent_node
    declare -A silent_node=()
    for n in $lost; do silent_node[$n]=1; done
    alive=()
    for n in "${nodes[@]}"; do
        [ -n "${silent_node[$n]:-}" ] || alive+=("$n")
    done
    if [ ${#alive[@]} = 0 ] && [ "$restart" = 0 ]; then
        echo "$me: no node of $hostfile answers (AGENT=$AGENT): no job started" >&2
        exit 1
    elif [ ${#alive[@]} = 0 ]; then
        echo "$me: no node of $hostfile answers (AGENT=$AGENT); ending with the job's status $status" >&2
        exit "$status"
    fi
    place "$((batch / accum))" || die "no rank count divides the global batch $batch"
    # a stop that came while the nodes were asked: nothing more is started
    if [ -n "$stopped" ] && [ "$restart" = 0 ]; then
        echo "$me: SIG$stopped before the job started: nothing started" >&2
        exit 1
    elif [ -n "$stopped" ]; then
        echo "$me: stopped by SIG$stopped before restart $restart: nothing restarted; the job ended with status $status" >&2
        exit "$status"
    fi
    for n in "${alive[@]:0:use_hosts}"; do echo "$n slots=$use_per"; done > "$tmp/hosts"
    if [ "$restart" -gt 0 ]; then
        echo "$me: restart $restart/$max at $(date -u -d "@$ended" '+%Y-%m-%dT%H:%M:%S.%3NZ'):" \
             "hosts kept ${alive[*]:0:use_hosts}; dropped ${lost:-none}; world size" \
             "$((use_hosts * use_per)) ($use_hosts x $use_per), global batch $batch; $(resumes_from)" >&2
    elif [ -n "$lost" ] || [ "$((use_hosts * use_per))" != "$((per * ${#nodes[@]}))" ]; then
        echo "$me: starting on ${alive[*]:0:use_hosts}: $use_hosts x $use_per rank(s), the most that" \
             "divide the global batch $batch$share on the nodes that answer; no answer from: ${lost:-none}" >&2
    fi
    "$here/launch/cluster.sh" "$tmp/hosts" "${args[@]}" &
    job=$!
    [ -n "$stopped" ] && pass_on "$stopped"   # it came as the job was being started
    # cluster.sh's own status: as cluster.sh waits for its launcher
    status=0 waited=""
    while :; do
        trapped="" s=0
        { wait "$job" || s=$?; } 2>/dev/null
        [ "$s" = 127 ] && [ -n "$waited" ] && break
        status=$s waited=yes
        [ -n "$trapped" ] || break
    done
    ended=$(date +%s.%N)
    job=""
    [ "$status" = 0 ] && exit 0
    [ "$status" = 2 ] && exit 2   # bad arguments: the same again would fail the same way
    if [ -n "$stopped" ]; then
        echo "$me: stopped by SIG$stopped; the job ended with status $status" >&2
        exit "$status"
    fi
    if [ "$restart" -ge "$max" ]; then
        echo "$me: the job failed (status $status) and $max restart(s) are used up" >&2
        exit "$status"
    fi
    restart=$((restart + 1))
    # the run's own checkpoint once there is one; until then what it
    # started from (--resume FILE: auto in an empty folder starts afresh)
    if [ "$(newest_step)" = 0 ] && [ -n "$resume" ] && [ "$resume" != auto ]; then
        args=("${rest[@]}" --resume "$resume")
    else
        args=("${rest[@]}" --resume auto)
    fi
done
