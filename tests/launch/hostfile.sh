#!/bin/bash
# tests/launch/hostfile.sh: how launch/cluster.sh and launch/elastic.sh read
# a hostfile (launch/nodes.sh) and their flags: what they accept, and that
# what they refuse ends with exit 2 and a line naming the problem before
# anything is launched (AGENT=false: no node could be reached anyway); and
# the cores launch/local.sh counts.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# reads FILE_TEXT WANT: read_hostfile gives "per: node node ..."
reads() {
    printf '%s' "$1" > "$t/hosts"
    got=$(me=test; . "$top/launch/nodes.sh"; read_hostfile "$t/hosts" && echo "$per: ${nodes[*]}")
    [ "$got" = "$2" ] || bad "hostfile '$1': got '$got', want '$2'"
}
reads 'n1' '1: n1'
reads 'n1 slots=2
n2 slots=2' '2: n1 n2'
reads 'n1 slots=2 max_slots=4
n2 slots=2 max_slots=4' '2: n1 n2'
reads '# the nodes
n1 slots=3   # slots=4 was the old value

n2 slots=03' '3: n1 n2'
reads 'n1 slots=2
n2 slots=2 # no newline at the end' '2: n1 n2'
reads "$(printf 'n1 slots=2\r\nn2 slots=2\r\n')" '2: n1 n2'   # a Windows file
reads $'n1 slots=2\r\n' '2: n1'   # of one line (user 44 U1: called an old Mac file)

# with ssh, this machine answers without an ssh server; a node that is not
# there does not
got=$(AGENT=ssh; . "$top/launch/nodes.sh"; silent localhost "$(hostname)" nosuchnode.invalid)
[ "$got" = nosuchnode.invalid ] || bad "silent localhost, own name, nosuchnode.invalid: got '$got'"
# nor does the node read_hostfile found to be this machine, in any spelling
got=$(AGENT=ssh; . "$top/launch/nodes.sh"; self_node=myself.invalid; silent myself.invalid)
[ -z "$got" ] || bad "silent of self_node myself.invalid: got '$got'"

# refused SCRIPT FILE_TEXT MESSAGE [ARGS...]: exit 2, MESSAGE on stderr
refused() {
    local script=$1 text=$2 msg=$3
    shift 3
    printf '%s' "$text" > "$t/hosts"
    AGENT=false SCRATCHNET=/bin/false bash "$top/launch/$script" "$@" > "$t/out" 2> "$t/err"
    st=$?
    [ "$st" = 2 ] && grep -qF -- "$msg" "$t/err" ||
        bad "$script $* on '$text': exit $st, stderr: $(cat "$t/err")"
}
# a launcher (its agent) that fails without a word: said, not a silent exit 1
printf '10.255.255.1 slots=1\n' > "$t/hosts"
AGENT=false SCRATCHNET=/bin/false bash "$top/launch/cluster.sh" "$t/hosts" info > "$t/out" 2> "$t/err"
st=$?
[ "$st" = 1 ] && grep -qF "launcher ended with status 1 and no message: it or its agent (AGENT=false)" "$t/err" ||
    bad "cluster.sh with AGENT=false: exit $st, stderr: $(cat "$t/err")"
for script in cluster.sh elastic.sh; do
    refused $script 'n1 slots=0' 'node n1: slots= must be a whole number from 1 to 4096' "$t/hosts" info
    refused $script 'n1 slots=99999999999999999999' 'slots= must be a whole number' "$t/hosts" info
    refused $script 'n1 slots=4097' 'slots= must be a whole number' "$t/hosts" info
    refused $script 'n1 slots=abc' "slots= must be a whole number from 1 to 4096, got 'abc'" "$t/hosts" info
    refused $script "$(printf 'n\r1 slots=2')" "node 'n?1': a host name is letters" "$t/hosts" info
    refused $script 'n1 slots=' 'slots= must be a whole number' "$t/hosts" info
    refused $script 'n1 slots=2
n2 slots=3' 'every node needs the same slots= (got 2 and 3)' "$t/hosts" info
    refused $script '# no node here' 'no nodes' "$t/hosts" info
    refused $script 'n1 slots=2
N1 slots=2' 'node N1 is listed twice' "$t/hosts" info
    refused $script "localhost slots=1
$(hostname) slots=1" "nodes localhost and $(hostname) are both this machine" "$t/hosts" info
    refused $script '127.0.0.1 slots=1
localhost slots=1' 'nodes 127.0.0.1 and localhost are both this machine' "$t/hosts" info
    refused $script '10.0.0.1 slots=1
