#!/bin/bash
# Scrape cost: new connections per second through a portgate TCP forward
# (bench/conn_rate.c, CONC in flight, each connect, read to EOF, close,
# against bench/echo_server.c -l, a line then close) with no scraping, and
# with a scrape of portgate's metrics service every INTERVAL ms
# (bench/scrape_loop.c: GET /metrics, read to EOF) during the run.  The
# two go in pairs of rounds, REPEAT pairs in ABBA order, so that drift of
# a shared machine hits them alike; medians, the ratio scrape / none of the
# medians and the median of the pairs' ratios (goal: within 2 %), and
# portgate's CPU time (user + system, master and workers) per
# connection, which moves less with the machine's other jobs than rates.
# Then the cost of one scrape alone: portgate's CPU time over a burst of
# scrapes with no other load (one every 2 ms for 2 s), and what that makes
# at one every INTERVAL ms against the CPU time of the measured conn/s.
# Section "scrape" of bench/RESULTS.md ("scrape-rate" with RATE).
#
# Environment: PORTGATE, PORTGATE_REV, REPEAT (5), SECS (3), CONC (32),
# RATE (unset: as fast as the client can; N: at most N conn/s, where the
# CPU time per connection compares best, batching being alike),
# INTERVAL (100, ms), SERVICES (20: forwards besides the measured one, so
# that a scrape has a realistic size), KEEP_TMP=1, RESULTS_SECTION.
set -u
. "$(dirname "$0")/lib.sh"

REPEAT=${REPEAT:-5}
SECS=${SECS:-3}
CONC=${CONC:-32}
INTERVAL=${INTERVAL:-100}
SERVICES=${SERVICES:-20}
RATE=${RATE:-}
P_BACK=29101 P_FWD=29102 P_METRICS=29103 P_MORE=29110

need_portgate
[[ "$REPEAT" =~ ^[1-9][0-9]?$ ]] || die "REPEAT: 1 to 99"
[[ "$SECS" =~ ^[1-9][0-9]?$ ]] || die "SECS: 1 to 99"
[[ "$SERVICES" =~ ^[0-9]{1,3}$ ]] && [ "$SERVICES" -le 500 ] ||
    die "SERVICES: 0 to 500"
build_tools conn_rate echo_server scrape_loop

{
	cat <<EOF
defaults
{
	log_type	= FILE $TMP/portgate-access.log
	log_on_success	=
	log_on_failure	=
	instances	= UNLIMITED
	cps		= 0 1
}

service fwd
{
	type		= UNLISTED
	socket_type	= stream
	wait		= no
	bind		= 127.0.0.1
	port		= $P_FWD
	redirect	= 127.0.0.1 $P_BACK
}

service metrics
{
	type		= INTERNAL UNLISTED
	socket_type	= stream
	wait		= no
	bind		= 127.0.0.1
	port		= $P_METRICS
	only_from	= 127.0.0.1
}
EOF
	for i in $(seq "$SERVICES"); do
		cat <<EOF

service fwd-idle-$i
{
	type		= UNLISTED
	id		= fwd-idle-$i
	socket_type	= stream
	wait		= no
	bind		= 127.0.0.1
	port		= $((P_MORE + i))
	redirect	= 127.0.0.1 $P_BACK
}
EOF
	done
} > "$TMP/scrape.conf"
"$PORTGATE" -t -f "$TMP/scrape.conf" >/dev/null 2>&1 ||
    { "$PORTGATE" -t -f "$TMP/scrape.conf" | head >&2; die "bad configuration"; }

bg back "$BIN/echo_server" -l $P_BACK -T 3600
wait_port $P_BACK tcp $BGPID || die "echo_server did not start"
bg portgate "$PORTGATE" -dontfork -f "$TMP/scrape.conf" -pidfile "$TMP/portgate.pid"
PG=$BGPID
wait_file "$TMP/portgate.pid" $PG || { cat "$TMP/portgate.log" >&2; die "portgate did not start"; }
wait_port $P_METRICS tcp $PG || die "no metrics service"

field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<< " $2"; }
# Nanoseconds on CPU of portgate's master and workers (schedstat: finer
# than the clock ticks of /proc/PID/stat; each is one thread).
cpu_ns() {
	local p t=0
	for p in $(tree_pids "$PG"); do
		t=$((t + $(awk '{ print $1 }' /proc/"$p"/schedstat 2>/dev/null || echo 0)))
	done
	echo $t
}

# Sanity: the forward serves and the metrics service answers.
chk=$("$BIN/conn_rate" -c 1 -n 5 -t 2 127.0.0.1 $P_FWD)
grep -q ' ok=5 ' <<< "$chk" || die "forward not serving: $chk"
one=$("$BIN/scrape_loop" -i 100 -t 0.1 127.0.0.1 $P_METRICS)
grep -q '^scrapes=1 fail=0' <<< "$one" || die "metrics not answering: $one"
SCRAPE_BYTES=$(field bytes "$one")

