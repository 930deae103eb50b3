#!/bin/bash
# Gate benchmark: a portgate service (built-in daytime: one line, then
# close) whose only_from holds RULES generated CIDR rules plus
# 127.0.0.0/8, with no_access = 127.0.0.2.  Admitted clients connect from
# 127.0.0.3, a flood of refused ones from 127.0.0.2 (bench/conn_rate.c -b).
# Measures the admitted connection rate and latency alone, then with the
# flood at FLOOD_RATE connections/s and at full speed, plus the same
# service without rules as a reference, and portgate's CPU time.  Control:
# the same full-speed flood aimed at a plain accept-and-close listener
# (bench/echo_server.c -a) instead of portgate, which is what the flood
# costs the machine (two cores shared by all) without any gate.
# Section "gate" of bench/RESULTS.md.
#
# Environment: PORTGATE, PORTGATE_REV, RULES (10000), REPEAT (3), SECS (4),
# CONC (16, admitted), FLOOD_CONC (64), FLOOD_RATE (5000), KEEP_TMP=1.
set -u
. "$(dirname "$0")/lib.sh"

RULES=${RULES:-10000}
REPEAT=${REPEAT:-3}
SECS=${SECS:-4}
CONC=${CONC:-16}
FLOOD_CONC=${FLOOD_CONC:-64}
FLOOD_RATE=${FLOOD_RATE:-5000}
P_GATED=29001 P_OPEN=29002 P_REFUSER=29003

need_portgate
build_tools conn_rate echo_server

# RULES random IPv4 networks, /8 to /32, none in 127.0.0.0/8; fixed seed.
gen_rules() {
	awk -v n="$RULES" 'BEGIN {
		srand(20240601)
		for (i = 0; i < n; ) {
			a = int(rand() * 223) + 1
			if (a == 127) continue
			len = 8 + int(rand() * 25)
			ip = a * 16777216 + int(rand() * 16777216)
			mask = len == 32 ? ip : ip - ip % 2 ^ (32 - len)
			printf "%d.%d.%d.%d/%d%s", int(mask / 16777216),
			    int(mask / 65536) % 256, int(mask / 256) % 256,
			    mask % 256, len, (++i % 50 == 0 || i == n) ? "\n" : " "
		}
	}'
}
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

service daytime
{
	type		= INTERNAL UNLISTED
	id		= daytime-gated
	socket_type	= stream
	wait		= no
	bind		= 127.0.0.1
	port		= $P_GATED
	only_from	= 127.0.0.0/8
	no_access	= 127.0.0.2
EOF
	gen_rules | sed 's/^/\tonly_from\t+= /'
	cat <<EOF
}

service daytime
{
	type		= INTERNAL UNLISTED
	id		= daytime-open
	socket_type	= stream
	wait		= no
	bind		= 127.0.0.1
	port		= $P_OPEN
}
EOF
} > "$TMP/gate.conf"
NRULES=$(grep -c 'only_from' "$TMP/gate.conf")
[ "$("$PORTGATE" -t -f "$TMP/gate.conf" >/dev/null 2>&1; echo $?)" = 0 ] ||
    { "$PORTGATE" -t -f "$TMP/gate.conf" | head >&2; die "bad configuration"; }

T0=$(date +%s.%N)
bg portgate "$PORTGATE" -dontfork -f "$TMP/gate.conf" -pidfile "$TMP/portgate.pid"
PG=$BGPID
wait_file "$TMP/portgate.pid" $PG || { cat "$TMP/portgate.log" >&2; die "portgate did not start"; }
LOAD_MS=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
IDLE=$(status_kb $PG VmRSS)
bg refuser "$BIN/echo_server" -a $P_REFUSER -T 3600
wait_port $P_REFUSER tcp $BGPID || die "echo_server did not start"

# Sanity: .3 admitted, .2 refused.
chk3=$("$BIN/conn_rate" -b 127.0.0.3 -c 1 -n 5 -t 2 127.0.0.1 $P_GATED)
chk2=$("$BIN/conn_rate" -b 127.0.0.2 -c 1 -n 5 -t 2 127.0.0.1 $P_GATED)
grep -q ' ok=5 ' <<< "$chk3" && grep -q ' empty=5 ' <<< "$chk2" ||
    die "gate not as expected: .3 $chk3 / .2 $chk2"

cpu_ticks() { awk '{ print $14 + $15 }' /proc/"$1"/stat; }
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<< " $2"; }

