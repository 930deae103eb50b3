#!/bin/bash
# Spawn benchmark: connections per second to a tiny server that inetd
# starts per connection (bench/tiny_server.c: writes one line, exits),
# under portgate and under xinetd with the same configuration, measured
# by bench/conn_rate.c (connect, read to EOF, close; CONC in flight).
# Twice: logging off, and logging to a file (log_on_success = PID HOST
# DURATION EXIT, log_on_failure = HOST, as a production setup would).
# References: a persistent line server (bench/echo_server.c -l) and
# portgate's built-in daytime (no process per connection).  Also reports
# the peak RSS of portgate and xinetd (the daemons, not their children).
# The physical limit (bench/spawn_loop.c, the same server as user nobody):
#   limit	no daemon: the driver connects to its own listener, accepts,
#		vforks, execs tiny_server on the accepted socket and reads its
#		end to EOF, CONC in flight (the spawn rate of the machine)
#   limit_fork	the same with fork() (xinetd's way) instead of vfork()
#   mini_inetd	the least an inetd can be (accept, vfork, exec, close),
#		measured by conn_rate like the daemons
# "vs limit" divides by the best of the three (same mode, medians).
# Two modes (MODES): quiet, and loaded: two bounded busy loops (one per
# core, at the same priority) run while portgate, xinetd, the limits and
# portgate-base are measured, as on a machine busy with other work.
# Section "spawn" of bench/RESULTS.md.
#
# Environment: PORTGATE, PORTGATE_REV, REPEAT (3), SECS (4), CONC (16),
# MODES ("quiet loaded"), BUSY (busy loops in loaded mode, 2),
# PORTGATE_BASE=/path/to/portgate adds that build as target portgate-base
# (bench/baseline.sh builds one; e.g. the single-process build) with the
# same configuration, and prints portgate / portgate-base, KEEP_TMP=1.
set -u
. "$(dirname "$0")/lib.sh"

REPEAT=${REPEAT:-3}
SECS=${SECS:-4}
CONC=${CONC:-16}
MODES=${MODES:-quiet loaded}
BUSY=${BUSY:-2}

need_portgate
command -v xinetd >/dev/null || die "xinetd missing: run bench/install-peers.sh"
build_tools tiny_server conn_rate echo_server spawn_loop
id nobody >/dev/null 2>&1 || die "no user nobody"

P_PG=28001 P_XI=28101 P_PERSIST=28201 P_BUILTIN=28002 P_PG_LOG=28003 P_XI_LOG=28103
P_BASE=28901 P_BASE_LOG=28903 P_MINI=28911

# The one configuration, for both daemons (only the ports differ).
conf() {	# PORT LOGPORT NAME
	cat <<EOF
defaults
{
	log_type	= FILE $TMP/$3-access.log
	log_on_success	=
	log_on_failure	=
	instances	= UNLIMITED
	per_source	= UNLIMITED
	cps		= 1000000 1
}

service tiny
{
	type		= UNLISTED
	socket_type	= stream
	protocol	= tcp
	wait		= no
	user		= nobody
	bind		= 127.0.0.1
	port		= $1
	server		= $BIN/tiny_server
}

service tinylog
{
	type		= UNLISTED
	socket_type	= stream
	protocol	= tcp
	wait		= no
	user		= nobody
	bind		= 127.0.0.1
	port		= $2
	server		= $BIN/tiny_server
	log_type	= FILE $TMP/$3-tinylog.log
	log_on_success	= PID HOST DURATION EXIT
	log_on_failure	= HOST
}
EOF
}
conf $P_PG $P_PG_LOG portgate > "$TMP/portgate.conf"
conf $P_XI $P_XI_LOG xinetd > "$TMP/xinetd.conf"
cat >> "$TMP/portgate.conf" <<EOF

service daytime
{
	type		= INTERNAL UNLISTED
	id		= daytime-ref
	socket_type	= stream
	wait		= no
	bind		= 127.0.0.1
	port		= $P_BUILTIN
}
EOF

