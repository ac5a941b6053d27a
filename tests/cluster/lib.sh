# tests/cluster/lib.sh: what the cluster tests share (sourced inside
# `bed.sh run`, which sets SN_BED).  SN_CLUSTER_WORK is a folder every host
# sees (the bed's hosts have private /tmp folders); SN_BIN_OPENMPI and
# SN_BIN_MPICH the scratchnet of each MPI family.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BED=${SN_BED:?run this inside tests/cluster/bed.sh run}
AGENT=$top/tests/cluster/agent.sh
BIN_OPENMPI=${SN_BIN_OPENMPI:-$top/build/scratchnet}
BIN_MPICH=${SN_BIN_MPICH:-$top/build-mpich/scratchnet}
WORK=${SN_CLUSTER_WORK:?set SN_CLUSTER_WORK to a folder every bed host sees}
DATA=${SN_DATA:-$top/data/fashion-mnist.h5}
# every bed host mounts its own tmpfs on /tmp: a path under it is not the
# same folder on the hosts, and the jobs fail in confusing ways
for path in "$top" "$WORK" "$DATA" "$BIN_OPENMPI" "$BIN_MPICH"; do
    case "$(realpath -m "$path")/" in
    /tmp/*) echo "tests/cluster: $path is under /tmp, which every bed host replaces with" \
                 "a private tmpfs, so the hosts cannot see it: use a copy outside /tmp" >&2
            exit 1 ;;
    esac
done
mkdir -p "$WORK"
# Open MPI as root on 2 cores (the Makefile exports the same)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

# launch FAMILY PER_HOST "HOSTS" COMMAND...: an MPI job of PER_HOST ranks on
# each bed host listed ("1 2"), started from the first by a hostfile and the
# bed's launch agent.  Open MPI: --bind-to none, because the bed's hosts
# share this machine's cores and each host's daemon would bind its first
# rank to core 0 (docs/CLUSTER.md).
launch() {
    local fam=$1 per=$2 hosts=$3 first hf np
    shift 3
    first=${hosts%% *}
    hf=$WORK/hosts.$fam.$per.${hosts// /_}
    "$BED" hostfile "$fam" "$per" $hosts > "$hf"
    np=$((per * $(echo $hosts | wc -w)))
    # Every job here ends in seconds; a launcher that has not ended after
    # LAUNCH_LIMIT s is a hang (MPICH's finalize over UCX has hung a 4 x 1
    # job in a PMI read): end it and fail the case instead of the suite
    # waiting forever.
    local limit=${SN_CLUSTER_LAUNCH_LIMIT:-300} rc
    case "$fam" in
    mpich)
        timeout -k 10 "$limit" "$BED" exec "$first" mpiexec.mpich -f "$hf" -launcher ssh \
            -launcher-exec "$AGENT" -n "$np" -genv OMP_NUM_THREADS 1 "$@" ;;
    openmpi)
        timeout -k 10 "$limit" "$BED" exec "$first" mpirun --bind-to none --hostfile "$hf" \
            --mca plm_rsh_agent "$AGENT" -np "$np" -x OMP_NUM_THREADS=1 "$@" ;;
    *) echo "launch: openmpi or mpich, got '$fam'" >&2; return 2 ;;
    esac
    rc=$?
    [ "$rc" != 124 ] && [ "$rc" != 137 ] ||
        echo "launch: $fam job on hosts $hosts did not end within $limit s: ended it (a hang)" >&2
    return "$rc"
}

bin() { case "$1" in mpich) echo "$BIN_MPICH" ;; *) echo "$BIN_OPENMPI" ;; esac; }

# link_bytes N: bytes host N has sent plus received on its link so far
link_bytes() { "$BED" bytes | awk -v h="snbed$1" '$1 == h {print $2 + $3}'; }

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", b - a}'; }

fails=0
check() {   # check STATUS MESSAGE: one line, ok when STATUS is 0; returns STATUS
    if [ "$1" = 0 ]; then echo "  ok    $2"; return 0; fi
    echo "  FAIL  $2"
    fails=$((fails + 1))
    return 1
}
