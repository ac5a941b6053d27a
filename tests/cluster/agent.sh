#!/bin/sh
# tests/cluster/agent.sh: the bed's ssh.  MPI launchers start their daemon on
# another host with `ssh [options] HOST COMMAND...`; given instead as the
# launch agent (hydra: -launcher ssh -launcher-exec tests/cluster/agent.sh;
# Open MPI: --mca plm_rsh_agent tests/cluster/agent.sh), this runs COMMAND
# on bed host HOST (snbedN or 10.213.0.N) inside that host's namespaces the
# way ssh and sshd would:
#  - through a shell, in a clean environment (a login's: PATH, HOME, and
#    the machine's OPENBLAS_* settings, which every node of a uniform
#    cluster has; another BLAS kernel gives other bits);
#  - not at all when the network between the two hosts is down (exit 255,
#    so `agent.sh HOST true` tells whether a host answers);
#  - as a process of its own on the calling host (the ssh client): killing
#    it ends the remote command only while the link is up (sshd closes the
#    session), and when the link stays down for SN_BED_ALIVE seconds
#    (default 15: ssh -o ServerAliveInterval=5 -o ServerAliveCountMax=3)
#    it gives up with exit 255 and leaves the remote command running.
set -u
state=${SN_BED_STATE:-/run/scratchnet-bed}
alive=${SN_BED_ALIVE:-15}
while [ $# -gt 0 ]; do   # ssh's options: -x, -T, -o OPT, -p PORT, -l USER ...
    case "$1" in
    -[bcDEeFIiJLlmOoPpQRSWw]) shift 2 ;;
    -*) shift ;;
    *) break ;;
    esac
done
[ $# -ge 2 ] || { echo "agent.sh: usage: agent.sh [ssh options] HOST COMMAND..." >&2; exit 255; }
host=$1; shift
case "$host" in
snbed[0-9]*) n=${host#snbed} ;;
10.213.0.[0-9]*) n=${host#10.213.0.} ;;
*) echo "agent.sh: $host is not a host of the bed (snbedN or 10.213.0.N)" >&2; exit 255 ;;
esac
pid=$(cat "$state/snbed$n.pid" 2>/dev/null) || { echo "agent.sh: no host $host in the bed" >&2; exit 255; }
me=$(hostname)

# Is the network between this host and the target up?  (The carrier of the
# target's eth0 and, when called from a bed host, of this host's own.)
linked() {
    nsenter -t "$pid" -n -m sh -c '[ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" = 1 ]' ||
        return 1
    case "$me" in
    snbed*) [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" = 1 ] ;;
    esac
}
if ! linked; then
    echo "agent.sh: connect to host $host: No route to host (a link is down)" >&2
    exit 255
fi
nsenter -t "$pid" -n -u -i -m --wd=/ -- env -i HOME=/root PATH="$PATH" LANG=C.UTF-8 \
    $(env | grep '^OPENBLAS_[A-Z0-9_]*=[^ ]*$') sh -c "$*" 0<&0 &
child=$!
hangup() { linked && kill -"$1" "$child" 2>/dev/null; exit 255; }
trap 'hangup TERM' TERM
trap 'hangup INT' INT
trap 'hangup HUP' HUP
down=0
while kill -0 "$child" 2>/dev/null; do
    sleep 1
    if linked; then
        down=0
    else
        down=$((down + 1))
        if [ "$down" -ge "$alive" ]; then
            echo "agent.sh: Timeout, server $host not responding." >&2
            exit 255
        fi
    fi
done
wait "$child"
