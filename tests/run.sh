#!/bin/sh
# Run every test program given; the ones named *_mpi run under mpirun with 2 and 3
# ranks as well as alone.  Prints one line per run and a closing
# "N passed, N failed" line; exits non-zero if anything failed.
MPIRUN=${SN_MPIRUN:-mpirun --oversubscribe}
pass=0; fail=0; failed=""
run() {
    name=$1; shift
    start=$(date +%s)
    if "$@" > "$log" 2>&1; then
        pass=$((pass + 1)); echo "PASS  $name  ($(( $(date +%s) - start )) s)"
    else
        fail=$((fail + 1)); failed="$failed $name"; echo "FAIL  $name"; cat "$log"
    fi
}
log=$(mktemp)
for t in "$@"; do
    case "$t" in
    *_mpi)
        # Under `make sanitize`, LeakSanitizer would report what Open MPI's
        # plugins keep until exit; leaks are checked by the MPI-free tests.
        ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}; export ASAN_OPTIONS
        run "$t" "$t"
        run "$t -np 2" $MPIRUN -np 2 "$t"
        run "$t -np 3" $MPIRUN -np 3 "$t"
        unset ASAN_OPTIONS ;;
    */cli/*)
        ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}; export ASAN_OPTIONS
        run "$t" "$t"
        unset ASAN_OPTIONS ;;
    *)
        run "$t" "$t" ;;
    esac
done
rm -f "$log"
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