# scenario NAME PORT FLOOD(none|rate|max)
scenario() {
	local name=$1 port=$2 flood=$3 fpid="" c0 c1 t0 t1 out fout
	case $flood in
	rate) bg flood "$BIN/conn_rate" -b 127.0.0.2 -c "$FLOOD_CONC" -r "$FLOOD_RATE" \
	    -t $((SECS + 1)) 127.0.0.1 $P_GATED; fpid=$BGPID ;;
	max) bg flood "$BIN/conn_rate" -b 127.0.0.2 -c "$FLOOD_CONC" \
	    -t $((SECS + 1)) 127.0.0.1 $P_GATED; fpid=$BGPID ;;
	control) bg flood "$BIN/conn_rate" -b 127.0.0.2 -c "$FLOOD_CONC" \
	    -t $((SECS + 1)) 127.0.0.1 $P_REFUSER; fpid=$BGPID ;;
	esac
	[ -n "$fpid" ] && sleep 0.5
	c0=$(cpu_ticks $PG); t0=$(date +%s.%N)
	out=$(timeout $((SECS + 20)) "$BIN/conn_rate" -b 127.0.0.3 -c "$CONC" -t "$SECS" 127.0.0.1 "$port")
	c1=$(cpu_ticks $PG); t1=$(date +%s.%N)
	if [ -n "$fpid" ]; then
		wait $fpid 2>/dev/null
		stop $fpid
		fout=$(cat "$TMP/flood.log")
	fi
	add "$name" cps "$(field ok "$out" | awk -v s="$SECS" '{ printf "%.0f", $1 / s }')"
	add "$name" p50 "$(field p50_ms "$out")"
	add "$name" p99 "$(field p99_ms "$out")"
	add "$name" bad "$(( $(field empty "$out") + $(field fail "$out") ))"
	add "$name" cpu "$(awk -v t=$((c1 - c0)) -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" \
	    'BEGIN { printf "%.0f", 100 * t / hz / (b - a) }')"
	if [ -n "$fpid" ]; then
		add "$name" flood "$(field cps "$fout")"
		add "$name" floodok "$(field ok "$fout")"
	fi
	log "$name: $out${fpid:+ | flood: $fout}"
}

NAMES=(open gated gated+flood-rate gated+flood-max gated+control-flood)
START=$(date +%s)
for r in $(seq "$REPEAT"); do
	scenario open $P_OPEN none
	scenario gated $P_GATED none
	scenario gated+flood-rate $P_GATED rate
	scenario gated+flood-max $P_GATED max
	scenario gated+control-flood $P_GATED control
done
ELAPSED=$(( $(date +%s) - START ))
PEAK=$(status_kb $PG VmHWM)

mib() { awk -v k="$1" 'BEGIN { if (k == "") print "n/a"; else printf "%.1f", k / 1024 }'; }

BASE=$(med gated cps)
OUT=$TMP/gate.md
{
	echo "## Gate under a flood of refused clients (bench/gate.sh)"
	echo
	machine_md
	echo "- service: built-in daytime; only_from = 127.0.0.0/8 plus $RULES random IPv4 CIDR rules ($NRULES only_from lines), no_access = 127.0.0.2; configuration loaded and every port bound in $LOAD_MS ms; reference: the same service without rules"
	echo "- admitted client: bench/conn_rate.c from 127.0.0.3, $CONC in flight, $SECS s; flood: bench/conn_rate.c from 127.0.0.2 (refused by no_access), $FLOOD_CONC in flight, at $FLOOD_RATE conn/s or at full speed; $REPEAT rounds, medians; $ELAPSED s in all"
	echo "- all on 2 cores: at full speed the flood client itself takes a core's share from the others; control: the same full-speed flood at a plain accept-and-close listener (bench/echo_server.c -a), not at portgate"
	echo "- portgate CPU %: its user+system time while the admitted client runs (softirq work of the TCP handshakes is mostly charged elsewhere)"
	echo
	echo "| scenario | admitted conn/s | vs gated alone | p50 (ms) | p99 (ms) | refused conn/s (flood) | portgate CPU % | admitted failures |"
	echo "|---|---|---|---|---|---|---|---|"
	for n in "${NAMES[@]}"; do
		c=$(med "$n" cps)
		echo "| $n | $c | $(awk -v a="$c" -v b="$BASE" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }') | $(med "$n" p50) | $(med "$n" p99) | $(med "$n" flood) | $(med "$n" cpu) | $(sum <<< "${V["$n bad"]:-}") |"
	done
	echo
	echo "portgate memory: idle $(mib "$IDLE") MiB with the rules loaded, peak $(mib "$PEAK") MiB."
	echo
	echo "Raw admitted conn/s (all rounds):"
	echo
	echo '```'
	for n in "${NAMES[@]}"; do printf '%-17s %s\n' "$n" "${V["$n cps"]# }"; done
	echo '```'
} > "$OUT"
cat "$OUT"
update_results gate "$OUT"
log "written to bench/RESULTS.md"
