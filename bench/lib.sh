# Shared helpers of the benchmark scripts (bash; sourced, not run).
# Everything started through bg() is recorded and stopped by cleanup(),
# by process id, on any exit.

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
PORTGATE=${PORTGATE:-$ROOT/src/portgate}
PIDS=()
TMP=$(mktemp -d /tmp/portgate-bench.XXXXXX)
chmod 755 "$TMP"	# spawned servers run as nobody: they need the path
BIN=$TMP/bin
mkdir -p "$BIN"

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Stop every process started with bg() and all their descendants (forked
# children of socat or xinetd outlive their parent): SIGTERM, then SIGKILL
# what is left.
cleanup() {
	local p i all=()
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do
		# Only our own children (a pid that exited may be reused).
		[ "$(awk '{ print $4 }' /proc/"$p"/stat 2>/dev/null)" = $$ ] &&
		    all+=($(tree_pids "$p"))
	done
	for p in "${all[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for i in $(seq 30); do
		local alive=0
		for p in "${all[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${all[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# bg NAME CMD...: run CMD in the background, output in $TMP/NAME.log;
# sets BGPID.
bg() {
	local name=$1; shift
	"$@" >"$TMP/$name.log" 2>&1 &
	BGPID=$!
	PIDS+=("$BGPID")
}

# stop PID: SIGTERM, wait up to 3 s, then SIGKILL; forget PID.
stop() {
	local p=$1 i q keep=()
	for q in "${PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
	PIDS=("${keep[@]}")
	kill -TERM "$p" 2>/dev/null || return 0
	for i in $(seq 30); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}

# wait_until PID CMD...: run CMD every 0.1 s until it succeeds (0), 10 s
# have passed or PID (if not empty) has died (1).
wait_until() {
	local pid=$1 i
	shift
	for i in $(seq 100); do
		"$@" && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
	done
	return 1
}

# listening OPT PORT: does ss OPT (-Hltn, -Hlun) show 127.0.0.1:PORT?
listening() { ss "$1" "sport = :$2" 2>/dev/null | grep -q .; }

# wait_port PORT [tcp|udp] [PID]: wait until something listens on PORT.
wait_port() {
	local opt=-Hltn
	[ "${2:-tcp}" = udp ] && opt=-Hlun
	wait_until "${3:-}" listening "$opt" "$1"
}

# wait_file FILE [PID]: wait until FILE is non-empty.
wait_file() { wait_until "${2:-}" test -s "$1"; }

# Compile the C tools of bench/ into $BIN.
build_tools() {
	local t
	for t in "$@"; do
		gcc -O2 -Wall -o "$BIN/$t" "$BENCH/$t.c" ||
		    die "cannot compile bench/$t.c"
	done
}

# The measurements of a run: "target metric" -> the values of its rounds,
# space-separated.  add TARGET METRIC VALUE; med TARGET METRIC prints their
# median (see median), sum their sum.
declare -A V
add() { V["$1 $2"]="${V["$1 $2"]:-} $3"; }
med() { median "${MEDIAN_DECIMALS:-}" <<< "${V["$1 $2"]:-}"; }
sum() { tr ' ' '\n' | awk '{ s += $1 } END { print s + 0 }'; }

# median [DECIMALS]: the median of the numbers on standard input (others
# are skipped); nothing if there are none.  Printed with %g, or with
# DECIMALS: no decimals from 100 up, DECIMALS decimals below.
median() {
	tr ' ' '\n' | grep -E '^[0-9.]+$' | sort -g | awk -v d="${1:-}" '
	{ v[NR] = $1 } END { if (NR == 0) exit
	    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	    if (d == "") printf "%g\n", m
	    else if (m >= 100) printf "%.0f\n", m
	    else printf "%." d "f\n", m }'
}

# A field (kB) of /proc/PID/status, e.g. VmRSS, VmHWM.
status_kb() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# The process tree of PID (PID and its descendants), one per line.
tree_pids() {
	local p c
	echo "$1"
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		tree_pids "$c"
	done
}

# tree_mem PID: "RSS_KB PSS_KB NPROCS" summed over the tree of PID.
tree_mem() {
	local rss=0 pss=0 n=0 p r s
	for p in $(tree_pids "$1"); do
		r=$(status_kb "$p" VmRSS)
		s=$(awk '$1 == "Pss:" { print $2 }' /proc/"$p"/smaps_rollup \
		    2>/dev/null)
		[ -n "$r" ] || continue
		rss=$((rss + r)); pss=$((pss + ${s:-0})); n=$((n + 1))
	done
	echo "$rss $pss $n"
}

# Reset the peak RSS (VmHWM) of every process in the tree of PID.
reset_hwm() {
	local p
	for p in $(tree_pids "$1"); do
		echo 5 > /proc/"$p"/clear_refs 2>/dev/null
	done
}

# The machine and the date, as a Markdown list.
machine_md() {
	local cpu
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: $(nproc) CPUs, $cpu, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
	echo "- portgate: $PORTGATE_REV ($PORTGATE)"
	[ -z "$PORTGATE_BASE" ] ||
	    echo "- portgate-base: $PORTGATE_BASE_REV ($PORTGATE_BASE), same configuration"
	echo "- load average at the start: $LOAD_START, at the end: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: other jobs add noise)"
}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

PORTGATE_REV=${PORTGATE_REV:-$(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown)}

# PORTGATE_BASE=/path/to/portgate: another build (e.g. bench/baseline.sh's)
# measured alongside as target portgate-base in forward.sh, spawn.sh and
# tls.sh; PORTGATE_BASE_REV says what it is (default: the commit that
# bench/baseline.sh recorded next to it).
PORTGATE_BASE=${PORTGATE_BASE:-}
if [ -n "$PORTGATE_BASE" ]; then
	[ -x "$PORTGATE_BASE" ] || die "PORTGATE_BASE: no $PORTGATE_BASE"
	PORTGATE_BASE_REV=${PORTGATE_BASE_REV:-$(cut -c1-7 \
	    "$(dirname "$PORTGATE_BASE")/../.baseline-commit" 2>/dev/null || echo unknown)}
fi

# update_results NAME FILE: put FILE as section NAME of bench/RESULTS.md
# (between <!-- NAME begin --> and <!-- NAME end -->, replacing the old one);
# RESULTS_SECTION=OTHER puts it in section OTHER instead (a run that must
# not replace the reference one).
update_results() {
	python3 - "$BENCH/RESULTS.md" "${RESULTS_SECTION:-$1}" "$2" <<'PY'
import os, sys
path, name, part = sys.argv[1:4]
begin, end = f"<!-- {name} begin -->", f"<!-- {name} end -->"
new = begin + "\n" + open(part).read().rstrip("\n") + "\n" + end + "\n"
head = ("# portgate benchmark results\n\n"
        "Written by bench/forward.sh, bench/spawn.sh and bench/gate.sh "
        "(run on demand; see bench/README.md).\n\n")
old = open(path).read() if os.path.exists(path) else head
if begin in old and end in old:
    pre, rest = old.split(begin, 1)
    post = rest.split(end, 1)[1].lstrip("\n")
    out = pre + new + ("\n" + post if post else "")
else:
    out = old.rstrip("\n") + "\n\n" + new
open(path, "w").write(out)
PY
}

# A portgate must be there, built.
need_portgate() {
	[ -x "$PORTGATE" ] || die "no $PORTGATE: run make (or set PORTGATE=)"
}

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
