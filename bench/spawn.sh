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
# Section "spawn" of bench/RESULTS.md.
#
# Environment: PORTGATE, PORTGATE_REV, REPEAT (3), SECS (4), CONC (16),
# KEEP_TMP=1.
set -u
. "$(dirname "$0")/lib.sh"

REPEAT=${REPEAT:-3}
SECS=${SECS:-4}
CONC=${CONC:-16}

need_portgate
command -v xinetd >/dev/null || die "xinetd missing: run bench/install-peers.sh"
build_tools tiny_server conn_rate echo_server
id nobody >/dev/null 2>&1 || die "no user nobody"

P_PG=28001 P_XI=28101 P_PERSIST=28201 P_BUILTIN=28002 P_PG_LOG=28003 P_XI_LOG=28103

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
sleep 0.3
PG_IDLE=$(status_kb $PG VmRSS); XI_IDLE=$(status_kb $XI VmRSS)
reset_hwm $PG; reset_hwm $XI

# A first connection each, so that every server binary is in the cache.
for p in $P_PG $P_XI $P_PG_LOG $P_XI_LOG $P_PERSIST $P_BUILTIN; do
	"$BIN/conn_rate" -c 1 -n 1 -t 2 127.0.0.1 $p >/dev/null
done

TARGETS="portgate xinetd portgate_log xinetd_log persistent builtin"
declare -A PORT=([portgate]=$P_PG [xinetd]=$P_XI [portgate_log]=$P_PG_LOG
    [xinetd_log]=$P_XI_LOG [persistent]=$P_PERSIST [builtin]=$P_BUILTIN)
START=$(date +%s)
for r in $(seq "$REPEAT"); do
	for t in $TARGETS; do
		out=$(timeout $((SECS + 20)) "$BIN/conn_rate" -c "$CONC" -t "$SECS" 127.0.0.1 "${PORT[$t]}")
		log "round $r/$REPEAT $t: $out"
		for k in ok empty fail p50_ms p99_ms; do
			add $t $k "$(sed -n "s/.* $k=\([0-9.]*\).*/\1/p" <<< " $out")"
		done
		# ok connections per second (a failed exec gives an empty one)
		add $t okps "$(awk -v o="$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<< "$out")" \
		    -v s="$SECS" 'BEGIN { printf "%.0f", o / s }')"
		sleep 0.5	# let the last servers be reaped
	done
done
ELAPSED=$(( $(date +%s) - START ))
PG_PEAK=$(status_kb $PG VmHWM); XI_PEAK=$(status_kb $XI VmHWM)

mib() { awk -v k="$1" 'BEGIN { if (k == "") print "n/a"; else printf "%.1f", k / 1024 }'; }

declare -A VS=([portgate]=xinetd [xinetd]=xinetd [portgate_log]=xinetd_log
    [xinetd_log]=xinetd_log [persistent]=xinetd [builtin]=xinetd)
OUT=$TMP/spawn.md
{
	echo "## Spawned servers (bench/spawn.sh)"
	echo
	machine_md
	echo "- xinetd $(xinetd -version 2>&1 | awk 'NR == 1 { print $1 }'); the same configuration for both (user = nobody, wait = no, instances UNLIMITED, cps 1000000 1; logging off, or to a file with log_on_success = PID HOST DURATION EXIT, log_on_failure = HOST); server bench/tiny_server.c (writes one line, exits; dynamically linked)"
	echo "- bench/conn_rate.c with $CONC connections in flight, $SECS s per run, $REPEAT rounds round-robin, medians; $ELAPSED s in all"
	echo
	echo "| target | conn/s | vs xinetd (same logging) | connect→EOF p50 (ms) | p99 (ms) | failed (all rounds) |"
	echo "|---|---|---|---|---|---|"
	for t in $TARGETS; do
		case $t in
		portgate) name="portgate, spawned tiny_server, logging off" ;;
		xinetd) name="xinetd, spawned tiny_server, logging off" ;;
		portgate_log) name="portgate, spawned tiny_server, logging to a file" ;;
		xinetd_log) name="xinetd, spawned tiny_server, logging to a file" ;;
		persistent) name="persistent line server (reference)" ;;
		builtin) name="portgate built-in daytime (reference)" ;;
		esac
		okps=$(med $t okps)
		vs=$(awk -v a="$okps" -v b="$(med ${VS[$t]} okps)" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "n/a" }')
		failed=$(( $(sum <<< "${V["$t fail"]:-}") + $(sum <<< "${V["$t empty"]:-}") ))
		echo "| $name | $okps | $vs | $(med $t p50_ms) | $(med $t p99_ms) | $failed |"
	done
	echo
	echo "Daemon memory: portgate idle $(mib "$PG_IDLE") MiB, peak (VmHWM under this load) $(mib "$PG_PEAK") MiB; xinetd idle $(mib "$XI_IDLE") MiB, peak $(mib "$XI_PEAK") MiB (the daemons only, not their children)."
	echo
	echo "Raw conn/s (all rounds):"
	echo
	echo '```'
	for t in $TARGETS; do printf '%-12s %s\n' $t "${V["$t okps"]# }"; done
	echo '```'
} > "$OUT"
cat "$OUT"
update_results spawn "$OUT"
log "written to bench/RESULTS.md"