bg portgate "$PORTGATE" -dontfork -f "$TMP/portgate.conf" -pidfile "$TMP/portgate.pid"
PG=$BGPID
wait_file "$TMP/portgate.pid" $PG || { cat "$TMP/portgate.log" >&2; die "portgate did not start"; }
bg xinetd xinetd -dontfork -f "$TMP/xinetd.conf" -pidfile "$TMP/xinetd.pid"
XI=$BGPID
wait_port $P_XI tcp $XI || { cat "$TMP/xinetd.log" >&2; die "xinetd did not start"; }
bg persist "$BIN/echo_server" -l $P_PERSIST -T 3600
wait_port $P_PERSIST tcp $BGPID || die "echo_server did not start"
bg mini_inetd "$BIN/spawn_loop" -v -s "$BIN/tiny_server" -u nobody -l $P_MINI -T 3600
wait_port $P_MINI tcp $BGPID || die "spawn_loop -l did not start"
if [ -n "$PORTGATE_BASE" ]; then
	conf $P_BASE $P_BASE_LOG portgate_base > "$TMP/portgate_base.conf"
	bg portgate_base "$PORTGATE_BASE" -dontfork -f "$TMP/portgate_base.conf" \
	    -pidfile "$TMP/portgate_base.pid"
	wait_file "$TMP/portgate_base.pid" $BGPID ||
	    { cat "$TMP/portgate_base.log" >&2; die "portgate-base did not start"; }
fi
sleep 0.3
PG_IDLE=$(status_kb $PG VmRSS); XI_IDLE=$(status_kb $XI VmRSS)
reset_hwm $PG; reset_hwm $XI

# A first connection each, so that every server binary is in the cache.
for p in $P_PG $P_XI $P_PG_LOG $P_XI_LOG $P_PERSIST $P_BUILTIN $P_MINI \
    ${PORTGATE_BASE:+$P_BASE $P_BASE_LOG}; do
	"$BIN/conn_rate" -c 1 -n 1 -t 2 127.0.0.1 $p >/dev/null
done

LIMITS="limit limit_fork mini_inetd"
TARGETS="portgate xinetd $LIMITS portgate_log xinetd_log persistent builtin"
LOADED_TARGETS="portgate xinetd $LIMITS"
if [ -n "$PORTGATE_BASE" ]; then
	TARGETS="portgate portgate_base xinetd $LIMITS portgate_log portgate_base_log xinetd_log persistent builtin"
	LOADED_TARGETS="portgate portgate_base xinetd $LIMITS"
fi
declare -A PORT=([portgate]=$P_PG [xinetd]=$P_XI [portgate_log]=$P_PG_LOG
    [xinetd_log]=$P_XI_LOG [persistent]=$P_PERSIST [builtin]=$P_BUILTIN
    [mini_inetd]=$P_MINI [portgate_base]=$P_BASE [portgate_base_log]=$P_BASE_LOG)

# busy_start / busy_stop: BUSY loops at the same priority as everything
# else, each bounded in time even if this script is killed hard.
BUSY_PIDS=()
busy_start() {
	local i
	for i in $(seq "$BUSY"); do
		bg busy$i timeout $((SECS + 10)) sh -c 'while :; do :; done'
		BUSY_PIDS+=("$BGPID")
	done
	sleep 0.2
}
busy_stop() {
	local p
	for p in "${BUSY_PIDS[@]}"; do stop "$p"; done
	BUSY_PIDS=()
}

measure() {	# TARGET KEY (KEY: the target, or TARGET-loaded)
	local t=$1 k=$2 out m
	if [ "$t" = limit ] || [ "$t" = limit_fork ]; then
		out=$(timeout $((SECS + 20)) "$BIN/spawn_loop" \
		    $([ $t = limit ] && echo -v) -s "$BIN/tiny_server" \
		    -u nobody -c "$CONC" -t "$SECS")
	else
		out=$(timeout $((SECS + 20)) "$BIN/conn_rate" -c "$CONC" -t "$SECS" 127.0.0.1 "${PORT[$t]}")
	fi
	log "round $r/$REPEAT $k: $out"
	for m in ok empty fail p50_ms p99_ms; do
		add $k $m "$(sed -n "s/.* $m=\([0-9.]*\).*/\1/p" <<< " $out")"
	done
	# ok connections per second (a failed exec gives an empty one)
	add $k okps "$(awk -v o="$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<< "$out")" \
	    -v s="$SECS" 'BEGIN { printf "%.0f", o / s }')"
	sleep 0.5	# let the last servers be reaped
}

START=$(date +%s)
for r in $(seq "$REPEAT"); do
	if [[ " $MODES " = *" quiet "* ]]; then
		for t in $TARGETS; do measure $t $t; done
	fi
	if [[ " $MODES " = *" loaded "* ]]; then
		for t in $LOADED_TARGETS; do
			busy_start
			measure $t $t-loaded
			busy_stop
		done
	fi
done
ELAPSED=$(( $(date +%s) - START ))
PG_PEAK=$(status_kb $PG VmHWM); XI_PEAK=$(status_kb $XI VmHWM)

mib() { awk -v k="$1" 'BEGIN { if (k == "") print "n/a"; else printf "%.1f", k / 1024 }'; }

