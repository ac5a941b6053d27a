# launch/nodes.sh: what launch/cluster.sh and launch/elastic.sh share (sourced,
# bash): reading a hostfile and asking its nodes for an answer.  AGENT must
# be set (ssh, or a command called as `AGENT NODE COMMAND...`).

# cwd_nameable: mpirun starts every rank in its own current folder, which it
# must name (getcwd): a folder another shell removed, or a path longer than
# the system's 4,095 bytes, ended the job with Open MPI's bare "Unable to get
# the current working directory", twice (hostile round 73 F1).  What is
# wrong into $room_why, and status 1.
cwd_nameable() {
    local bytes
    if ! env pwd -P > /dev/null 2>&1; then
        room_why="the current folder was removed (by another shell?): mpirun starts the ranks in it; cd to a folder that exists"
        return 1
    fi
    # bytes, not the characters a shell's length counts in a UTF-8 locale
    # (a 4,434-byte path of folders named é passed as 2,234: round 74 F1),
    # counted on pwd's output itself, as $( ) would cut a name's own
    # trailing newlines (round 75 F2); less pwd's own newline
    bytes=$(( $(env pwd -P | LC_ALL=C wc -c) - 1 ))
    if [ "$bytes" -ge 4096 ]; then
        room_why="the current folder's path is $bytes bytes, more than the system's 4,095 (PATH_MAX): mpirun starts the ranks in it and could not name it; cd to a folder with a shorter path"
        return 1
    fi
}

