#!/bin/bash
# tests/launch/sandbox.sh: launch/slurm-sandbox.sh stop acts only on a
# folder of its own user that no one else may write in, and ends only the
# daemons started for that folder: a folder another user made in /tmp,
# naming the machine's own munged in its pid file, made root's `stop`
# kill it.  Needs root (stop does); needs no Slurm.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: slurm-sandbox.sh stop needs root"; exit 0; }
t=$(mktemp -d)
fake=""
trap '[ -n "$fake" ] && kill "$fake" 2>/dev/null; rm -rf "$t"' EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
cp /bin/sleep "$t/munged"   # a process named as the daemon, not started for any sandbox
"$t/munged" 300 &
fake=$!
# sandbox OWNER MODE: a folder marked as a sandbox, its munge.pid naming the process
sandbox() {
    rm -rf "$t/sb"
    mkdir "$t/sb" && touch "$t/sb/scratchnet-slurm-sandbox" && echo "$fake" > "$t/sb/munge.pid"
    chown -R "$1" "$t/sb" && chmod "$2" "$t/sb"
}
for how in "nobody:nogroup 755" "root:root 777"; do
    sandbox $how
    SANDBOX=$t/sb bash "$top/launch/slurm-sandbox.sh" stop > "$t/out" 2> "$t/err"
    st=$?
    [ "$st" = 1 ] && [ -d "$t/sb" ] && grep -qF "left alone" "$t/err" ||
        bad "stop on a folder $how: exit $st, folder $([ -d "$t/sb" ] && echo kept || echo removed): $(cat "$t/err")"
done
sandbox root:root 755   # its own: removed, but the process is no daemon of it
SANDBOX=$t/sb bash "$top/launch/slurm-sandbox.sh" stop > "$t/out" 2> "$t/err"
st=$?
[ "$st" = 0 ] && [ ! -e "$t/sb" ] || bad "stop on its own folder: exit $st: $(cat "$t/err")"
kill -0 "$fake" 2>/dev/null || bad "stop ended a process its folder's pid file named but that it did not start"
[ "$fails" = 0 ] && echo "slurm-sandbox.sh stop: leaves other users' folders and processes alone"
exit $((fails > 0))
