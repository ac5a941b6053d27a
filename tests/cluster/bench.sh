#!/bin/bash
# tests/cluster/bench.sh: the table of docs/CLUSTER.md, measured on a bed of
# 2 hosts (make bench-cluster; a few minutes, as root).  For each link
# profile (none, 10gbit, 1gbit: tbf on every host link), MPI family and
# placement (2 hosts x 1 rank, 2 hosts x 2 ranks) and strategy (STRATEGIES,
# default "flat hier flat:bf16 hier:bf16": --allreduce, then --compress;
# hier only at 2 ranks a host), models/mlp.cfg trains
# S1 and S2 steps; the difference of host 1's link counters between the
# two runs, over S2 - S1, is what one step moves (start-up, evaluation and
# output cancel out), and the S2 run's --profile gives the time of a step
# and of its allreduce (rank 0, after 5 warm-up steps).  Each cell is the
# median of REPS (default 3) pairs of runs.  ALLREDUCE=0 leaves out the
# first table (MPI_Allreduce alone), TRAIN=0 the second.
set -u
[ -n "${SN_BED:-}" ] || exec "$(dirname "$0")/bed.sh" run 2 -- "$0" "$@"
. "$(dirname "$0")/lib.sh"
S1=${S1:-100}
S2=${S2:-300}
REPS=${REPS:-3}
grad=$((235146 * 4))
train=(train --model "$top/models/mlp.cfg" --data "$DATA" --threads 1 --profile --progress-every 100000)
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
tx() { "$BED" bytes | awk '$1 == "snbed1" {print $2}'; }
rx() { "$BED" bytes | awk '$1 == "snbed1" {print $3}'; }

# MPI_Allreduce alone, 2 hosts x 1 rank, no cap: MPICH, Open MPI as it binds
# by default (np <= 2: each rank to core 0 of its host, the same core here),
# Open MPI unbound (median seconds of bench/allreduce's repeats)
allreduce() {   # allreduce FAMILY [mpirun flags]: "4 B, 4 KB, 1 MB" times
    local fam=$1 hf=$WORK/hosts.ar.$1
    shift
    "$BED" hostfile "$fam" 1 1 2 > "$hf"
    if [ "$fam" = mpich ]; then
        "$BED" exec 1 mpiexec.mpich -f "$hf" -launcher ssh -launcher-exec "$AGENT" -n 2 \
            "$(dirname "$BIN_MPICH")/bench/allreduce"
    else
        "$BED" exec 1 mpirun --hostfile "$hf" --mca plm_rsh_agent "$AGENT" -np 2 "$@" \
            "$(dirname "$BIN_OPENMPI")/bench/allreduce"
    fi 2>&1 | awk '$1 == 4 || $1 == 4096 || $1 == 1048576 {printf " %s |", $2}'
}
if [ "${ALLREDUCE:-1}" = 1 ]; then
    echo "| MPI_Allreduce, 2 hosts x 1 rank | 4 B (s) | 4 KB (s) | 1 MB (s) |"
    echo "|---|---|---|---|"
    for r in $(seq "$REPS"); do
        echo "| MPICH |$(allreduce mpich)"
        echo "| Open MPI, default binding |$(allreduce openmpi)"
        echo "| Open MPI, --bind-to none |$(allreduce openmpi --bind-to none)"
    done
    echo
fi

[ "${TRAIN:-1}" = 1 ] || exit 0
echo "| link | MPI | hosts x ranks | strategy | host 1 sends / step | receives / step | sent / gradient | step ms | allreduce ms | images/s |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for rate in ${RATES:-none 10gbit 1gbit}; do
    for n in 1 2; do "$BED" rate "$n" "$rate"; done
    for fam in ${FAMILIES:-mpich openmpi}; do
        for per in 1 2; do
          for strat in ${STRATEGIES:-flat hier flat:bf16 hier:bf16}; do
            mode=${strat%%:*} comp=none
            case $strat in *:*) comp=${strat#*:} ;; esac
            # one rank a host: hier has no host to reduce within (auto picks flat)
            [ "$per" = 1 ] && [ "$mode" = hier ] && continue
            flags=(--allreduce "$mode" --compress "$comp")
            : > "$WORK/b.tx"; : > "$WORK/b.rx"; : > "$WORK/b.ms"; : > "$WORK/b.ar"; : > "$WORK/b.ips"
            for r in $(seq "$REPS"); do
                t1=$(tx); r1=$(rx)
                launch "$fam" "$per" "1 2" "$(bin "$fam")" "${train[@]}" "${flags[@]}" --steps "$S1" > /dev/null 2>&1
                t2=$(tx); r2=$(rx)
                launch "$fam" "$per" "1 2" "$(bin "$fam")" "${train[@]}" "${flags[@]}" --steps "$S2" > "$WORK/b.log" 2>&1
                t3=$(tx); r3=$(rx)
                echo $(( ((t3 - t2) - (t2 - t1)) / (S2 - S1) )) >> "$WORK/b.tx"
                echo $(( ((r3 - r2) - (r2 - r1)) / (S2 - S1) )) >> "$WORK/b.rx"
                sed -n 's/.* \([0-9.]*\) ms\/step.*/\1/p' "$WORK/b.log" >> "$WORK/b.ms"
                sed -n 's/.* allreduce \([0-9.]*\) .*/\1/p' "$WORK/b.log" >> "$WORK/b.ar"
                sed -n 's/.* threads*: \([0-9.]*\) images\/s.*/\1/p' "$WORK/b.log" >> "$WORK/b.ips"
            done
            stx=$(median < "$WORK/b.tx")
            printf '| %s | %s | 2 x %d | %s | %d | %d | %.2f | %s | %s | %s |\n' "$rate" "$fam" "$per" "$strat" "$stx" \
                "$(median < "$WORK/b.rx")" "$(awk -v a="$stx" -v g="$grad" 'BEGIN {print a / g}')" \
                "$(median < "$WORK/b.ms")" "$(median < "$WORK/b.ar")" "$(median < "$WORK/b.ips")"
          done
        done
    done
done