0xa.1 slots=1' 'node 0xa.1: write this address as 10.0.0.1 (Open MPI reads other spellings' "$t/hosts" info
    refused $script '127.1 slots=1
localhost slots=1' 'node 127.1: write this address as 127.0.0.1' "$t/hosts" info
    refused $script '10.0.0.1 slots=1
167772161 slots=1' 'node 167772161: write this address as 10.0.0.1' "$t/hosts" info
    refused $script '017700000001 slots=1' 'node 017700000001: write this address as 127.0.0.1' \
        "$t/hosts" info
    refused $script '127.0.0.1. slots=1' 'node 127.0.0.1.: a dot at an end or two together' \
        "$t/hosts" info
    refused $script '0177.0.0.1 slots=1
localhost slots=1' 'node 0177.0.0.1: write this address as 127.0.0.1' "$t/hosts" info
    refused $script 'localhost slots=1
0.0.0.0 slots=1' 'nodes localhost and 0.0.0.0 are both this machine' "$t/hosts" info
    # a loopback address but 127.0.0.1 (Debian's 127.0.1.1 for the host
    # name): Open MPI asks the agent for it, as for another node
    refused $script 'localhost slots=1
127.0.1.1 slots=1' 'node 127.0.1.1: a loopback address other than 127.0.0.1' "$t/hosts" info
    refused $script '127.2.3.4 slots=1' 'node 127.2.3.4: a loopback address other than 127.0.0.1' \
        "$t/hosts" info
    own=$(hostname -I 2>/dev/null | awk '{ print $1 }')
    [ -z "$own" ] || refused $script "$(hostname) slots=1
$own slots=1" "nodes $(hostname) and $own are both this machine" "$t/hosts" info
    refused $script "$(printf 'n1 slots=1\rn2 slots=1\r')" 'lines end in CR alone' "$t/hosts" info
    refused $script "n1 slots=1
$(head -c 5000 /dev/zero | tr '\0' b)" 'a line of 5000 characters' "$t/hosts" info
    refused $script 'n1 slots=1 slots=2' 'node n1: slots= given twice' "$t/hosts" info
    refused $script 'fe80::1 slots=2' 'node fe80::1: an IPv6 address' "$t/hosts" info
    refused $script 'localhost:2' "node localhost:2: MPICH's NODE:N form; write it as Open MPI's 'localhost slots=2'" "$t/hosts" info
    refused $script 'n1 slots=2 cpus=4' "node n1: 'cpus=4' is not slots=N or max_slots=N" "$t/hosts" info
    refused $script 'n1 max_slots=$(id)' "node n1: max_slots= must be a whole number" "$t/hosts" info
    refused $script 'n1 max_slots=00' "node n1: max_slots= must be a whole number from 1" "$t/hosts" info
    refused $script 'n1 slots=4 max_slots=2' "node n1: max_slots=2 is below its slots=4" "$t/hosts" info
    refused $script '-oProxyCommand=touch${IFS}/tmp/PWNED slots=2' "a host name is letters, digits" "$t/hosts" info
    refused $script 'n$(id) slots=2' "node 'n\$(id)': a host name is letters" "$t/hosts" info
    refused $script "$(printf 'a%.0s' $(seq 254)) slots=2" "254 characters; a host name has at most 253" \
        "$t/hosts" info
    refused $script "x.$(printf 'a%.0s' $(seq 64)) slots=2" "a part between dots longer than 63" \
        "$t/hosts" info
    refused $script "$(printf 'a%.0s' $(seq 57)).example slots=2" \
        "its name up to the first dot has 57 characters; Open MPI's mpirun crashes" "$t/hosts" info
done
# a long hostfile is read without a process a line: 2,000 lines of PREFIXN
# (n: names took 30 s; 10.: addresses 10.0.X.Y, numeric ones ran getent a
# line, 70 ms each),
# then a bad line, refused within 10 s
reads_fast() {
    local i start st took
    for i in $(seq 1 2000); do
        case "$1" in
        10.) echo "10.0.$((i / 256)).$((i % 256)) slots=1" ;;   # the one spelling taken
        *) echo "$1$i slots=1" ;;
        esac
    done > "$t/long"
    echo "bad slots=0" >> "$t/long"
    start=$(date +%s)
    AGENT=false SCRATCHNET=/bin/false bash "$top/launch/cluster.sh" "$t/long" info > "$t/out" 2> "$t/err"
    st=$? took=$(( $(date +%s) - start ))
    [ "$st" = 2 ] && [ "$took" -le 10 ] && grep -qF "node bad: slots= must be a whole number" "$t/err" ||
        bad "cluster.sh on 2,001 lines of $1N: exit $st in $took s: $(head -3 "$t/err")"
}
reads_fast n
reads_fast 10.
# elastic.sh takes a hostfile named -, as cluster.sh does
mkdir -p "$t/dashe" && printf 'node01 slots=2 nonsense\n' > "$t/dashe/-"
(cd "$t/dashe" && AGENT=false SCRATCHNET=/bin/true bash "$top/launch/elastic.sh" - info) \
    > "$t/out" 2> "$t/err"
st=$?
[ "$st" = 2 ] && grep -qF "node node01: 'nonsense' is not slots=N" "$t/err" ||
    bad "elastic.sh with a hostfile named -: exit $st: $(head -3 "$t/err")"
refused elastic.sh 'n1' '--max-restarts must be a whole number from 0 to 9999' \
    --max-restarts 18446744073709551615 "$t/hosts" train
refused elastic.sh 'n1' '--max-restarts must be a whole number from 0 to 9999' \
    --max-restarts 10000 "$t/hosts" train
refused elastic.sh 'n1' '--max-restarts must be a whole number from 0 to 9999' \
    --max-restarts -1 "$t/hosts" train
refused elastic.sh 'n1' "the global batch must be a whole number from 1 to 9999999999, got 'abc'" \
    "$t/hosts" train --batch abc --checkpoint-dir "$t/ck" --checkpoint-every 1
# elastic.sh's global batch is decimal, as scratchnet reads it, from --batch
# or --batch=, else from the model file as scratchnet reads it (an inline
# ; comment, a leading zero); -x shows the batch it settled on
printf '[net]\ninput = 4\nbatch = 0012 ; twelve\n[dense]\nunits = 2\n' > "$t/b.cfg"
for args in "--batch 0012" "--batch=0012" "--model=$t/b.cfg" "--model $t/b.cfg"; do
    # shellcheck disable=SC2086
    AGENT=false bash -x "$top/launch/elastic.sh" "$t/hosts" train $args \
        --checkpoint-dir "$t/ck" --checkpoint-every=1 > "$t/out" 2> "$t/err"
    grep -q '^+ batch=12$' "$t/err" && grep -q 'no node of .* answers' "$t/err" ||
        bad "elastic.sh with $args: want global batch 12, got: $(grep -v '^+' "$t/err" | head -3)"
