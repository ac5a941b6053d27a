#!/bin/bash
# tests/cluster/bed.sh: K "hosts" made from Linux namespaces on this machine,
# for running MPI jobs that really span hosts (make test-cluster).
#
#   bed.sh run K [--rate 1gbit|10gbit|none] -- COMMAND...   make a bed of K hosts,
#                    run COMMAND (in the root namespace, with SN_BED set), tear it down
#   bed.sh exec N COMMAND...     run COMMAND on host N (its network, hostname, IPC, /dev/shm,
#                                /tmp; the working directory and environment kept)
#   bed.sh hostfile mpich|openmpi RANKS_PER_HOST [N...]   print a hostfile (default: every host)
#   bed.sh bytes                 one line per host: name tx_bytes rx_bytes of its link
#   bed.sh cut N | mend N        pull host N's cable at the switch / plug it back
#   bed.sh rate N 1gbit|10gbit|none   cap host N's link (both directions), or uncap it
#   bed.sh kill N [SIGNAL]       signal every process of host N (default KILL)
#   bed.sh pids N                the processes of host N
#   bed.sh down                  tear down a bed left by a killed run
#
# Each host is a network namespace snbedN with one interface eth0 (a veth
# pair whose other end is port pN of a bridge in a namespace of its own,
# snbedsw), address 10.213.0.N/24 of a test subnet that exists only inside
# these namespaces, and a holder process that owns the host's UTS, IPC and
# mount namespaces: hostname snbedN, a private /dev/shm and /tmp (tmpfs),
# and an /etc/hosts naming every host.  Without the private /dev/shm MPICH
# would pass messages between "hosts" through shared memory and nothing
# would cross the links.  Every path (the worktree, data, checkpoints) is
# shared, as on a cluster with a shared file system.  --rate caps each
# host's link in both directions with a token bucket (tbf) on the host's
# eth0 and on its switch port.  Nothing is changed in the root namespace:
# no interface, route, sysctl or firewall rule.  Needs root; `run` exits 77
# (skipped) with a message when namespaces cannot be made.  One bed at a
# time on a machine: `run` waits for a lock, and removes what a killed run
# left behind before it builds.
set -euo pipefail
STATE=${SN_BED_STATE:-/run/scratchnet-bed}
LOCK=${SN_BED_LOCK:-/run/scratchnet-bed.lock}
PREFIX=snbed
SUBNET=10.213.0
SW=${PREFIX}sw
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "bed.sh: $*" >&2; exit 2; }

host_pid() {   # the holder process of host N (owner of its namespaces)
    [ -f "$STATE/$PREFIX$1.pid" ] || die "no host $1 in the bed (is one running?)"
    cat "$STATE/$PREFIX$1.pid"
}

nhosts() { cat "$STATE/count" 2>/dev/null || echo 0; }

# Everything of a bed, live or left by a killed run: processes inside the
# namespaces first (so nothing keeps them), then the namespaces.
teardown() {
    trap '' INT TERM PIPE HUP   # a second signal must not stop the cleaning half way
    set +e
    local ns
    for ns in $(ip netns list 2>/dev/null | awk -v p="^$PREFIX" '$1 ~ p {print $1}'); do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    done
    local f
    for f in "$STATE"/$PREFIX*.pid; do
        [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null || true
    done
    for ns in $(ip netns list 2>/dev/null | awk -v p="^$PREFIX" '$1 ~ p {print $1}'); do
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$STATE"
}

# tbf on one interface: burst at least two 64 KB segments (veth passes
# GSO packets whole) and 1 ms at the rate, packets queued up to 50 ms.
cap() {   # cap NAMESPACE DEV RATE
    local bits burst
    case "$3" in
    1gbit) bits=1000000000 ;;
    10gbit) bits=10000000000 ;;
    *) die "--rate must be 1gbit, 10gbit or none, got '$3'" ;;
    esac
    burst=$((bits / 8 / 1000)); [ "$burst" -ge 131072 ] || burst=131072
    tc -n "$1" qdisc replace dev "$2" root tbf rate "$3" burst "$burst" latency 50ms
}

