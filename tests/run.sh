#!/bin/sh
# Run every test program given; the ones named *_mpi run under the launcher
# ($SN_MPIRUN, set by the Makefile for its MPI family) with each rank count
# of $SN_NP as well as alone (default "2 3", and 4 for test_reducer_mpi:
# 2 fake hosts x 2 ranks); *.sh are shell tests, and one that exits 77 was
# skipped (it prints why).  Prints one line per run and a closing
# "N passed, N failed" line; exits non-zero if anything failed.
MPIRUN=${SN_MPIRUN:-mpirun}
pass=0; fail=0; skip=0; failed=""
run() {
    name=$1; shift
    start=$(date +%s)
    "$@" > "$log" 2>&1
    st=$?
    if [ "$st" = 0 ]; then
        pass=$((pass + 1)); echo "PASS  $name  ($(( $(date +%s) - start )) s)"
    elif [ "$st" = 77 ]; then
        skip=$((skip + 1)); echo "SKIP  $name: $(tail -1 "$log")"
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
        nps=${SN_NP:-2 3}
        case "$t" in */test_reducer_mpi) nps=${SN_NP:-2 3 4} ;; esac
        for np in $nps; do
            run "$t -np $np" $MPIRUN -np "$np" "$t"
        done
        unset ASAN_OPTIONS ;;
    *.sh)
        run "$t" bash "$t" ;;
    */cli/*)
        # a request past the address space the HDF5 probe's child is given
        # returns NULL, as glibc's malloc does (ASan would end the child)
        ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}; export ASAN_OPTIONS
        run "$t" "$t"
        unset ASAN_OPTIONS ;;
    *)
        run "$t" "$t" ;;
    esac
done
rm -f "$log"
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed$([ "$skip" = 0 ] || echo ", $skip skipped")"
[ "$fail" -eq 0 ]