done
# a job started with --resume FILE that fails before its first checkpoint
# restarts from FILE (--resume auto in the empty folder started afresh)
printf '#!/bin/bash\necho "$*" >> "%s/calls"\n[ "$(wc -l < "%s/calls")" = 1 ] && exit 3\nexit 0\n' \
    "$t" "$t" > "$t/fails_once"
chmod +x "$t/fails_once"
printf 'localhost slots=1\n' > "$t/hosts1"
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 AGENT=true BIND=none \
    SCRATCHNET=$t/fails_once bash "$top/launch/elastic.sh" "$t/hosts1" train --batch 4 \
    --resume "$t/from.h5" --checkpoint-dir "$t/ck" --checkpoint-every 1 > "$t/out" 2> "$t/err"
st=$?
[ "$st" = 0 ] && [ "$(sed -n 2p "$t/calls")" = "train --batch 4 --checkpoint-dir $t/ck --checkpoint-every 1 --resume $t/from.h5" ] &&
    grep -qF "resumes from $t/from.h5, as the job did (no checkpoint in $t/ck yet)" "$t/err" ||
    bad "elastic.sh restart of a --resume FILE job: exit $st, calls: $(cat "$t/calls"): $(tail -2 "$t/err")"
# a program's last words without a newline (a wrapper, a module system)
# reach stderr, and no agent is blamed once the job said something
printf '#!/bin/sh\nprintf "fatal: license server unreachable" >&2\nexit 3\n' > "$t/nonl"
chmod +x "$t/nonl"
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 AGENT=true BIND=none \
    SCRATCHNET=$t/nonl bash "$top/launch/cluster.sh" "$t/hosts1" info > "$t/out" 2> "$t/err"
st=$?
[ "$st" = 3 ] && grep -q "fatal: license server unreachable" "$t/err" && ! grep -q "no message" "$t/err" ||
    bad "cluster.sh, a last line without its newline: exit $st: $(tail -2 "$t/err")"
# the world size also lets --accumulate split each rank's share: a global
# batch of 32 in micro-batches of 32 runs at 1 rank of 3 slots (2 ranks
# were started, which scratchnet refuses, and the job ended); an
# --accumulate that divides no share is refused before any start
printf '#!/bin/bash\necho "$OMPI_COMM_WORLD_SIZE" >> "%s/sizes"\n' "$t" > "$t/size_of"
chmod +x "$t/size_of"
printf 'localhost slots=3\n' > "$t/hosts3"
rm -f "$t/sizes"
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 AGENT=true BIND=none \
    SCRATCHNET=$t/size_of bash "$top/launch/elastic.sh" "$t/hosts3" train --batch 32 \
    --accumulate=32 --checkpoint-dir "$t/ck" --checkpoint-every 1 > "$t/out" 2> "$t/err"
st=$?
[ "$st" = 0 ] && [ "$(cat "$t/sizes")" = 1 ] &&
    grep -qF "divide the global batch 32 into shares --accumulate 32 divides" "$t/err" ||
    bad "elastic.sh --accumulate 32 of batch 32: exit $st, sizes $(cat "$t/sizes"): $(tail -2 "$t/err")"
refused elastic.sh 'n1' "--accumulate 3 does not divide the global batch 32: no rank count can run it" \
    "$t/hosts" train --batch 32 --accumulate 3 --checkpoint-dir "$t/ck" --checkpoint-every 1
# no temporary folder: refused before anything is written (the launch's
# files went into /)
for script in cluster.sh elastic.sh; do
    printf 'n1 slots=1\n' > "$t/hosts"
    TMPDIR=$t/none AGENT=false SCRATCHNET=/bin/true bash "$top/launch/$script" "$t/hosts" train \
        --batch 4 --checkpoint-dir "$t/ck" --checkpoint-every 1 > "$t/out" 2> "$t/err"
    st=$?
    [ "$st" = 2 ] && grep -qF "cannot make a temporary folder in $t/none (TMPDIR)" "$t/err" ||
        bad "$script with a TMPDIR that does not exist: exit $st: $(head -3 "$t/err")"
done
# a stop while the nodes are asked starts nothing (it was noted, and the
# job started and ran to its end)
printf '#!/bin/bash\ntouch "%s/probing"\nsleep 3\n' "$t" > "$t/agent"
chmod +x "$t/agent"
printf 'localhost slots=1\n' > "$t/hosts1"
# (SIGHUP, a closed session, ended the script alone: round 69 F1)
for sig in TERM HUP; do
    rm -f "$t/probing"
    AGENT="$t/agent" SCRATCHNET=/bin/true bash "$top/launch/elastic.sh" "$t/hosts1" train \
        --batch 4 --checkpoint-dir "$t/ck" --checkpoint-every 1 > "$t/out" 2> "$t/err" &
    job=$!
    for i in $(seq 200); do [ -e "$t/probing" ] && break; sleep 0.1; done
    kill -$sig "$job"
    wait "$job"
    st=$?
    [ "$st" = 1 ] && grep -qF "SIG$sig before the job started: nothing started" "$t/err" &&
        ! grep -qF "rank(s) on" "$t/err" ||
        bad "elastic.sh stopped by SIG$sig while asking the nodes: exit $st: $(head -3 "$t/err")"
done
# host names compare in ASCII in every locale (round 69 F6: under tr_TR
# bash lower-cased NODEI to nodeı, and the node listed twice went through)
mkdir -p "$t/loc"
if localedef -i tr_TR -f UTF-8 "$t/loc/tr_TR.UTF-8" > /dev/null 2>&1; then
    printf 'NODEI slots=1\nnodei slots=1\n' > "$t/trh"
    LOCPATH=$t/loc LC_ALL=tr_TR.UTF-8 AGENT=false SCRATCHNET=/bin/false timeout 20 \
        bash "$top/launch/cluster.sh" "$t/trh" info > "$t/out" 2> "$t/err"
    st=$?
    [ "$st" = 2 ] && grep -qF "node nodei is listed twice" "$t/err" ||
        bad "cluster.sh under tr_TR.UTF-8, NODEI and nodei: exit $st: $(head -3 "$t/err")"
