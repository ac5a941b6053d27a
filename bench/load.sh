# bench/load.sh: whether other work shared the cores while a benchmark
# script measured (sourced by sh scripts, as bench/load.h is included by
# C ones): a figure taken beside other work is low, and nothing else says
# so.  load_start before the measurement, load_warn NAME after it: a
# warning on stderr when other processes kept half a core or more busy
# (the busy time of every core, /proc/stat, less this shell's children's,
# the times builtin, over the wall time between the two).  Needs $tmp, a
# folder of the script's own.

load_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }

# load_m: the CPU seconds of this shell's finished children (the builtin
# run in this shell: in $(...) it would count the subshell's own, none)
load_mine() {
    times > "$tmp/load.times"
    load_m=$(awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); n += a[1] * 60 + a[2] }
                            print n }' "$tmp/load.times")
}

load_start() {
    load_b0=$(load_busy)
    load_mine
    load_m0=$load_m
    load_w0=$(date +%s.%N)
}

load_warn() {
    load_mine
    awk -v name="$1" -v b0="$load_b0" -v b1="$(load_busy)" -v m0="$load_m0" -v m1="$load_m" \
        -v w0="$load_w0" -v w1="$(date +%s.%N)" -v tck="$(getconf CLK_TCK)" \
        -v n="$(getconf _NPROCESSORS_ONLN)" 'BEGIN {
        wall = w1 - w0
        if (wall < 0.2 || b0 == "") exit
        others = ((b1 - b0) / tck - (m1 - m0)) / wall
        if (others >= 0.5)
            printf "%s: warning: other work kept %.1f of the %d cores busy while it measured: " \
                   "the figures above are low; measure on a quiet machine\n", name, others, n \
                   > "/dev/stderr"
    }'
}

# load_said: what the runs wrote to $tmp/warn (their stderr, each run's
# "kept: nothing" and the like), counted, below the table instead of in it.
load_said() {
    if [ -s "$tmp/warn" ]; then
        echo
        echo "What the runs said on stderr (count, line):"
        sort "$tmp/warn" | uniq -c
    fi
}

# load_failed: a run failed: what it said, then the script ends.
load_failed() {
    cat "$tmp/warn" >&2
    exit 1
}