declare -A VS=([portgate]=xinetd [xinetd]=xinetd [portgate_log]=xinetd_log
    [xinetd_log]=xinetd_log [persistent]=xinetd [builtin]=xinetd
    [limit]=xinetd [mini_inetd]=xinetd [portgate_base]=xinetd
    [portgate_base_log]=xinetd_log)
# rel A B: A / B as "0.00×", or n/a.
rel() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2f×", a / b; else print "n/a" }'; }
# The physical limit of a mode ("" or -loaded): the best median of LIMITS.
best_limit() {
	local l
	for l in $LIMITS; do med $l$1 okps; done | sort -gr | head -1
}
LIM=$(best_limit ""); LIM_LOADED=$(best_limit -loaded)
OUT=$TMP/spawn.md
{
	echo "## Spawned servers (bench/spawn.sh)"
	echo
	machine_md
	echo "- xinetd $(xinetd -version 2>&1 | awk 'NR == 1 { print $1 }'); the same configuration for both (user = nobody, wait = no, instances UNLIMITED, cps 1000000 1; logging off, or to a file with log_on_success = PID HOST DURATION EXIT, log_on_failure = HOST); server bench/tiny_server.c (writes one line, exits; dynamically linked)"
	echo "- bench/conn_rate.c with $CONC connections in flight, $SECS s per run, $REPEAT rounds round-robin, medians; $ELAPSED s in all"
	echo "- physical limit (bench/spawn_loop.c, tiny_server as nobody): limit = no daemon, one process connects to its own listener, accepts, vforks (or forks) and execs, $CONC in flight; mini-inetd = accept, vfork, exec, close in a loop, measured by conn_rate; \"vs limit\" = to the best of the three in the same mode"
	[[ " $MODES " = *" loaded "* ]] && echo "- loaded: $BUSY busy loops (sh, same priority) run during each loaded measurement"
	echo
	echo "| target | conn/s | vs xinetd (same logging) | vs limit | connect→EOF p50 (ms) | p99 (ms) | loaded conn/s | loaded, vs xinetd | loaded, vs limit | failed (all rounds) |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	for t in $TARGETS; do
		case $t in
		portgate) name="portgate, spawned tiny_server, logging off" ;;
		portgate_base) name="portgate-base, spawned tiny_server, logging off" ;;
		xinetd) name="xinetd, spawned tiny_server, logging off" ;;
		limit) name="limit: bare vfork+exec loop, no daemon" ;;
		limit_fork) name="limit: bare fork+exec loop, no daemon" ;;
		mini_inetd) name="limit: mini-inetd (accept, vfork, exec)" ;;
		portgate_log) name="portgate, spawned tiny_server, logging to a file" ;;
		portgate_base_log) name="portgate-base, spawned tiny_server, logging to a file" ;;
		xinetd_log) name="xinetd, spawned tiny_server, logging to a file" ;;
		persistent) name="persistent line server (reference)" ;;
		builtin) name="portgate built-in daytime (reference)" ;;
		esac
		okps=$(med $t okps)
		lo=$(med $t-loaded okps)
		failed=$(( $(sum <<< "${V["$t fail"]:-} ${V["$t-loaded fail"]:-}") + $(sum <<< "${V["$t empty"]:-} ${V["$t-loaded empty"]:-}") ))
		echo "| $name | ${okps:--} | $(rel "$okps" "$(med ${VS[$t]} okps)") | $(rel "$okps" "$LIM") | $(med $t p50_ms) | $(med $t p99_ms) | ${lo:--} | $(rel "$lo" "$(med ${VS[$t]}-loaded okps)") | $(rel "$lo" "$LIM_LOADED") | $failed |"
	done
	if [ -n "$PORTGATE_BASE" ]; then
		echo
		echo "portgate / portgate-base (medians): logging off $(rel "$(med portgate okps)" "$(med portgate_base okps)"), logging to a file $(rel "$(med portgate_log okps)" "$(med portgate_base_log okps)"), loaded $(rel "$(med portgate-loaded okps)" "$(med portgate_base-loaded okps)")."
	fi
	echo
	echo "Daemon memory: portgate idle $(mib "$PG_IDLE") MiB, peak (VmHWM under this load) $(mib "$PG_PEAK") MiB; xinetd idle $(mib "$XI_IDLE") MiB, peak $(mib "$XI_PEAK") MiB (the daemons only, not their children)."
	echo
	echo "Raw conn/s (all rounds):"
	echo
	echo '```'
	for t in $TARGETS $(for l in $LOADED_TARGETS; do echo $l-loaded; done); do
		[ -n "${V["$t okps"]:-}" ] && printf '%-20s %s\n' $t "${V["$t okps"]# }"
	done
	echo '```'
} > "$OUT"
cat "$OUT"
update_results spawn "$OUT"
log "written to bench/RESULTS.md"