else
    echo "hostfile.sh: no tr_TR locale can be made here (localedef): the Turkish-locale check is skipped"
fi
# a hostfile that is a device or a folder (bash read /dev/zero forever)
for f in /dev/zero /tmp; do
    for script in cluster.sh elastic.sh; do
        AGENT=false SCRATCHNET=/bin/false timeout 20 bash "$top/launch/$script" "$f" info \
            > "$t/out" 2> "$t/err"
        st=$?
        [ "$st" = 2 ] && grep -qF "$f: the hostfile is not a regular file" "$t/err" ||
            bad "$script on $f: exit $st, stderr: $(head -3 "$t/err")"
    done
done
# cluster.sh's settings are checked before anything starts
printf 'n1\n' > "$t/hosts"
for setting in THREADS=0 THREADS=abc THREADS=5000 THREADS=1025 BIND=socket GRACE=0 GRACE=x \
    "PASS_ENV=A-B" "PASS_ENV=*"; do
    env "$setting" AGENT=false SCRATCHNET=/bin/false bash "$top/launch/cluster.sh" "$t/hosts" info \
        > "$t/out" 2> "$t/err"
    st=$?
    [ "$st" = 2 ] && grep -qF "${setting%%=*}" "$t/err" ||
        bad "cluster.sh with $setting: exit $st, stderr: $(head -3 "$t/err")"
done
# an AGENT of several words is run as its words when nodes are asked
got=$(AGENT="env -u NOTHING false"; . "$top/launch/nodes.sh"; silent n1)
[ "$got" = n1 ] || bad "silent with a multi-word AGENT that fails: got '$got'"
got=$(AGENT="env -u NOTHING true"; . "$top/launch/nodes.sh"; silent n1)
[ -z "$got" ] || bad "silent with a multi-word AGENT that answers: got '$got'"
# cluster.sh hands mpirun the nodes it checked, not the file again: a pipe
# read once still names its nodes
THREADS=1 BIND=none AGENT=false SCRATCHNET=/bin/true bash "$top/launch/cluster.sh" \
    <(printf 'localhost slots=2\n') info > "$t/out" 2> "$t/err"
grep -q "No nodes are available\|cannot read the hostfile" "$t/err" &&
    bad "cluster.sh on a pipe: $(head -3 "$t/err")"
# the scripts read scratchnet's own lines, from their start: a user's name
# in a warning that reads like a watchdog's or a stop's line changes nothing
cat > "$t/fake.sh" <<'EOS'
#!/bin/sh
echo "scratchnet: warning: --log no progress for 1 s after x, ending the job/run.jsonl: cut" >&2
echo "scratchnet: warning: --data stopped by SIGTERM.h5: odd" >&2
sleep 3
EOS
chmod +x "$t/fake.sh"
THREADS=1 BIND=none GRACE=1 SCRATCHNET="$t/fake.sh" bash "$top/launch/cluster.sh" \
    <(printf 'localhost slots=1\n') train > "$t/out" 2> "$t/err" ||
    bad "cluster.sh ended a job over a warning's words: $(grep launch "$t/err")"
mkdir -p "$t/ck3"
(cd "$t" && CKPT="$t/ck3" SCRATCHNET="$t/fake.sh" bash "$top/launch/slurm.sbatch") > "$t/out" 2>&1 &&
    [ -f "$t/ck3/FINISHED" ] || bad "slurm.sbatch took a warning for a stop: $(tail -2 "$t/out")"
# run outside Slurm, a SIGHUP (a closed session) is passed on to the ranks
# as a stop, and the script says it was cut off (it died at once, exit 129,
# and the job trained on: round 69 F1)
cat > "$t/fake2.sh" <<'EOS'
#!/bin/bash
[ "$1" = --version ] && { printf 'scratchnet\n  MPI:  Open MPI v4.1.4\n'; exit 0; }
trap 'echo "scratchnet: stopped by SIGUSR1 after step 3: checkpoint written" >&2; exit 0' USR1
touch "$FAKE_STARTED"
for i in $(seq 300); do sleep 0.1; done
EOS
chmod +x "$t/fake2.sh"
# (and SIGUSR2, which Slurm's --signal may send: round 70 F17)
for sig in HUP USR2; do
    rm -rf "$t/ck4" "$t/fake2.on" && mkdir -p "$t/ck4"
    (cd "$t" && FAKE_STARTED="$t/fake2.on" CKPT="$t/ck4" SCRATCHNET="$t/fake2.sh" \
        exec bash "$top/launch/slurm.sbatch" --threads 1) > "$t/out" 2>&1 &
    job=$!
    for i in $(seq 200); do [ -e "$t/fake2.on" ] && break; sleep 0.1; done
    kill -$sig "$job"
    wait "$job"
    st=$?
    [ "$st" = 75 ] && grep -qF "cut off by SIG$sig" "$t/out" ||
        bad "slurm.sbatch given SIG$sig outside Slurm: exit $st: $(tail -3 "$t/out")"
done
# a stop to the script's whole process group (a Ctrl-C reaches the
# terminal's; SIGTERM here, as a background job's SIGINT is ignored under
# tests/run.sh): mpirun, in the script's group, ended the job itself, the
# ranks never saving (round 72 F2)
rm -rf "$t/ck4" "$t/fake2.on" "$t/fake2.saved" && mkdir -p "$t/ck4"
(cd "$t" && FAKE_STARTED="$t/fake2.on" CKPT="$t/ck4" SCRATCHNET="$t/fake2.sh" \
    exec setsid bash "$top/launch/slurm.sbatch" --threads 1) > "$t/out" 2>&1 &