# One host: its network namespace, its link to the switch, and the holder
# that makes its UTS, IPC and mount namespaces.
make_host() {   # make_host N RATE
    local n=$1 ns=$PREFIX$1
    ip netns add "$ns"
    ip link add name eth0 netns "$ns" type veth peer name "p$n" netns "$SW"
    ip -n "$SW" link set "p$n" master br0 up
    ip -n "$ns" addr add "$SUBNET.$n/24" dev eth0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    if [ "$2" != none ]; then
        cap "$ns" eth0 "$2"
        cap "$SW" "p$n" "$2"
    fi
    # the holder: hostname, private /dev/shm and /tmp, the bed's /etc/hosts
    ip netns exec "$ns" unshare --uts --ipc --mount --propagation private sh -c '
        hostname "$1" &&
        mount -t tmpfs -o mode=1777,size=2g tmpfs /dev/shm &&
        mount -t tmpfs -o mode=1777 tmpfs /tmp &&
        mount --bind "$2/hosts" /etc/hosts &&
        touch "$2/$1.ready" && exec sleep infinity' holder "$ns" "$STATE" </dev/null \
        >/dev/null 2>"$STATE/$ns.err" 9>&- &   # not the lock: it dies with bed.sh
    echo $! > "$STATE/$ns.pid"
    disown
}

up() {   # up K RATE
    local k=$1 rate=$2 n
    mkdir -p "$STATE"
    { echo "127.0.0.1 localhost"; for n in $(seq "$k"); do echo "$SUBNET.$n $PREFIX$n"; done; } \
        > "$STATE/hosts"
    echo "$k" > "$STATE/count"
    ip netns add "$SW"
    ip -n "$SW" link add br0 type bridge
    ip -n "$SW" link set br0 up
    for n in $(seq "$k"); do make_host "$n" "$rate"; done
    for n in $(seq "$k"); do
        local i=0
        while [ ! -f "$STATE/$PREFIX$n.ready" ]; do
            i=$((i + 1))
            [ "$i" -le 100 ] || { cat "$STATE/$PREFIX$n.err" >&2; die "host $n did not start"; }
            sleep 0.1
        done
    done
}

# The command's processes: PID and everything it started, found before any
# is signalled (a child whose parent ends is no longer its descendant).
tree() {
    ps -eo pid=,ppid= | awk -v root="$1" '{ parent[$1] = $2 }
        END { keep[root] = 1
              do { n = 0
                   for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; n++ }
              } while (n > 0)
              for (p in keep) print p }'
}

# A signal to bed.sh: end the command and all it started (a test script's
# children in the root namespace too, not only those on the hosts), then
# exit; the EXIT trap tears the bed down.
stop() {   # stop STATUS
    trap '' INT TERM HUP
    local pids
    pids=$(tree "$child")
    kill -TERM $pids 2>/dev/null
    sleep 1
    kill -KILL $pids 2>/dev/null
    exit "$1"
}