# tmpdir_room: TMPDIR (or /tmp) has room for mpirun's session files (16
# MiB and 256 files; a full one ends mpirun with PMIx's OUT-OF-RESOURCE
# lines that do not say so); what lacks into $room_why, and status 1,
# otherwise (no subshell: TMPDIR is exported from here).  A
# relative TMPDIR is made absolute first (Open MPI took "reltmp" as
# "/reltmp" and printed three errors, though the run went on).
tmpdir_room() {
    local d abs kb files name=TMPDIR
    # Open MPI takes TMPDIR, else TEMP, else TMP: the one it takes is checked
    [ -n "${TMPDIR:-}" ] || [ -z "${TEMP:-${TMP:-}}" ] || export TMPDIR="${TEMP:-$TMP}"
    case "${TMPDIR:-/}" in /*) ;; *) abs=$(CDPATH= cd -- "$TMPDIR" 2>/dev/null && pwd -P) && export TMPDIR="$abs" ;; esac
    d=${TMPDIR:-/tmp}
    # and its orte_tmpdir_base before all of them, when the environment sets
    # it: relative made absolute, and a folder this user may write in
    if [ -n "${OMPI_MCA_orte_tmpdir_base:-}" ]; then
        case "$OMPI_MCA_orte_tmpdir_base" in /*) ;; *)
            export OMPI_MCA_orte_tmpdir_base="$(pwd -P)/$OMPI_MCA_orte_tmpdir_base" ;; esac
        d=$OMPI_MCA_orte_tmpdir_base
        name=OMPI_MCA_orte_tmpdir_base
        [ -e "$d" ] || mkdir -p "$d" 2> /dev/null || :   # as Open MPI would
        if [ ! -d "$d" ] || [ ! -w "$d" ]; then
            room_why="$d ($name) is no folder this user may write in (mpirun keeps its session files there): set $name to one, or unset it"
            return 1
        fi
    fi
    kb=$(df -Pk "$d" 2>/dev/null | awk 'NR == 2 { print $4 }')
    files=$(df -Pi "$d" 2>/dev/null | awk 'NR == 2 { print $4 }')
    case "$files" in *[!0-9]*|'') files="" ;; esac   # "-": a file system without a count
    case "$kb" in *[!0-9]*|'') kb="" ;; esac
    if [ -n "$files" ] && [ "$files" -lt 256 ]; then
        room_why="$d ($name) has no room for more files (${files} inodes free; mpirun keeps its session files there): free some, or set $name to another folder"
        return 1
    fi
    if [ -n "$kb" ] && [ "$kb" -lt 16384 ]; then
        room_why="$d ($name) is full for mpirun (${kb} KiB free of the 16384 KiB its session files need): free some, or set $name to another folder"
        return 1
    fi
}

# whole VALUE LO HI: prints VALUE as a decimal number (0012 is 12, where
# bash arithmetic would read octal) when it is a whole number from LO to
# HI; prints nothing and returns 1 otherwise.
whole() {
    whole_v "$@" || return 1
    echo "$wv"
}

# whole_v VALUE LO HI: the same into $wv, without a subshell (a hostfile's
# every line is read with it: a fork a line took 30 s for 2,000 lines)
whole_v() {
    case "$1" in ''|*[!0-9]*) return 1 ;; esac
    wv=${1#"${1%%[!0]*}"}
    wv=${wv:-0}
    [ ${#wv} -le ${#3} ] && [ "$wv" -ge "$2" ] && [ "$wv" -le "$3" ]
}

# default_bin PATH: the program when SCRATCHNET is not set: PATH when it is
# built; in an installed copy of the scripts (PREFIX/share/doc/scratchnet/
# launch, no Makefile beside) PREFIX/bin's, the one installed with them (a site's several
# versions, or a user's own build on PATH, never mix with these docs);
# else the scratchnet on PATH.
default_bin() {
    if [ -x "$1" ]; then echo "$1"; return; fi
    if [ ! -f "$here/Makefile" ] && [ -x "$here/../../../bin/scratchnet" ]; then
        echo "$here/../../../bin/scratchnet"; return
    fi
    command -v scratchnet && return
    echo "$1"
}

# same_mpi BIN: dies when BIN (a program this machine can run) was built
# with the other MPI family than MPI= names: the other launcher would start
# one single-rank job a rank.  --version has 10 s to answer.
same_mpi() {
    local built
    built=$(timeout 10 "$1" --version 2>/dev/null | sed -n 's/^  MPI: *//p' | head -1 |
            tr -s '\t ' '  ')
    case "$MPI:$built" in
    openmpi:MPICH*|openmpi:*"Intel(R) MPI"*|openmpi:MVAPICH*)
        die "$1 was built with an MPICH-family MPI ($built): run with MPI=mpich" ;;
    mpich:"Open MPI"*)
        die "$1 was built with Open MPI: run with MPI=openmpi (the default)" ;;
    esac
}

# no_bin PATH MAKE: why there is no program at PATH (exit 2)
no_bin() {
    if [ -f "$here/Makefile" ]; then
        die "$1 is not built: $2 builds it"
    fi
    die "no scratchnet on PATH or in $(cd "$here/../../.." && pwd)/bin: add its folder to PATH, or set SCRATCHNET"
}