job=$!
for i in $(seq 200); do [ -e "$t/fake2.on" ] && break; sleep 0.1; done
kill -TERM -- -"$job"
wait "$job"
st=$?
[ "$st" = 75 ] && grep -qF "stopped by SIGUSR1 after step 3" "$t/out" ||
    bad "slurm.sbatch's process group given SIGTERM outside Slurm: exit $st: $(tail -3 "$t/out")"
# a rank count mpirun -q would refuse without a word (round 72 F6)
for n in -2 100000; do
    (cd "$t" && SLURM_NTASKS=$n SCRATCHNET=/bin/true bash "$top/launch/slurm.sbatch" --threads 1) \
        > "$t/out" 2>&1
    st=$?
    [ "$st" = 2 ] && grep -q "SLURM_NTASKS must be a whole number\|do not fit the" "$t/out" ||
        bad "slurm.sbatch with SLURM_NTASKS=$n outside Slurm: exit $st: $(tail -2 "$t/out")"
done
for empty in "--model=" "--data" "--checkpoint-dir="; do
    # shellcheck disable=SC2086
    (cd "$t" && SCRATCHNET=/bin/true bash "$top/launch/slurm.sbatch" $empty "") > "$t/out" 2>&1
    st=$?
    [ "$st" = 2 ] && grep -qF -- ": the value is empty" "$t/out" ||
        bad "slurm.sbatch $empty '': exit $st: $(head -2 "$t/out")"
done
for th in abc 0 5000; do
    (cd "$t" && SCRATCHNET=/bin/true bash "$top/launch/slurm.sbatch" --threads "$th") > "$t/out" 2>&1
    st=$?
    [ "$st" = 2 ] && grep -qF -- "--threads (or --cpus-per-task) must be a whole number" "$t/out" ||
        bad "slurm.sbatch --threads $th: exit $st: $(head -2 "$t/out")"
done
# cluster.sh names the binary it runs and warns when the sources are newer
# (build-mpich/ is rebuilt only by make MPI=mpich); bound ranks that do not
# fit this machine's cores, when it is a node, are refused before mpirun
mkdir -p "$t/tree/launch" "$t/tree/build" "$t/tree/src"
cp "$top/launch/cluster.sh" "$top/launch/nodes.sh" "$t/tree/launch/"
printf '#!/bin/sh\n[ "$1" = --version ] && echo "scratchnet 9.9 (commit fake)"\nexit 0\n' \
    > "$t/tree/build/scratchnet"
chmod +x "$t/tree/build/scratchnet"
touch -d '1 hour ago' "$t/tree/build/scratchnet"
echo 'int x;' > "$t/tree/src/new.c"
THREADS=1 BIND=none bash "$t/tree/launch/cluster.sh" <(printf 'localhost slots=1\n') info \
    > "$t/out" 2> "$t/err"
grep -qF "openmpi: scratchnet 9.9 (commit fake)" "$t/err" &&
    grep -qF "build/scratchnet is older than src/new.c: make rebuilds it" "$t/err" ||
    bad "cluster.sh with a stale binary: $(grep launch "$t/err")"
touch "$t/tree/build/scratchnet"
THREADS=1 BIND=none bash "$t/tree/launch/cluster.sh" <(printf 'localhost slots=1\n') info \
    > "$t/out" 2> "$t/err"
grep -q "older than" "$t/err" && bad "cluster.sh warned of a binary newer than the sources"
cores=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
THREADS=$((cores + 1)) SCRATCHNET=/bin/true bash "$top/launch/cluster.sh" \
    <(printf 'localhost slots=1\n') info > "$t/out" 2> "$t/err"
st=$?
[ "$st" = 2 ] && grep -qF "1 rank(s) x $((cores + 1)) thread(s) on localhost do not fit its $cores cores" \
    "$t/err" || bad "cluster.sh with THREADS over the cores: exit $st: $(head -3 "$t/err")"
# SCRATCHNET is a program's path, never an option of mpirun's (-V made
# mpirun print its version and exit 0); elastic.sh -h prints its usage
for script in local.sh cluster.sh; do
    printf 'localhost slots=1\n' > "$t/one"
    arg=1; [ $script = cluster.sh ] && arg=$t/one
    SCRATCHNET=-V bash "$top/launch/$script" "$arg" info > "$t/out" 2> "$t/err"
    st=$?
    [ "$st" = 2 ] && grep -qF "SCRATCHNET='-V': the path of a program, not an option" "$t/err" ||
        bad "$script with SCRATCHNET=-V: exit $st: $(head -3 "$t/err")"
