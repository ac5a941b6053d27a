#!/bin/bash
# bench/sim/validate_bed.sh: the simulator against the multi-host test bed
# (make sim-validate-bed; as root, a few minutes; run it alone on the
# machine).  Inside a bed of 2 hosts (tests/cluster/bed.sh),
# for each link cap in RATES (default "10gbit 1gbit") and placement in PER
# (ranks a host, default "1 2"), RUNS times (default 3) in turn:
#   - `train --profile` of MODEL (default mlp) at 1 rank x 1 thread on bed
#     host 1, at the per-rank batch of the placement (the replay's input);
#   - the same model on 2 hosts x PER ranks, MPICH (the family the bed runs:
#     docs/CLUSTER.md 7.3), --allreduce mpi, the global batch of the model
#     file: the measured step (ms/step of rank 0).
# Then the replay of those profiles on bench/sim/platforms/bed.xml.in
# filled in with the cap, the latency of the bed's 4-byte MPI_Allreduce
# (2 hosts x 1 rank, no cap, measured first) and calib's loopback, with
# Rabenseifner's schedule (MPICH's MPI_Iallreduce for large buffers:
# reduce-scatter then allgather), and the error of the median simulated
# step against the median measured one.
set -u
[ -n "${SN_BED:-}" ] || exec "$(dirname "$0")/../../tests/cluster/bed.sh" run 2 -- "$0" "$@"
. "$(dirname "$0")/../../tests/cluster/lib.sh"
MODEL=${MODEL:-mlp}
RATES=${RATES:-10gbit 1gbit}
PER=${PER:-1 2}
RUNS=${RUNS:-3}
SIM=$top/build/bench/sim
case "$MODEL" in
mlp) steps=1000 ;;
lstm) steps=200 ;;
*) steps=40 ;;
esac
gbatch=$(sed -n 's/^batch *= *\([0-9]*\).*/\1/p' "$top/models/$MODEL.cfg")
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ms() { sed -n 's/.* \([0-9.]*\) ms\/step.*/\1/p'; }

# latency: the bed's 4-byte MPI_Allreduce of 2 hosts x 1 rank (MPICH) is one
# exchange: a host-to-host message, two links
for n in 1 2; do "$BED" rate "$n" none; done
"$BED" hostfile mpich 1 1 2 > "$WORK/hosts.lat"
# (each bounded: MPICH's finalize over UCX has hung here, in a PMI read,
# holding the bed's lock; the run is then ended and its value left out)
for r in $(seq "$RUNS"); do
    timeout -k 10 60 "$BED" exec 1 mpiexec.mpich -f "$WORK/hosts.lat" -launcher ssh \
        -launcher-exec "$AGENT" -n 2 "$(dirname "$BIN_MPICH")/bench/allreduce" 2>&1 |
        awk '$1 == 4 {print $2}'
    [ "${PIPESTATUS[0]}" != 124 ] || echo "validate_bed: latency run $r hung: ended after 60 s" >&2
done > "$WORK/lat.s"
[ -s "$WORK/lat.s" ] || { echo "validate_bed: no latency run ended" >&2; exit 1; }
lat_us=$(median < "$WORK/lat.s" | awk '{printf "%.2f", $1 * 1e6 / 2}')
cal=$(timeout -k 10 60 "$BED" exec 1 mpirun --allow-run-as-root --oversubscribe -np 2 "$SIM/calib" |
      grep '^calib:') || { echo "validate_bed: the calibration did not end within 60 s" >&2; exit 1; }
num() { echo "$cal" | sed -n "s/.* $1 \([0-9.]*\).*/\1/p"; }
echo "bed: 4-byte MPI_Allreduce medians $(tr '\n' ' ' < "$WORK/lat.s")s: $lat_us us a link; $cal"

echo "| link | hosts x ranks | 1-rank profile ms/step | measured ms/step ($RUNS runs) | simulated | error |"
echo "|---|---|---|---|---|---|"
for rate in $RATES; do
    for n in 1 2; do "$BED" rate "$n" "$rate"; done
    gbps=${rate%gbit}
    sed -e "s/@BW@/$gbps/" -e "s/@LAT@/$lat_us/" -e "s/@LBW@/$(num bandwidth_GBps)/" \
        -e "s/@LLAT@/$(num latency_us)/" "$top/bench/sim/platforms/bed.xml.in" > "$WORK/bed.xml"
    for per in $PER; do
        ranks=$((2 * per))
        one=(train --model "$top/models/$MODEL.cfg" --data "$DATA" --batch $((gbatch / ranks))
             --steps "$steps" --threads 1 --profile --quiet)
        two=(train --model "$top/models/$MODEL.cfg" --data "$DATA" --batch "$gbatch"
             --steps "$steps" --threads 1 --allreduce mpi --profile --quiet)
        prof=$WORK/$MODEL.$rate.$per.txt
        : > "$prof"; : > "$WORK/measured"
        for r in $(seq "$RUNS"); do
            "$BED" exec 1 env OMP_NUM_THREADS=1 "$BIN_MPICH" "${one[@]}" | sed -n '/^profile:/,$p' >> "$prof"
            launch mpich "$per" "1 2" "$BIN_MPICH" "${two[@]}" 2>&1 | grep '^profile:' | ms >> "$WORK/measured"
        done
        for h in 0 1; do for k in $(seq "$per"); do echo "node-$h"; done; done > "$WORK/hosts.sim"
        (cd "$WORK" && smpirun -platform bed.xml -hostfile hosts.sim -np "$ranks" "$SIM/replay.so" \
            --cfg=smpi/simulate-computation:no --cfg=smpi/test:0 --cfg=smpi/coll-selector:mpich \
            --log=root.thresh:critical --cfg=smpi/tmpdir:"$WORK" \
            --model "$top/models/$MODEL.cfg" --profile "$prof" \
            --events "$top/bench/sim/profiles/$MODEL.events" --strategy buckets --algorithm 3 \
            --op-ns "$(num op_ns)" --copy-ns "$(num copy_ns)" --steps 5) > "$WORK/sim.out" 2>&1 ||
            { cat "$WORK/sim.out"; exit 1; }
        simulated=$(sed -n 's/^result: step_ms \([0-9.]*\).*/\1/p' "$WORK/sim.out")
        profiled=$(sed -n 's/.*profile_step_ms \([0-9.]*\).*/\1/p' "$WORK/sim.out")
        measured=$(median < "$WORK/measured")
        echo "| $rate | 2 x $per | $profiled | $(tr '\n' ' ' < "$WORK/measured" | sed 's/ $//; s/ /, /g') | $simulated |" \
             "$(awk -v s="$simulated" -v m="$measured" 'BEGIN { printf "%+.1f%%", 100 * (s - m) / m }') |"
    done
done