# read_hostfile FILE: sets nodes (the names, in order), self_node (the one
# that is this machine, or empty) and per (the slots
# every node has: Open MPI's `node01 slots=2`, 1 without slots=;
# max_slots= is left to MPI; # starts a comment).  Says why (after "$me: ")
# and returns 2 when the file is not a regular file or a pipe, or over 1
# MiB, or gives nothing within 10 s, or has no nodes, a slots= that is not a whole
# number from 1 to 4096, nodes of different slots, another word, a name
# that is not a host name (or longer than DNS allows, or with more than 56
# characters before its first dot under Open MPI), a node listed twice
# (also by two names that agree up to the first dot, as Open MPI compares them,
# or two spellings of one IPv4 address), slots= or max_slots= twice on a line,
# an IPv6 address, more than 16384 nodes, a line of more than 4096
# characters, or lines ended by CR alone
# (Open MPI refuses its second slot count only after the checks; the
# scripts would count its ranks twice), or MPICH's node01:2 form.
# numeric_address NAME: sets na to the IPv4 address NAME spells in any
# form the C library's inet_aton reads (127.1, 0x7f.0.0.1, 2130706433 and
# 0177.0.0.1 are 127.0.0.1: one machine by four names; read_hostfile
# takes only the dotted decimal form, which Open MPI reads alike), and
# fails for anything else, which is then a host name.  Read here, in bash, without
# a process or a name server (getent would ask DNS about 999.1).
numeric_address() {
    local part='(0x[0-9a-f]+|[0-9]+)' IFS=. p d v i n base addr=0 max
    local -a parts
    na=""
    [[ $1 =~ ^$part(\.$part){0,3}$ ]] || return 1
    read -ra parts <<< "$1"
    n=${#parts[@]}
    for ((i = 0; i < n; i++)); do
        p=${parts[i]}
        case "$p" in
        0x*) d=${p#0x} base=16 ;;
        0?*) d=${p#0} base=8 ;;
        *) d=$p base=10 ;;
        esac
        while [[ $d == 0?* ]]; do d=${d#0}; done
        [ ${#d} -le 11 ] || return 1   # beyond 32 bits in any base
        [ $base = 8 ] && [[ $d == *[89]* ]] && return 1
        v=$(($base#$d))
        # the last part fills the bytes the others leave: 32, 24, 16 or 8 bits
        max=$(( i == n - 1 ? (1 << (8 * (5 - n))) - 1 : 255 ))
        [ "$v" -le "$max" ] || return 1
        addr=$(( i == n - 1 ? addr + v : addr + (v << (8 * (3 - i))) ))
    done
    na="$((addr >> 24 & 255)).$((addr >> 16 & 255)).$((addr >> 8 & 255)).$((addr & 255))"
}

read_hostfile() {
    local line name key tok s ms raw words self="" is_self self_names seen_s seen_ms wv label
    local na
    # host names compare in ASCII, as DNS and MPI compare them: bash's ${x,,}
    # follows the locale, and in a Turkish one NODEI became nodeı, no longer
    # nodei (hostile round 69 F6)
    local LC_ALL=C
    local -A listed=()
    nodes=() per="" self_node=""
    # Open MPI takes this machine's own addresses, and 0.0.0.0, for it too
    self_names="localhost localhost.localdomain 127.0.0.1 0.0.0.0 ::1 $(hostname; hostname -s
        hostname -f 2>/dev/null; hostname -I 2>/dev/null)"
    self_names=${self_names,,}
    self_names=${self_names//$'\n'/ }
    # a file or a pipe (a typo naming a device would be read forever)
    if [ -d "$1" ] || { [ ! -f "$1" ] && [ ! -p "$1" ]; }; then
        echo "$me: $1: the hostfile is not a regular file (or a pipe)" >&2
        return 2
    fi
    # read once, at most 1 MiB and a byte, within 10 s: a FIFO that no one
    # writes holds open() forever, deaf to the scripts' signal traps
    local text st=0 file=$1
    [ "$file" = - ] && file=./-   # the file of that name, which head would take for stdin
    # a NUL byte, which bash would drop with a warning of its own, becomes
    # \001: refused as any other character a host name cannot hold
    local -
    set -o pipefail
    text=$(timeout 10 head -c 1048577 -- "$file" | tr '\000' '\001') || st=$?
    if [ "$st" = 124 ]; then
        echo "$me: $1: nothing to read from the hostfile within 10 s (a FIFO that no one writes?)" >&2
        return 2
    elif [ "$st" != 0 ]; then
        # a stop to the caller's process group ends head too: the caller
        # says the stop ($early), not this
        [ -n "${early:-}" ] || echo "$me: $1: cannot read the hostfile" >&2
        return 2
    fi
    if [ "$(LC_ALL=C; echo "${#text}")" -gt 1048576 ]; then
        echo "$me: $1: the hostfile is larger than 1 MiB" >&2
        return 2
    fi
    # CR alone ends its lines: one line to bash (one CR is a one-line
    # file's CRLF, its LF taken by $(...), or a stray one the names refuse)
    case "$text" in *$'\n'*) ;; *)
        if [ "$(printf '%s' "$text" | tr -cd '\r' | wc -c)" -ge 2 ]; then
            echo "$me: $1: the hostfile's lines end in CR alone (an old Mac file): write it with LF line ends" >&2
            return 2
        fi ;;
    esac
    # comments, blank lines and a line too long go in one process: bash's
    # loop takes tens of microseconds a line (1 MiB of blank lines took 59
    # s) and splits a long line slowly (a line of 1 MB: 29 s)
    text=$(printf '%s\n' "$text" | awk '{ sub(/#.*/, "") }
        length($0) > 4096 { print "#" length($0); exit }
        $0 !~ /^[[:space:]]*$/ { print }')
    case "$text" in *'#'*)   # no line keeps a '#': awk's mark of a long line
        echo "$me: $1: a line of ${text##*#} characters; a hostfile's lines have at most 4096" >&2
        return 2 ;;
    esac
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}   # a file written on Windows
        read -ra words <<< "$line"
        [ ${#words[@]} -gt 0 ] || continue
        name=${words[0]} s=1 ms="" raw=1 seen_s="" seen_ms=""
        case "$name" in *:*:*)
            echo "$me: $1: node $name: an IPv6 address; give the node's host name" >&2
            return 2 ;;
        *:*)
            echo "$me: $1: node $name: MPICH's NODE:N form; write it as Open MPI's '${name%%:*} slots=${name##*:}'" >&2
            return 2 ;;
        esac
        # a host name, never an option: ssh and mpirun read -oProxyCommand=...
        # as one and would run it
        case "$name" in -*|*[!A-Za-z0-9._-]*)
            echo "$me: $1: node '${name//[^[:print:]]/?}': a host name is letters, digits, '.', '-' and '_', and does not start with '-'" >&2
            return 2 ;;
        esac
        if [ ${#name} -gt 253 ]; then
            echo "$me: $1: node '${name:0:40}...': ${#name} characters; a host name has at most 253" >&2
            return 2
        fi
        case "$name" in .*|*.|*..*)   # mpirun took 127.0.0.1. for the host 127
            echo "$me: $1: node $name: a dot at an end or two together; write the name without them" >&2
            return 2 ;;
        esac
        # DNS allows at most 63 characters between dots; Open MPI 4.1's
        # mpirun overflows a buffer on 57 or more before the first
        label=${name%%.*}
        if [[ .$name. =~ \.[^.]{64,}\. ]]; then
            echo "$me: $1: node '${name:0:40}...': a part between dots longer than 63 characters (DNS's limit)" >&2
            return 2
        elif [ ${#label} -gt 56 ] && [ "${MPI:-openmpi}" = openmpi ]; then
            echo "$me: $1: node '${name:0:40}...': its name up to the first dot has ${#label} characters; Open MPI's mpirun crashes on more than 56 (give its short name or address)" >&2
            return 2
        fi
        for tok in "${words[@]:1}"; do
            case "$tok" in   # each once: Open MPI refuses a second
            slots=*) [ -z "$seen_s" ] || { echo "$me: $1: node $name: slots= given twice" >&2
                                           return 2; }
                s=${tok#slots=} raw=$s seen_s=1 ;;
            max_slots=*)
                [ -z "$seen_ms" ] || { echo "$me: $1: node $name: max_slots= given twice" >&2
                                       return 2; }
                seen_ms=1
                if ! whole_v "${tok#max_slots=}" 1 9999; then
                    echo "$me: $1: node $name: max_slots= must be a whole number from 1 to 9999" >&2
                    return 2
                fi
                ms=$wv ;;
            *) echo "$me: $1: node $name: '$tok' is not slots=N or max_slots=N" >&2
               return 2 ;;
            esac
        done
        if ! whole_v "$s" 1 4096; then
            echo "$me: $1: node $name: slots= must be a whole number from 1 to 4096, got '${raw//[^[:print:]]/?}'" >&2
            return 2
        fi
        s=$wv
        if [ -n "$ms" ] && [ "$ms" -lt "$s" ]; then   # Open MPI would refuse the file
            echo "$me: $1: node $name: max_slots=$ms is below its slots=$s; a node's ranks are at most its max_slots" >&2
            return 2
        fi
        if [ -n "$per" ] && [ "$s" != "$per" ]; then
            echo "$me: $1: every node needs the same slots= (got $per and $s)" >&2
            return 2
        fi
        per=$s
        # Open MPI takes a name up to its first dot for the node (node01 and
        # node01.cluster.local are one node, and a second slot count for it
        # ends the job, exit 1, without a word under -q): so do these checks
        key=${name,,}
        if numeric_address "$key"; then   # one address, in the one spelling MPI reads alike
            if [ "$key" != "$na" ]; then   # mpirun read 017700000001 as 520130817
                echo "$me: $1: node $name: write this address as $na (Open MPI reads other spellings of an address its own way)" >&2
                return 2
            fi
            if [ "${na%%.*}" = 127 ] && [ "$na" != 127.0.0.1 ]; then   # mpirun's agent would be asked
                echo "$me: $1: node $name: a loopback address other than 127.0.0.1, which Open MPI reaches through the agent as another node: write localhost" >&2
                return 2
            fi
            key=$na
        else
            key=${key%%.*}
            key=${key:-${name,,}}
        fi
        if [ -n "${listed[$key]:-}" ]; then
            if [ "${listed[$key],,}" = "${name,,}" ]; then
                echo "$me: $1: node $name is listed twice; list each node once, with its slots=" >&2
            elif numeric_address "$key"; then
                echo "$me: $1: nodes ${listed[$key]} and $name are one address, $key; list it once, with its slots=" >&2
            else
                echo "$me: $1: nodes ${listed[$key]} and $name are one node to MPI (a name up to its first dot); list it once, with its slots=" >&2
            fi
            return 2
        fi
        listed[$key]=$name
        is_self=""
        case " $self_names " in *" ${name,,} "*|*" $key "*) is_self=1 ;; esac   # its own names
        if [ -n "$is_self" ]; then
            if [ -n "$self" ]; then
                echo "$me: $1: nodes $self and $name are both this machine; list it once, with its slots=" >&2
                return 2
            fi
            self=$name self_node=$name
        fi
        nodes+=("$name")
        if [ ${#nodes[@]} -gt 16384 ]; then   # each node is asked for an answer at once
            echo "$me: $1: more than 16384 nodes; a hostfile lists at most 16384" >&2
            return 2
        fi
    done <<< "$text"
    [ ${#nodes[@]} -gt 0 ] || { [ -n "${early:-}" ] || echo "$me: $1: no nodes" >&2; return 2; }
}

# silent NODE...: prints the names of the nodes that give no answer to
# `AGENT NODE true` within 10 s (asked all at once).  With ssh, this
# machine (localhost, its own name, or the node read_hostfile found to be
# it in any spelling) answers without being asked: mpirun
# starts the ranks of its own host directly, without an ssh server.
silent() {
    local n probe
    for n in "$@"; do
        if [ "$AGENT" = ssh ]; then   # self_node: the name read_hostfile found for it
            case "$n" in localhost|127.0.0.1|"$(hostname)"|"$(hostname -s)"|"${self_node:-}") continue ;; esac
        fi
        read -ra probe <<< "$AGENT"   # its words: `ssh -p 2222`
        probe+=("$n" true)
        [ "$AGENT" = ssh ] && probe=(ssh -o BatchMode=yes -o ConnectTimeout=5 -- "$n" true)
        ( timeout 10 "${probe[@]}" </dev/null >/dev/null 2>&1 || echo "$n" ) &
    done
    wait
}