done
# a SCRATCHNET that names no program: said before mpirun, whose exit status
# (132, 131, 134) was read as a rank's signal (SIGILL, SIGQUIT, SIGABRT)
printf 'x' > "$t/notexec"
for prog in "$t/nosuch" "$t/notexec" "$t" nosuchprogram-sn; do
    want="SCRATCHNET=$prog: no executable file at that path"
    case "$prog" in */*) ;; *) want="SCRATCHNET=$prog: no program of that name on PATH" ;; esac
    for script in local.sh cluster.sh; do
        arg=1; [ $script = cluster.sh ] && arg=$t/one
        SCRATCHNET=$prog timeout 30 bash "$top/launch/$script" "$arg" info > "$t/out" 2> "$t/err"
        st=$?
        [ "$st" = 2 ] && grep -qF "$want" "$t/err" && ! grep -q "signal" "$t/err" ||
            bad "$script with SCRATCHNET=$prog: exit $st: $(head -3 "$t/err")"
    done
done
# two names MPI takes for one node (up to the first dot): said, not an
# exit 1 without a word; a hostfile named - is that file, not stdin
printf 'node01 slots=1\nnode01.cluster.local slots=1\n' > "$t/twonames"
SCRATCHNET=/bin/true AGENT=false bash "$top/launch/cluster.sh" "$t/twonames" info > "$t/out" 2> "$t/err"
st=$?
[ "$st" = 2 ] && grep -qF "nodes node01 and node01.cluster.local are one node to MPI" "$t/err" ||
    bad "cluster.sh with two names of one node: exit $st: $(head -3 "$t/err")"
mkdir -p "$t/dash" && printf 'node01 slots=2 nonsense\n' > "$t/dash/-"
(cd "$t/dash" && echo "node02 slots=1" | SCRATCHNET=/bin/true AGENT=false \
    bash "$top/launch/cluster.sh" - info) > "$t/out" 2> "$t/err"
st=$?
[ "$st" = 2 ] && grep -qF "node node01: 'nonsense' is not slots=N" "$t/err" ||
    bad "cluster.sh with a hostfile named -: exit $st: $(head -3 "$t/err")"
# a NUL byte in a name: named like any character a host name cannot hold,
# without bash's own "ignored null byte" warning
printf 'local\000host slots=1\n' > "$t/nul"
SCRATCHNET=/bin/true AGENT=false bash "$top/launch/cluster.sh" "$t/nul" info > "$t/out" 2> "$t/err"
st=$?
[ "$st" = 2 ] && grep -qF "node 'local?host': a host name is" "$t/err" && ! grep -q "null byte" "$t/err" ||
    bad "cluster.sh with a NUL byte in the hostfile: exit $st: $(head -3 "$t/err")"
# a FIFO that no one writes: said after 10 s (it held open() forever, and
# the script deaf to SIGTERM, until SIGKILL)
mkfifo "$t/fifo"
start=$(date +%s)
SCRATCHNET=/bin/true timeout 60 bash "$top/launch/cluster.sh" "$t/fifo" info > "$t/out" 2> "$t/err"
st=$?
[ "$st" = 2 ] && [ $(( $(date +%s) - start )) -lt 30 ] &&
    grep -qF "nothing to read from the hostfile within 10 s (a FIFO that no one writes?)" "$t/err" ||
    bad "cluster.sh with a FIFO no one writes as hostfile: exit $st: $(head -3 "$t/err")"
bash "$top/launch/elastic.sh" -h > "$t/out" 2> "$t/err"
grep -qF "launch/elastic.sh: run scratchnet over a hostfile" "$t/err" ||
    bad "elastic.sh -h: $(head -2 "$t/err")"
# slurm.sbatch run from another folder without SCRATCHNET: its binary is
# not found, said before mpirun's box (exit 132 there)
(cd "$t" && bash "$top/launch/slurm.sbatch" --steps 2) > "$t/out" 2>&1
st=$?
[ "$st" = 2 ] && grep -qF "build/scratchnet: no such program from $t: submit from the scratchnet folder" \
    "$t/out" || bad "slurm.sbatch from another folder: exit $st: $(head -2 "$t/out")"
# a TMPDIR that is no folder: said by local.sh (mpirun printed only
# ORTE_ERROR_LOG lines), exit 2, nothing started
TMPDIR=/dev/null SCRATCHNET=/bin/true sh "$top/launch/local.sh" 1 x > /dev/null 2> "$t/err"
st=$?
[ "$st" = 2 ] && grep -qF "TMPDIR=/dev/null is no folder this user may write in" "$t/err" ||
    bad "local.sh with TMPDIR=/dev/null: exit $st: $(cat "$t/err")"
printf '#!/bin/sh\ntouch "$1"\n' > "$t/touch.sh"
chmod +x "$t/touch.sh"
# a current folder mpirun cannot name (removed by another shell, or a
# path of 4,096 bytes, in fewer characters, or ending in newlines): said by
# each script, exit 2, nothing started (Open MPI's mpirun printed "Unable to
# get the current working directory" twice)
echo 'localhost slots=1' > "$t/h1"
mkdir -p "$t/gone"
long=$t/longcwd   # made a folder at a time: cd and mkdir take at most 4,095 bytes at once
(mkdir "$long" && cd "$long" && n=${#long} &&
 d=d$(printf 'é%.0s' 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4)d &&   # 50 bytes, 26 characters
 while [ $n -lt 3900 ]; do mkdir "$d" && cd "$d"; n=$((n + 51)); done &&   # the last name: 145-195 bytes
 mkdir "$(printf '%*s' $((4095 - n)) '' | tr ' ' e)" &&   # 4,096 bytes
 z=$(printf z; printf '\n%.0s' $(seq 200); printf x) && mkdir "${z%x}")   # z and 200 newlines
for where in gone long newlines; do
    for s in local.sh cluster.sh elastic.sh slurm.sbatch; do
        case $s in local.sh) args="1 $t/nocwd" ;; cluster.sh) args="$t/h1 $t/nocwd" ;;
                  elastic.sh) args="$t/h1 $t/nocwd --batch 4 --checkpoint-dir $t/ck"
                              args="$args --checkpoint-every 1" ;;
                  *) args="" ;; esac
        (if [ $where = gone ]; then cd "$t/gone" && rmdir "$t/gone"
         else cd "$long" && while cd d?*d 2> /dev/null; do :; done &&
             if [ $where = long ]; then cd e*; else cd z*; fi; fi || exit
         # the path's length in bytes, in a UTF-8 locale too (its characters
         # are fewer), under bash (whose length counts characters) as under sh
         LC_ALL=C.UTF-8 SCRATCHNET="$t/touch.sh" AGENT=false bash "$top/launch/$s" $args \
             > /dev/null 2> "$t/err"
         echo $? > "$t/st"; mkdir -p "$t/gone")
        case $where in gone) want="the current folder was removed" ;;
                       long) want="the current folder's path is 4096 bytes, more than" ;;
                       *) want="the current folder's path is 4" ;; esac   # $( ) kept its newlines
        [ "$(cat "$t/st")" = 2 ] && [ ! -e "$t/nocwd" ] && grep -qF "$want" "$t/err" ||
            bad "$s in a $where current folder: exit $(cat "$t/st"): $(cat "$t/err")"
    done
done
# an open-file limit too low for mpirun's pipes to 10 ranks (it printed
# ORTE_ERROR_LOG lines and waited for good): said, exit 1, nothing started
(ulimit -n 64; SCRATCHNET="$t/touch.sh" timeout 60 sh "$top/launch/local.sh" 10 "$t/nofile" \
    > /dev/null 2> "$t/err")
st=$?
[ "$st" = 1 ] && [ ! -e "$t/nofile" ] &&
    grep -qF "the open-file limit (ulimit -n 64) is too low for mpirun to start 10 ranks" "$t/err" ||
    bad "local.sh 10 under ulimit -n 64: exit $st: $(cat "$t/err")"
# a relative TMPDIR reaches the ranks absolute (Open MPI took "reltmp" as
# "/reltmp" and printed three errors, though the run went on)
# (an exported CDPATH holding another reltmp is not searched: cd printed
# that folder's name and the ranks got both, joined by a newline)
mkdir -p "$t/reltmp" "$t/cdp/reltmp"
printf '#!/bin/sh\necho "$TMPDIR" > "$1"\n' > "$t/tmpdir.sh"
chmod +x "$t/tmpdir.sh"
(cd "$t" && CDPATH="$t/cdp" TMPDIR=reltmp SCRATCHNET="$t/tmpdir.sh" sh "$top/launch/local.sh" 1 "$t/seen" \
    > /dev/null 2> "$t/err")
[ "$(cat "$t/seen" 2>/dev/null)" = "$(cd "$t/reltmp" && pwd -P)" ] ||
    bad "local.sh with TMPDIR=reltmp: the rank saw TMPDIR=$(cat "$t/seen" 2>/dev/null): $(cat "$t/err")"
# a full TMPDIR: said by local.sh, cluster.sh and slurm.sbatch (mpirun printed PMIx's
# OUT-OF-RESOURCE lines), exit 2; on a small tmpfs (as root; left out
# otherwise)
mkdir -p "$t/full"
if unshare -m true 2> /dev/null; then
    unshare -m sh -c "mount -t tmpfs -o size=64k tmpfs '$t/full' && echo 'localhost slots=1' > '$t/h1' &&
        TMPDIR='$t/full' SCRATCHNET=/bin/true sh '$top/launch/local.sh' 1 x > /dev/null 2> '$t/err';
        echo \$? > '$t/st1'; TMPDIR='$t/full' SCRATCHNET=/bin/true AGENT=false bash '$top/launch/cluster.sh' \
        '$t/h1' x > /dev/null 2> '$t/err2'; echo \$? > '$t/st2'; cd '$t' &&
        TMPDIR='$t/full' SCRATCHNET=/bin/true bash '$top/launch/slurm.sbatch' > /dev/null \
        2> '$t/err3'; echo \$? > '$t/st3'"
    [ "$(cat "$t/st1")" = 2 ] && grep -qF "TMPDIR=$t/full is full for mpirun (" "$t/err" ||
        bad "local.sh with a full TMPDIR: exit $(cat "$t/st1"): $(cat "$t/err")"
    [ "$(cat "$t/st2")" = 2 ] && grep -qF "$t/full (TMPDIR) is full for mpirun (" "$t/err2" ||
        bad "cluster.sh with a full TMPDIR: exit $(cat "$t/st2"): $(cat "$t/err2")"
    [ "$(cat "$t/st3")" = 2 ] && grep -qF "TMPDIR=$t/full is full for mpirun (" "$t/err3" ||
        bad "slurm.sbatch with a full TMPDIR: exit $(cat "$t/st3"): $(cat "$t/err3")"
    # the same where Open MPI's orte_tmpdir_base names it, above a roomy TMPDIR
    unshare -m sh -c "mount -t tmpfs -o size=64k tmpfs '$t/full' && export OMPI_MCA_orte_tmpdir_base='$t/full' &&
        SCRATCHNET=/bin/true sh '$top/launch/local.sh' 1 x > /dev/null 2> '$t/err';
        echo \$? > '$t/st1'; SCRATCHNET=/bin/true AGENT=false bash '$top/launch/cluster.sh' \
        '$t/h1' x > /dev/null 2> '$t/err2'; echo \$? > '$t/st2'; cd '$t' &&
        SCRATCHNET=/bin/true bash '$top/launch/slurm.sbatch' > /dev/null \
        2> '$t/err3'; echo \$? > '$t/st3'"
    for k in 1 2 3; do
        e=$t/err; [ $k = 1 ] || e=$t/err$k
        [ "$(cat "$t/st$k")" = 2 ] && grep -q "OMPI_MCA_orte_tmpdir_base.* is full for mpirun (" "$e" ||
            bad "script $k with a full orte_tmpdir_base: exit $(cat "$t/st$k"): $(cat "$e")"
    done
fi
# an orte_tmpdir_base that is a file: said as for TMPDIR (Open MPI printed
# ORTE_ERROR_LOG lines)
touch "$t/afile"
OMPI_MCA_orte_tmpdir_base="$t/afile" SCRATCHNET=/bin/true sh "$top/launch/local.sh" 1 x \
    > /dev/null 2> "$t/err"
st=$?
[ "$st" = 2 ] && grep -qF "OMPI_MCA_orte_tmpdir_base=$t/afile is no folder this user may write in" "$t/err" ||
    bad "local.sh with orte_tmpdir_base a file: exit $st: $(cat "$t/err")"
# one that cannot be made (under a file): the same
OMPI_MCA_orte_tmpdir_base="$t/afile/sub" SCRATCHNET=/bin/true sh "$top/launch/local.sh" 1 x \
    > /dev/null 2> "$t/err"
st=$?
[ "$st" = 2 ] && grep -qF "OMPI_MCA_orte_tmpdir_base=$t/afile/sub is no folder" "$t/err" ||
    bad "local.sh with orte_tmpdir_base under a file: exit $st: $(cat "$t/err")"
if unshare -m true 2> /dev/null; then
    # no inode left: said as such before mktemp fails (which said \"set TMPDIR
    # to a folder you may write in\")
    mkdir -p "$t/noinode"
    unshare -m sh -c "mount -t tmpfs -o size=1m,nr_inodes=8 tmpfs '$t/noinode' &&
        i=0; while touch '$t/noinode/f'\$i 2> /dev/null; do i=\$((i + 1)); done;
        TMPDIR='$t/noinode' SCRATCHNET=/bin/true AGENT=false bash '$top/launch/cluster.sh' \
        '$t/h1' x > /dev/null 2> '$t/err4'; echo \$? > '$t/st4'"
    [ "$(cat "$t/st4")" = 2 ] && grep -qF "$t/noinode (TMPDIR) has no room for more files (0 inodes" \
        "$t/err4" || bad "cluster.sh with no inode left in TMPDIR: exit $(cat "$t/st4"): $(cat "$t/err4")"
else
    echo "hostfile.sh: unshare -m is not allowed here: the full TMPDIR case is left out"
fi
# launch/local.sh counts the cores this process may use, whatever
# OMP_NUM_THREADS says (GNU nproc alone answers it)
cores=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
for omp in 1 64; do
    OMP_NUM_THREADS=$omp SCRATCHNET=/bin/true sh "$top/launch/local.sh" 1 x > /dev/null 2> "$t/err" ||
        bad "local.sh under OMP_NUM_THREADS=$omp: $(cat "$t/err")"
    grep -qF "1 rank(s) x $cores thread(s) on $cores core(s)" "$t/err" ||
        bad "local.sh under OMP_NUM_THREADS=$omp: $(cat "$t/err"), want $cores core(s)"
done
# a --threads among the arguments wins, and the first line says so
SCRATCHNET=/bin/true sh "$top/launch/local.sh" 1 x --threads 3 > /dev/null 2> "$t/err" ||
    bad "local.sh with --threads 3: $(cat "$t/err")"
grep -qF "1 rank(s) x 3 thread(s) on $cores core(s) (--threads 3 given; $cores would fit)" "$t/err" ||
    bad "local.sh with --threads 3 says: $(cat "$t/err")"
# local.sh's rank count is decimal (sh read 010 as octal and 08 failed)
SCRATCHNET=/bin/true sh "$top/launch/local.sh" 08 x > /dev/null 2> "$t/err" &&
    grep -qF "8 rank(s)" "$t/err" || bad "local.sh 08: $(cat "$t/err")"
SCRATCHNET=/bin/true sh "$top/launch/local.sh" 00 x > /dev/null 2> "$t/err"
[ $? = 2 ] && grep -qF "ranks must be a whole number from 1 to 9999, got '00'" "$t/err" ||
    bad "local.sh 00: $(cat "$t/err")"
# slurm.sbatch outside Slurm (its mpirun branch): FINISHED replaces a link
# planted in its place, never writes through it; a failed run leaves no
# checkpoint folder (scratchnet makes it, once its flags are checked)
mkdir "$t/ck" && echo precious > "$t/precious" && ln -s "$t/precious" "$t/ck/FINISHED"
(cd "$t" && CKPT="$t/ck" SCRATCHNET=/bin/true bash "$top/launch/slurm.sbatch") > "$t/out" 2>&1 ||
    bad "slurm.sbatch with /bin/true: $(cat "$t/out")"
[ "$(cat "$t/precious")" = precious ] && [ -f "$t/ck/FINISHED" ] && [ ! -L "$t/ck/FINISHED" ] ||
    bad "slurm.sbatch wrote FINISHED through a link: precious now '$(cat "$t/precious")'"
(cd "$t" && CKPT="$t/ck2" SCRATCHNET=/bin/false bash "$top/launch/slurm.sbatch") > "$t/out" 2>&1 &&
    bad "slurm.sbatch with /bin/false exited 0"
[ -e "$t/ck2" ] && bad "slurm.sbatch made the checkpoint folder of a failed run"
# slurm.sbatch takes the flags it sets itself from the user's flags too
# (a working mpirun line moved into a job): each once, the user's value
mkdir -p "$t/mine"   # /bin/echo makes no folder
(cd "$t" && SCRATCHNET=/bin/echo bash "$top/launch/slurm.sbatch" --checkpoint-dir "$t/mine" \
    --resume=none --threads 1 --model m.cfg --steps 5) > "$t/out" 2>&1 ||
    bad "slurm.sbatch with its flags given: $(cat "$t/out")"
line=$(grep '^train ' "$t/out")
[ "$(grep -o -- '--checkpoint-dir' <<< "$line" | wc -l)" = 1 ] &&
    grep -qF -- "--model m.cfg " <<< "$line" && grep -qF -- "--checkpoint-dir $t/mine " <<< "$line" &&
    grep -qF -- "--resume none --threads 1 --out $t/mine/final.h5 --steps 5" <<< "$line" ||
    bad "slurm.sbatch with its flags given ran: $line"
[ "$fails" = 0 ] && echo "hostfile reading and refusals: all as expected"
[ "$fails" = 0 ]
