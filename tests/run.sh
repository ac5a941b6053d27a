#!/bin/sh
# Run every test program given; the ones named *_mpi run under the launcher
# ($SN_MPIRUN, set by the Makefile for its MPI family) with each rank count
# of $SN_NP as well as alone (default "2 3", and 4 for test_reducer_mpi:
# 2 fake hosts x 2 ranks); *.sh are shell tests, and one that exits 77 was
# skipped (it prints why).  $SN_TEST_JOBS runs go at once (default 2: most
# of the slow tests wait on processes, timeouts and signals, not on the
# cores), the slowest known first so that the others fill in beside them.
# Prints one line per run as it ends (a failed one's output below it) and a
# closing "N passed, N failed" line; exits non-zero if anything failed.
MPIRUN=${SN_MPIRUN:-mpirun}
jobs=${SN_TEST_JOBS:-2}
case "$jobs" in
''|*[!0-9]*|0*|?????*) echo "tests/run.sh: SN_TEST_JOBS='$jobs': give how many test programs" \
                            "run at once, a whole number from 1 to 9999" >&2; exit 2 ;;
esac
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
n=0

# add NAME ASAN_OPTIONS COMMAND...: one run, kept as a script in $dir
add() {
    n=$((n + 1))
    printf '%s\n' "$1" > "$dir/$n.name"
    { [ -n "$2" ] && printf 'ASAN_OPTIONS=%s; export ASAN_OPTIONS\n' "$2"
      shift 2
      printf 'exec'
      for a in "$@"; do
          printf " '%s'" "$(printf '%s' "$a" | sed "s/'/'\\\\''/g")"
      done
      echo; } > "$dir/$n.sh"
}

add_runs() {
    t=$1
    case "$t" in
    *_mpi)
        # Under `make sanitize`, LeakSanitizer would report what Open MPI's
        # plugins keep until exit; leaks are checked by the MPI-free tests.
        asan=${ASAN_OPTIONS:-detect_leaks=0}
        add "$t" "$asan" "$t"
        nps=${SN_NP:-2 3}
        case "$t" in */test_reducer_mpi) nps=${SN_NP:-2 3 4} ;; esac
        for np in $nps; do
            add "$t -np $np" "$asan" $MPIRUN -np "$np" "$t"
        done ;;
    *.sh)
        add "$t" "${ASAN_OPTIONS:-}" bash "$t" ;;
    */cli/*)
        # a request past the address space the HDF5 probe's child is given
        # returns NULL, as glibc's malloc does (ASan would end the child)
        add "$t" "${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}" "$t" ;;
    *)
        add "$t" "${ASAN_OPTIONS:-}" "$t" ;;
    esac
}

# the slowest, by their times in make test, first, in this order
slow="test_train test_bad_input hostfile.sh test_export test_trainer_mpi test_install"
for name in $slow; do
    for t in "$@"; do
        [ "${t##*/}" = "$name" ] && add_runs "$t"
    done
done
for t in "$@"; do
    case " $slow " in *" ${t##*/} "*) ;; *) add_runs "$t" ;; esac
done

# one run: its line (and a failure's output) written at once when it ends;
# the shell's report of a signal that ended it goes to its log (a subshell
# waits for it)
cat > "$dir/one.sh" <<'EOF'
dir=$1; i=$2
name=$(cat "$dir/$i.name")
start=$(date +%s)
(sh "$dir/$i.sh"; exit $?) > "$dir/$i.log" 2>&1
st=$?
if [ "$st" = 0 ]; then
    echo pass > "$dir/$i.res"
    echo "PASS  $name  ($(( $(date +%s) - start )) s)"
elif [ "$st" = 77 ]; then
    echo skip > "$dir/$i.res"
    echo "SKIP  $name: $(tail -1 "$dir/$i.log")"
else
    echo fail > "$dir/$i.res"
    why="exit $st"
    sig=$([ "$st" -gt 128 ] && kill -l $((st - 128)) 2>/dev/null)
    [ -n "$sig" ] && why="$why: SIG$sig"
    { echo "FAIL  $name  ($why)"; cat "$dir/$i.log"; } > "$dir/$i.out"
    cat "$dir/$i.out"
fi
EOF
# in a session of their own, so that a stop of this script (a CI's cancel,
# kill, a closed terminal) ends the runs it started too: they went on,
# detached, beside the next make test
setsid sh -c 'seq 1 "$1" | xargs -P "$2" -I{} sh "$3/one.sh" "$3" {}' runs "$n" "$jobs" "$dir" &
runs=$!
# stopped: SIGTERM to the session, SIGKILL to what is left of it 10 s later
# (a test's own setsid children are their test's to end)
stop() {
    pkill -TERM -s $runs
    i=0
    while pgrep -s $runs > /dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    pkill -KILL -s $runs
    wait $runs
    rm -rf "$dir"
    echo "tests/run.sh: stopped" >&2
    exit 143
}
trap stop INT TERM HUP
wait $runs
trap - INT TERM HUP

pass=0; fail=0; skip=0; failed=""
i=0
while [ $i -lt $n ]; do
    i=$((i + 1))
    case "$(cat "$dir/$i.res" 2>/dev/null)" in
    pass) pass=$((pass + 1)) ;;
    skip) skip=$((skip + 1)) ;;
    *) fail=$((fail + 1)); failed="$failed $(cat "$dir/$i.name")" ;;
    esac
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed$([ "$skip" = 0 ] || echo ", $skip skipped")"
[ "$fail" -eq 0 ]
