# launch/nodes.sh: what launch/cluster.sh and launch/elastic.sh share (sourced,
# bash): reading a hostfile and asking its nodes for an answer.  AGENT must
# be set (ssh, or a command called as `AGENT NODE COMMAND...`).

# read_hostfile FILE: sets nodes (the names, in order) and per (the slots
# every node has: Open MPI's `node01 slots=2`, 1 without slots=).  Says why
# (after "$me: ") and returns 2 when the file has no nodes or nodes of
# different slots.
read_hostfile() {
    local name rest s
    nodes=() per=""
    while read -r name rest; do
        case "$name" in ''|'#'*) continue ;; esac
        s=$(echo "$rest" | sed -n 's/.*slots=\([0-9]*\).*/\1/p')
        s=${s:-1}
        if [ -n "$per" ] && [ "$s" != "$per" ]; then
            echo "$me: $1: every node needs the same slots= (got $per and $s)" >&2
            return 2
        fi
        per=$s
        nodes+=("$name")
    done < "$1"
    [ ${#nodes[@]} -gt 0 ] || { echo "$me: $1: no nodes" >&2; return 2; }
}

# silent NODE...: prints the names of the nodes that give no answer to
# `AGENT NODE true` within 10 s (asked all at once).
silent() {
    local n probe
    for n in "$@"; do
        probe=("$AGENT" "$n" true)
        [ "$AGENT" = ssh ] && probe=(ssh -o BatchMode=yes -o ConnectTimeout=5 "$n" true)
        ( timeout 10 "${probe[@]}" </dev/null >/dev/null 2>&1 || echo "$n" ) &
    done
    wait
}