# round NAME (none|scrape)
round() {
	local name=$1 spid="" c0 c1 out sout ok
	if [ "$name" = scrape ]; then
		bg scraper "$BIN/scrape_loop" -i "$INTERVAL" -t "$SECS" 127.0.0.1 $P_METRICS
		spid=$BGPID
	fi
	c0=$(cpu_ns)
	out=$(timeout $((SECS + 20)) "$BIN/conn_rate" -c "$CONC" ${RATE:+-r "$RATE"} -t "$SECS" 127.0.0.1 $P_FWD)
	c1=$(cpu_ns)
	ok=$(field ok "$out")
	if [ -n "$spid" ]; then
		wait "$spid" 2>/dev/null
		stop "$spid"
		sout=$(cat "$TMP/scraper.log")
		add "$name" scrapes "$(field scrapes "$sout")"
		add "$name" sfail "$(field fail "$sout")"
		add "$name" smax "$(field max_ms "$sout")"
	fi
	add "$name" cps "$(awk -v n="$ok" -v s="$SECS" 'BEGIN { printf "%.0f", n / s }')"
	add "$name" us "$(awk -v t=$((c1 - c0)) -v n="$ok" \
	    'BEGIN { if (n > 0) printf "%.2f", t / 1e3 / n }')"
	add "$name" bad "$(( $(field empty "$out") + $(field fail "$out") ))"
	add "$name" ok "$ok"
	log "$name: $out${spid:+ | scraper: $sout}"
}

START=$(date +%s)
# Pairs in ABBA order (none first, then scrape first), each pair's ratio
# kept: adjacent rounds share the machine's state best.
for r in $(seq "$REPEAT"); do
	if [ $((r % 2)) = 1 ]; then round none; round scrape
	else round scrape; round none; fi
	n1=$(awk '{ print $NF }' <<< "${V["none cps"]}")
	s1=$(awk '{ print $NF }' <<< "${V["scrape cps"]}")
	add pair ratio "$(awk -v a="$s1" -v b="$n1" 'BEGIN { if (b > 0) printf "%.4f", a / b }')"
done
ELAPSED=$(( $(date +%s) - START ))

# One scrape alone: portgate's CPU over a burst, per scrape.
c0=$(cpu_ns)
burst=$("$BIN/scrape_loop" -i 2 -t 2 127.0.0.1 $P_METRICS)
c1=$(cpu_ns)
log "burst: $burst"
PER_SCRAPE=$(awk -v t=$((c1 - c0)) -v n="$(field scrapes "$burst")" \
    'BEGIN { if (n > 0) printf "%.0f", t / 1e3 / n }')
# What portgate counted, as a check of the counters under load.
ACCEPTED=$(exec 3<>/dev/tcp/127.0.0.1/$P_METRICS &&
    printf 'GET /metrics HTTP/1.1\r\n\r\n' >&3 && timeout 5 cat <&3 |
    sed -n 's/^portgate_connections_accepted_total{service="fwd"} //p')

med_us() { MEDIAN_DECIMALS= med "$1" us; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
MEDIAN_DECIMALS=1
NONE=$(med none cps) SCRAPE=$(med scrape cps)
# CPU share of scraping at INTERVAL: scrapes/s x per scrape over conn/s x
# per connection.
SHARE=$(awk -v p="$PER_SCRAPE" -v i="$INTERVAL" -v c="$NONE" -v u="$(med_us none)" \
    'BEGIN { if (c > 0 && u > 0) printf "%.2f", 100 * (1000 / i) * p / (c * u); else print "n/a" }')
OUT=$TMP/scrape.md
{
	echo "## Scrape cost: conn/s through a forward while the metrics service is scraped${RATE:+, at most $RATE conn/s} (bench/scrape.sh)"
	echo
	machine_md
	echo "- portgate: default workers (one per CPU), a TCP forward to bench/echo_server.c -l (a line, then close), a metrics service, and $SERVICES more forwards so that a scrape is $SCRAPE_BYTES bytes"
	echo "- load: bench/conn_rate.c, $CONC connections in flight${RATE:+ at most $RATE a second}, $SECS s a round; scrape: bench/scrape_loop.c, GET /metrics every $INTERVAL ms during the round; $REPEAT pairs of rounds (none and scrape, in ABBA order), medians; $ELAPSED s in all"
	echo "- command: \`${RATE:+RATE=$RATE }REPEAT=$REPEAT SECS=$SECS CONC=$CONC INTERVAL=$INTERVAL SERVICES=$SERVICES bench/scrape.sh\`"
	echo
	echo "| scraping | conn/s | vs none | portgate CPU µs / conn | vs none | scrapes a round | scrape failures | slowest scrape (ms) | client failures |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for n in none scrape; do
		echo "| $n | $(med $n cps) | $(ratio "$(med $n cps)" "$NONE") | $(med_us $n | xargs printf '%.1f') | $(ratio "$(med_us $n)" "$(med_us none)") | $(med $n scrapes) | $(sum <<< "${V["$n sfail"]:-}") | $(med $n smax) | $(sum <<< "${V["$n bad"]:-}") |"
	done
	echo
	echo "conn/s with scraping / without: $(ratio "$SCRAPE" "$NONE") (medians), **$(MEDIAN_DECIMALS=3 med pair ratio)** (median of the $REPEAT pairs' ratios; goal: at least 0.98)."
	echo "One scrape alone costs portgate about $PER_SCRAPE µs of CPU (a burst of $(field scrapes "$burst") scrapes, no other load): at one every $INTERVAL ms that is $SHARE % of the CPU time portgate spends on the conn/s above."
	echo "portgate counted ${ACCEPTED:-?} clients of the forward; the client saw $(( $(sum <<< "${V["none ok"]:-} ${V["scrape ok"]:-}") + 5 )) served (every round and the 5 of the sanity check)."
	echo
	echo "Raw conn/s (all rounds):"
	echo
	echo '```'
	for n in none scrape; do printf '%-7s %s\n' "$n" "${V["$n cps"]# }"; done
	printf '%-7s %s\n' ratio "${V["pair ratio"]# }"
	echo '```'
} > "$OUT"
cat "$OUT"
update_results "scrape${RATE:+-rate}" "$OUT"
log "written to bench/RESULTS.md"
