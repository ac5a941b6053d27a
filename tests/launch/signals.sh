#!/bin/sh
# tests/launch/signals.sh: launch/local.sh's exit status is mpirun's when a
# stop signal comes twice (timeout(1) sends SIGTERM to the script and then to
# its process group) and the second finds the ranks gone and mpirun about to
# end.  The stand-in mpirun on PATH starts one "rank" that ends with 0 at
# SIGTERM, then lingers half a second without children before it ends with
# FAKE_STATUS: the second signal's trap waits for it to end, and the shell
# reaps it meanwhile.  Run with sh (dash) and with bash, whose waits differ.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

mkdir "$t/bin"
cat > "$t/bin/mpirun" <<'FAKE'
#!/bin/sh
sh -c 'trap "touch \"$T/ended\"; exit 0" TERM; touch "$T/started"
       while :; do sleep 0.02; done' &
wait $!
exec perl -e 'select(undef, undef, undef, 0.5); exit($ENV{FAKE_STATUS} // 0)'
FAKE
chmod +x "$t/bin/mpirun"

# waits_for FILE: up to 10 s
waits_for() {
    i=0
    while [ ! -e "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ -e "$1" ]
}

# twice SHELL STATUS: SIGTERM to local.sh as the rank starts and again as it
# has ended; local.sh must exit STATUS, mpirun's
twice() {
    rm -f "$t/started" "$t/ended"
    T=$t FAKE_STATUS=$2 PATH="$t/bin:$PATH" SCRATCHNET=/bin/true \
        $1 "$top/launch/local.sh" 1 train > "$t/out" 2>&1 &
    job=$!
    waits_for "$t/started" || bad "$1: the stand-in rank did not start"
    kill -TERM $job
    waits_for "$t/ended" || bad "$1: the stand-in rank did not end at SIGTERM"
    kill -TERM $job
    wait $job
    got=$?
    [ "$got" = "$2" ] || bad "$1, mpirun exits $2 after a second SIGTERM: local.sh exited $got" \
                             "($(tr '\n' ' ' < "$t/out"))"
}
for sh in sh bash; do
    twice $sh 0
    twice $sh 3
done

[ $fails = 0 ] && echo "launch signals: all passed"
[ $fails = 0 ]