# Can this process make namespaces?  (Not root, or a container without
# CAP_SYS_ADMIN / CAP_NET_ADMIN: no.)
can_make() {
    [ "$(id -u)" = 0 ] || { echo "not root"; return 1; }
    for t in ip tc unshare nsenter; do
        command -v "$t" >/dev/null || { echo "$t is missing (apt-get install iproute2 util-linux)"; return 1; }
    done
    # not named like the bed's namespaces: a bed's teardown must not take it
    local probe=snprobe$$
    if ! ip netns add "$probe" 2>/dev/null; then
        echo "cannot make a network namespace (no CAP_SYS_ADMIN here?)"; return 1
    fi
    local why=""
    ip -n "$probe" link add name vpa type veth peer name vpb 2>/dev/null ||
        why="cannot make a veth pair (no CAP_NET_ADMIN here, or no veth in this kernel)"
    [ -n "$why" ] || ip -n "$probe" link add br0 type bridge 2>/dev/null ||
        why="cannot make a bridge (no bridge module in this kernel?)"
    [ -n "$why" ] || tc -n "$probe" qdisc add dev vpa root tbf rate 1gbit burst 131072 latency 50ms 2>/dev/null ||
        why="cannot add a tbf qdisc (no sch_tbf in this kernel?)"
    ip netns del "$probe" 2>/dev/null
    [ -n "$why" ] || unshare --uts --ipc --mount --propagation private \
        sh -c 'mount -t tmpfs tmpfs /dev/shm' 2>/dev/null ||
        why="cannot make UTS, IPC and mount namespaces with a private /dev/shm (unshare, mount)"
    [ -z "$why" ] || { echo "$why"; return 1; }
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
run)
    [ $# -ge 1 ] || die "usage: bed.sh run K [--rate R] -- COMMAND..."
    k=$1; shift
    rate=none
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        case "$1" in
        --rate) rate=$2; shift 2 ;;
        *) die "unknown option '$1'" ;;
        esac
    done
    [ "${1:-}" = -- ] && shift
    [ $# -ge 1 ] || die "usage: bed.sh run K [--rate R] -- COMMAND..."
    case "$k" in ''|*[!0-9]*) die "K must be a number of hosts, got '$k'" ;; esac
    [ "$k" -ge 2 ] && [ "$k" -le 64 ] || die "K must be 2 ... 64, got $k"
    if ! why=$(can_make); then
        echo "skipped: the multi-host test bed needs namespaces: $why"
        exit 77
    fi
    exec 9>"$LOCK"
    flock 9
    teardown   # what a killed run left
    trap 'teardown' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    up "$k" "$rate"
    # in the background, so that a signal to this script alone (not to its
    # process group) interrupts the wait, ends the command and tears down
    SN_BED=$here/bed.sh SN_BED_HOSTS=$k SN_BED_RATE=$rate "$@" 9>&- <&0 &
    child=$!
    trap 'stop 130' INT
    trap 'stop 143' TERM
    trap 'stop 129' HUP
    wait "$child"
    ;;
exec)
    [ $# -ge 2 ] || die "usage: bed.sh exec N COMMAND..."
    pid=$(host_pid "$1"); shift
    exec nsenter -t "$pid" -n -u -i -m --wd="$PWD" -- "$@"
    ;;
hostfile)
    [ $# -ge 2 ] || die "usage: bed.sh hostfile mpich|openmpi RANKS_PER_HOST [N...]"
    kind=$1 per=$2; shift 2
    [ $# -gt 0 ] || set -- $(seq "$(nhosts)")
    for n in "$@"; do
        host_pid "$n" >/dev/null
        case "$kind" in
        mpich) echo "$PREFIX$n:$per" ;;
        openmpi) echo "$PREFIX$n slots=$per" ;;
        *) die "hostfile: mpich or openmpi, got '$kind'" ;;
        esac
    done
    ;;
bytes)
    for n in $(seq "$(nhosts)"); do
        s=/sys/class/net/p$n/statistics
        # the switch port's counters: what it sends is what host n receives
        ip netns exec "$SW" sh -c "echo $PREFIX$n \$(cat $s/rx_bytes) \$(cat $s/tx_bytes)"
    done
    ;;
cut) [ $# = 1 ] || die "usage: bed.sh cut N"; ip -n "$SW" link set "p$1" down ;;
rate)
    [ $# = 2 ] || die "usage: bed.sh rate N 1gbit|10gbit|none"
    host_pid "$1" >/dev/null
    if [ "$2" = none ]; then
        tc -n "$PREFIX$1" qdisc del dev eth0 root 2>/dev/null || true
        tc -n "$SW" qdisc del dev "p$1" root 2>/dev/null || true
    else
        cap "$PREFIX$1" eth0 "$2"
        cap "$SW" "p$1" "$2"
    fi
    ;;
mend) [ $# = 1 ] || die "usage: bed.sh mend N"; ip -n "$SW" link set "p$1" up ;;
pids) [ $# = 1 ] || die "usage: bed.sh pids N"; ip netns pids "$PREFIX$1" | grep -vx "$(host_pid "$1")" || true ;;
kill)
    [ $# -ge 1 ] || die "usage: bed.sh kill N [SIGNAL]"
    holder=$(host_pid "$1")
    ip netns pids "$PREFIX$1" | grep -vx "$holder" | xargs -r kill -"${2:-KILL}" 2>/dev/null || true
    ;;
down) exec 9>"$LOCK"; flock 9; teardown ;;
*) sed -n '2,15p' "$0" >&2; exit 2 ;;
esac
