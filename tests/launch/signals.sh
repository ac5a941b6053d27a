#!/bin/sh
# tests/launch/signals.sh: launch/local.sh's exit status is mpirun's when a
# stop signal comes twice (timeout(1) sends SIGTERM to the script and then to
# its process group) and the second finds the ranks gone and mpirun about to
# end.  The stand-in mpirun on PATH starts one "rank" that ends with 0 at
# SIGTERM, then lingers half a second without children before it ends with
# FAKE_STATUS: the second signal's trap waits for it to end, and the shell
# reaps it meanwhile; and a signal that comes while the rank is still
# loading waits for its handler; a rank is found whatever its program's
# name.  Run with sh (dash) and with bash, whose waits differ.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
t=$(mktemp -d)
trap 'pkill -f "$t/bin/" 2>/dev/null; rm -rf "$t"' EXIT   # a failed case leaves no stand-in running
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

mkdir "$t/bin"
cat > "$t/bin/mpirun" <<'FAKE'
#!/bin/sh
"$SCRATCHNET" &
wait $!
exec perl -e 'select(undef, undef, undef, 0.5); exit($ENV{FAKE_STATUS} // 0)'
FAKE
# the stand-in rank: named as the program, its handler set before it says so
cat > "$t/bin/scratchnet" <<'FAKE'
#!/bin/sh
sleep "${FAKE_LOAD:-0}"   # a program still loading: no handler yet
trap 'touch "$T/ended"; exit 0' TERM HUP USR2 ALRM
touch "$T/started"
while :; do sleep 0.02; done
FAKE
chmod +x "$t/bin/mpirun" "$t/bin/scratchnet"

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
    T=$t FAKE_STATUS=$2 PATH="$t/bin:$PATH" SCRATCHNET=$t/bin/scratchnet \
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
# early SHELL: SIGTERM as the job starts, while the rank has no handler
# yet; it must wait for it, not kill it (exit 143)
early() {
    rm -f "$t/started" "$t/ended"
    T=$t FAKE_STATUS=0 FAKE_LOAD=0.5 PATH="$t/bin:$PATH" SCRATCHNET=$t/bin/scratchnet \
        $1 "$top/launch/local.sh" 1 train > "$t/out" 2>&1 &
    job=$!
    i=0   # the stand-in rank runs, still loading
    while ! pgrep -f "$t/bin/scratchnet" > /dev/null && [ $i -lt 100 ]; do
        sleep 0.05; i=$((i + 1))
    done
    kill -TERM $job
    wait $job
    got=$?
    [ "$got" = 0 ] && [ -e "$t/ended" ] ||
        bad "$1, SIGTERM before the rank has its handler: local.sh exited $got," \
            "$([ -e "$t/ended" ] || echo 'the rank was killed, not stopped') ($(tr '\n' ' ' < "$t/out"))"
}
# stops SHELL PROGRAM [SIGNAL]: SIGTERM (or SIGNAL) to local.sh reaches a
# rank whose program name holds a pattern's characters, or a wrapper that
# execs the program (a name matched as a pattern found no rank: the run
# trained on); SIGHUP, a closed ssh session, too (it went to mpirun, which
# ends the job: a large model's save was cut), and SIGUSR2 and SIGALRM
stops() {
    sig=${3:-TERM}
    rm -f "$t/started" "$t/ended"
    T=$t FAKE_STATUS=0 PATH="$t/bin:$PATH" SCRATCHNET=$2 \
        $1 "$top/launch/local.sh" 1 train > "$t/out" 2>&1 &
    job=$!
    waits_for "$t/started" || bad "$1 $2: the stand-in rank did not start"
    kill -$sig $job
    wait $job
    got=$?
    [ "$got" = 0 ] && [ -e "$t/ended" ] ||
        bad "$1, SIG$sig to local.sh running $2: exit $got," \
            "$([ -e "$t/ended" ] || echo 'the rank never got it') ($(tr '\n' ' ' < "$t/out"))"
}
cp "$t/bin/scratchnet" "$t/bin/sn+(1.x"
printf '#!/bin/sh\nexec "%s/bin/scratchnet" "$@"\n' "$t" > "$t/bin/wrapper"
chmod +x "$t/bin/wrapper"
for sh in sh bash; do
    twice $sh 0
    twice $sh 3
    early $sh
    stops $sh "$t/bin/sn+(1.x"
    stops $sh "$t/bin/wrapper"
    stops $sh "$t/bin/scratchnet" HUP
    # the other signals scratchnet stops on ended the script at once (round 70 F8)
    stops $sh "$t/bin/scratchnet" USR2
    stops $sh "$t/bin/scratchnet" ALRM
done

# mpirun that ends (a failed job) without reaping a rank that has ended:
# the rank stays a zombie in its session until its new parent reaps it,
# which a container's PID 1 without --init never does (a subreaper here):
# local.sh took it for a rank left running, and waited 60 s for it.
if [ -x /usr/bin/python3 ]; then
    mkdir -p "$t/bin2"
    printf '#!/bin/sh\nexec perl -e %s\n' "'if (fork() == 0) { exit 1 } select(undef, undef, undef, 0.3); exit 2'" \
        > "$t/bin2/mpirun"
    chmod +x "$t/bin2/mpirun"
    got=$(PATH="$t/bin2:$PATH" SCRATCHNET=$t/bin/scratchnet /usr/bin/python3 -c '
import ctypes, subprocess, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)   # PR_SET_CHILD_SUBREAPER, reaping nothing
t0 = time.time()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
print(p.returncode, int(time.time() - t0), "left" if "left its ranks" in p.stderr else "-")
' "$top/launch/local.sh" 1 train 2>&1)
    case $got in
    "2 "[0-9]" -") ;;
    *) bad "local.sh after an mpirun that left a zombie rank: $got (want: 2, within 10 s, no rank said left)" ;;
    esac
fi

# A terminal that really hangs up (an ssh session dropped) under MPICH:
# cluster.sh passes the stop on and the ranks save, but mpiexec, writing
# their last lines to the gone terminal, ended with status 255, which
# cluster.sh returned.  A pty is closed under it (python's pty module); the
# stand-in rank prints its lines after the stop and ends with 0.
cat > "$t/bin/talker" <<'FAKE'
#!/bin/sh
trap 'echo "scratchnet: stopped by SIGTERM" >&2; for i in 1 2 3 4 5 6 7 8; do echo "line $i"; done; exit 0' TERM
touch "$T/started"
while :; do echo tick; sleep 0.05; done
FAKE
chmod +x "$t/bin/talker"
if command -v mpiexec.mpich > /dev/null && [ -x /usr/bin/python3 ]; then
    rm -f "$t/started"
    printf 'localhost slots=1\n' > "$t/one"
    got=$(T=$t MPI=mpich THREADS=1 BIND=none SCRATCHNET=$t/bin/talker /usr/bin/python3 -c '
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv("/bin/bash", ["bash", sys.argv[1], sys.argv[2], "info"])
t0 = time.time()
while not os.path.exists(sys.argv[3]) and time.time() - t0 < 30:
    try:
        os.read(fd, 65536)
    except OSError:
        break
time.sleep(0.3)
os.close(fd)   # the terminal hangs up
_, st = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(st))' "$top/launch/cluster.sh" "$t/one" "$t/started" 2>&1)
    [ "$got" = 0 ] || bad "MPI=mpich cluster.sh on a terminal that hangs up: exit $got (want 0)"
fi

[ $fails = 0 ] && echo "launch signals: all passed"
[ $fails = 0 ]
