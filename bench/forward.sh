#!/bin/bash
# TCP/UDP forwarding benchmark: portgate against haproxy (mode tcp), socat
# (TCP-LISTEN fork), rinetd, xinetd (redirect) and nginx (stream), and
# against a direct connection to the back end, all on loopback, in one run:
#   bulk	iperf3 throughput, 1 stream and 8 streams
#   conn/s	wrk with "Connection: close" against an nginx back end
#   rtt		32-byte echo round trips on one kept-alive connection
#		(bench/rtt.c against bench/echo_server.c), p50/p99
#   udp		UDP request/response rate (bench/udp_rr.c)
#   memory	idle RSS, peak RSS under the load, and the RSS with HOLD idle
#		forwarded connections held open (per-session cost from PSS)
# Every forwarder runs in the foreground with a generated configuration,
# one worker (thread/process) each, on high loopback ports; all of them
# run at once (idle when not measured) and the measurements go round-robin
# over them REPEAT times, so that drift of a shared machine hits them
# alike; the best round of each and the medians are reported.  Prints a table of ratios to direct and puts it
# in bench/RESULTS.md (section "forward").
#
# Environment: PORTGATE (binary, default src/portgate), PORTGATE_REV,
# REPEAT (5), SECS (seconds per iperf3/wrk/udp run, 3), HOLD (1000),
# TARGETS (default: all those installed), KEEP_TMP=1 keeps the temp dir,
# VARIANTS="NAME=/path/to/portgate ..." adds other portgate builds as more
# targets (up to 4; A/B of a change, measured round-robin with the rest,
# e.g. TARGETS="direct portgate" VARIANTS="fix=/tmp/b/src/portgate").
# PORTGATE_BASE=/path/to/portgate adds target portgate-base: that build
# with the same configuration (bench/baseline.sh COMMIT DIR builds one;
# BASE_WORKERS=N gives it defaults { workers = N }, e.g. to compare it
# with portgate-wN),
# and a table of portgate / portgate-base for every portgate target; with
# it or WORKERS, also each forwarder's CPU time (user + system) per
# connection, per GB, per round trip and per UDP request.  HOLD=0 skips
# the held connections; RESULTS_SECTION=NAME writes another section.
# WORKERS="1 2" (opt-in) is the workers axis: targets portgate-wN
# (defaults { workers = N }), haproxy-wN (nbthread N) and nginx-wN
# (worker_processes N) for each N, and by default only those, direct and
# portgate-base; METRICS (default in that mode "bulk8 conns rtt", else
# "bulk1 bulk8 conns rtt udp") and HOLD (default 0 in that mode: no held
# connections) choose the measures; section "forward-workers".  A target
# that does not start (a build without the workers attribute) is skipped.
# TARGETS may name any of these targets (e.g. haproxy-w2) in any mode.
# WRK_THREADS (1): wrk's threads (the client may be the limit at 2 cores).
# Install the peers with bench/install-peers.sh.
set -u
. "$(dirname "$0")/lib.sh"

REPEAT=${REPEAT:-5}
SECS=${SECS:-3}
WORKERS=${WORKERS:-}
if [ -n "$WORKERS" ]; then
	HOLD=${HOLD:-0}
	METRICS=${METRICS:-bulk8 conns rtt}
else
	HOLD=${HOLD:-1000}
	METRICS=${METRICS:-bulk1 bulk8 conns rtt udp}
fi
WRK_CONNS=${WRK_CONNS:-32}
WRK_THREADS=${WRK_THREADS:-1}
for n in $WORKERS; do
	[[ "$n" =~ ^[1-9][0-9]?$ ]] || die "WORKERS: bad count $n"
done
NGINX_STREAM_MOD=/usr/lib/nginx/modules/ngx_stream_module.so

need_portgate
for c in iperf3 wrk nginx gcc python3 ss; do
	command -v $c >/dev/null || die "$c missing: run bench/install-peers.sh"
done

# Port blocks: +1 bulk (iperf3), +2 http, +3 echo, +4 udp echo.
declare -A BASE=([direct]=21000 [portgate]=22000 [haproxy]=23000 [socat]=24000
    [rinetd]=25000 [xinetd]=26000 [nginx]=27000)
# rinetd 0.73 is left out of UDP: it forwards every datagram as an empty one
# (its UDP relay is broken in that version), so nothing comes back.
declare -A HAS_UDP=([direct]=1 [portgate]=1 [socat]=1 [nginx]=1)
ALL="direct portgate haproxy socat rinetd xinetd nginx"
if [ -z "${TARGETS:-}" ]; then
	TARGETS="direct portgate"
	command -v haproxy >/dev/null && TARGETS+=" haproxy"
	command -v socat >/dev/null && TARGETS+=" socat"
	command -v rinetd >/dev/null && TARGETS+=" rinetd"
	command -v xinetd >/dev/null && TARGETS+=" xinetd"
	[ -f $NGINX_STREAM_MOD ] && TARGETS+=" nginx"
	if [ -n "$WORKERS" ]; then
		TARGETS="direct"
		for n in $WORKERS; do TARGETS+=" portgate-w$n"; done
		command -v haproxy >/dev/null &&
		    for n in $WORKERS; do TARGETS+=" haproxy-w$n"; done
		[ -f $NGINX_STREAM_MOD ] &&
		    for n in $WORKERS; do TARGETS+=" nginx-w$n"; done
	fi
	[ -n "$PORTGATE_BASE" ] && TARGETS+=" portgate-base"
fi
# Port blocks of the targets without one above: 100 ports each from 10000
# (under 16000, where VARIANTS end).
wb=10000
for t in $TARGETS; do
	case $t in
	portgate-base|portgate-w[0-9]*|haproxy-w[0-9]*|nginx-w[0-9]*)
		[ -n "${BASE[$t]:-}" ] && continue
		[ "$wb" -lt 16000 ] || die "too many targets"
		BASE[$t]=$wb; wb=$((wb + 100))
		case $t in haproxy-*) ;; *) HAS_UDP[$t]=1 ;; esac ;;
	esac
done
[[ " $TARGETS " != *" portgate-base "* ]] || [ -n "$PORTGATE_BASE" ] ||
    die "target portgate-base needs PORTGATE_BASE="
B=${BASE[direct]}
declare -A VARIANT_BIN
vb=20000
for v in ${VARIANTS:-}; do
	name=${v%%=*}
	[ "$vb" -ge 16000 ] || die "at most 4 VARIANTS"
	[[ "$name" =~ ^[a-z0-9_]+$ ]] || die "VARIANTS: bad name $name"
	VARIANT_BIN[$name]=${v#*=}
	[ -x "${VARIANT_BIN[$name]}" ] || die "VARIANTS: no ${v#*=}"
	BASE[$name]=$vb; HAS_UDP[$name]=1; vb=$((vb - 1000))
	TARGETS+=" $name"
done

build_tools echo_server rtt udp_rr hold_conns

# ---------------------------------------------------------------- back ends
log "back ends: echo tcp :$((B + 3)), udp :$((B + 4)), nginx http :$((B + 2))"
bg echo "$BIN/echo_server" -t $((B + 3)) -u $((B + 4)) -T 3600
wait_port $((B + 3)) tcp $BGPID || die "echo_server did not start"

mkdir -p "$TMP/www" "$TMP/ngx-http"
printf 'portgate bench: a small file served by nginx\n' > "$TMP/www/t.txt"
cat > "$TMP/ngx-http/nginx.conf" <<EOF
user root;
worker_processes 1;
worker_rlimit_nofile 65536;
daemon off;
pid $TMP/ngx-http/nginx.pid;
error_log $TMP/ngx-http/error.log warn;
events { worker_connections 16384; }
http {
	access_log off;
	client_body_temp_path $TMP/ngx-http/body;
	proxy_temp_path $TMP/ngx-http/proxy;
	fastcgi_temp_path $TMP/ngx-http/fastcgi;
	uwsgi_temp_path $TMP/ngx-http/uwsgi;
	scgi_temp_path $TMP/ngx-http/scgi;
	server {
		listen 127.0.0.1:$((B + 2)) backlog=4096;
		root $TMP/www;
		location / { }
	}
}
EOF
bg nginx-http nginx -p "$TMP/ngx-http" -c "$TMP/ngx-http/nginx.conf"
wait_port $((B + 2)) tcp $BGPID || die "nginx back end did not start"

# ---------------------------------------------------------------- forwarders
declare -A ROOTS	# target -> pids whose process trees are the forwarder
declare -A MEMROOT	# target -> the pid measured for idle/held memory

start_portgate() {	# [NAME BINARY [DEFAULTS-LINE]]
	local name=${1:-portgate} bin=${2:-$PORTGATE} extra=${3:-}
	local b=${BASE[$name]} conf=$TMP/$name.conf
	cat > "$conf" <<EOF
defaults
{
	log_type	= FILE $TMP/$name-access.log
	log_on_success	=
	log_on_failure	=
	instances	= UNLIMITED
	cps		= 1000000 1${extra:+
	$extra}
}
EOF
	local n svc
	for n in 1 2 3; do
		svc=(x bulk http echo)
		cat >> "$conf" <<EOF

service fwd-${svc[$n]}
{
	type		= UNLISTED
	socket_type	= stream
	wait		= no
	bind		= 127.0.0.1
	port		= $((b + n))
	redirect	= 127.0.0.1 $((B + n))
}
EOF
	done
	cat >> "$conf" <<EOF

service fwd-udp
{
	type		= UNLISTED
	socket_type	= dgram
	wait		= yes
	bind		= 127.0.0.1
	port		= $((b + 4))
	redirect	= 127.0.0.1 $((B + 4))
}
EOF
	bg "$name" "$bin" -dontfork -f "$conf" -pidfile "$TMP/$name.pid"
	ROOTS[$name]=$BGPID; MEMROOT[$name]=$BGPID
	wait_file "$TMP/$name.pid" $BGPID
}

start_haproxy() {	# [NAME THREADS]
	local name=${1:-haproxy} nt=${2:-1} n
	local b=${BASE[$name]} cfg=$TMP/$name.cfg
	cat > "$cfg" <<EOF
global
	maxconn 8000
	nbthread $nt
defaults
	mode tcp
	timeout connect 5s
	timeout client 60s
	timeout server 60s
EOF
	for n in 1 2 3; do
		printf 'listen l%d\n\tbind 127.0.0.1:%d\n\tserver s 127.0.0.1:%d\n' \
		    $n $((b + n)) $((B + n)) >> "$cfg"
	done
	bg "$name" haproxy -db -f "$cfg"
	ROOTS[$name]=$BGPID; MEMROOT[$name]=$BGPID
	wait_port $((b + 3)) tcp $BGPID
}

start_socat() {
	local b=${BASE[socat]} n pids=""
	for n in 1 2 3; do
		bg socat$n socat TCP-LISTEN:$((b + n)),bind=127.0.0.1,fork,reuseaddr,backlog=4096 \
		    TCP:127.0.0.1:$((B + n))
		pids+="$BGPID,"
		[ $n = 3 ] && MEMROOT[socat]=$BGPID
	done
	bg socat4 socat -T 10 UDP-LISTEN:$((b + 4)),bind=127.0.0.1,fork,reuseaddr \
	    UDP:127.0.0.1:$((B + 4))
	pids+="$BGPID"
	ROOTS[socat]=$pids
	wait_port $((b + 3)) tcp && wait_port $((b + 4)) udp
}

start_rinetd() {
	local b=${BASE[rinetd]} n
	: > "$TMP/rinetd.conf"
	for n in 1 2 3; do
		echo "127.0.0.1 $((b + n)) 127.0.0.1 $((B + n))" >> "$TMP/rinetd.conf"
	done
	bg rinetd rinetd -f -c "$TMP/rinetd.conf"
	ROOTS[rinetd]=$BGPID; MEMROOT[rinetd]=$BGPID
	wait_port $((b + 3)) tcp $BGPID
}

start_xinetd() {
	local b=${BASE[xinetd]} n svc=(x bulk http echo)
	cat > "$TMP/xinetd.conf" <<EOF
defaults
{
	log_type	= FILE $TMP/xinetd-access.log
	log_on_success	=
	log_on_failure	=
	instances	= UNLIMITED
	per_source	= UNLIMITED
	cps		= 1000000 1
}
EOF
	for n in 1 2 3; do
		cat >> "$TMP/xinetd.conf" <<EOF

service fwd-${svc[$n]}
{
	type		= UNLISTED
	socket_type	= stream
	protocol	= tcp
	wait		= no
	user		= root
	bind		= 127.0.0.1
	port		= $((b + n))
	redirect	= 127.0.0.1 $((B + n))
}
EOF
	done
	bg xinetd xinetd -dontfork -f "$TMP/xinetd.conf" -pidfile "$TMP/xinetd.pid"
	ROOTS[xinetd]=$BGPID; MEMROOT[xinetd]=$BGPID
	wait_port $((b + 3)) tcp $BGPID
}

start_nginx() {	# [NAME WORKERS]
	local name=${1:-nginx} nw=${2:-1} n d
	local b=${BASE[$name]}
	d=$TMP/ngx-proxy${1:+-$1}
	mkdir -p "$d"
	{
		echo "load_module $NGINX_STREAM_MOD;"
		cat <<EOF
user root;
worker_processes $nw;
worker_rlimit_nofile 65536;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 16384; }
stream {
EOF
		for n in 1 2 3; do
			printf '\tserver { listen 127.0.0.1:%d backlog=4096; proxy_pass 127.0.0.1:%d; }\n' \
			    $((b + n)) $((B + n))
		done
		printf '\tserver { listen 127.0.0.1:%d udp; proxy_pass 127.0.0.1:%d; proxy_timeout 10s; }\n}\n' \
		    $((b + 4)) $((B + 4))
	} > "$d/nginx.conf"
	bg "nginx-proxy${1:+-$1}" nginx -p "$d" -c "$d/nginx.conf"
	ROOTS[$name]=$BGPID; MEMROOT[$name]=$BGPID
	wait_port $((b + 3)) tcp $BGPID
}

declare -A IDLE_RSS IDLE_PROCS
OK_TARGETS=""
for t in $TARGETS; do
	[ "$t" = direct ] && { OK_TARGETS+=" direct"; continue; }
	log "starting $t"
	case $t in
	portgate-base) start=(start_portgate "$t" "$PORTGATE_BASE"
	    ${BASE_WORKERS:+"workers	= $BASE_WORKERS"}) ;;
	portgate-w[0-9]*)
		start=(start_portgate "$t" "$PORTGATE" "workers	= ${t#portgate-w}") ;;
	haproxy-w[0-9]*) start=(start_haproxy "$t" "${t#haproxy-w}") ;;
	nginx-w[0-9]*) start=(start_nginx "$t" "${t#nginx-w}") ;;
	*)
		if [ -n "${VARIANT_BIN[$t]:-}" ]; then
			start=(start_portgate "$t" "${VARIANT_BIN[$t]}")
		else
			start=("start_$t")
		fi ;;
	esac
	if "${start[@]}"; then
		OK_TARGETS+=" $t"
	else
		log "$t did not start; see below, skipped"
		tail -5 "$TMP"/$t*.log >&2
	fi
done
TARGETS=${OK_TARGETS# }
sleep 0.5
for t in $TARGETS; do
	[ "$t" = direct ] && continue
	read -r rss pss np <<< "$(tree_mem "${MEMROOT[$t]}")"
	IDLE_RSS[$t]=$rss; IDLE_PROCS[$t]=$np
	for p in ${ROOTS[$t]//,/ }; do reset_hwm "$p"; done
done

# Peak memory under the load: sampled trees (forking forwarders) and VmHWM.
SAMPLER_ARGS=()
for t in $TARGETS; do
	[ "$t" = direct ] || SAMPLER_ARGS+=("$t=${ROOTS[$t]}")
done
bg rss-sampler python3 "$BENCH/rss_sampler.py" "$TMP/peak.txt" 0.2 1800 \
    "${SAMPLER_ARGS[@]}"
SAMPLER=$BGPID

# ---------------------------------------------------------------- measures


# The forwarder's CPU time (user + system, its process trees) per unit of
# work: less moved by the other jobs of a shared machine than the rates.
# cpu_ticks TARGET; cpu_per TARGET METRIC TICKS UNITS SCALE adds
# TICKS / HZ * SCALE / UNITS as METRIC (nothing for direct).
HZ=$(getconf CLK_TCK)
cpu_ticks() {
	local r p t s=0
	[ "$1" = direct ] && { echo 0; return; }
	for r in ${ROOTS[$1]//,/ }; do
		for p in $(tree_pids "$r"); do
			t=$(awk '{ print $14 + $15 }' /proc/"$p"/stat 2>/dev/null)
			s=$((s + ${t:-0}))
		done
	done
	echo $s
}
cpu_per() {
	[ "$1" = direct ] && return
	add "$1" "$2" "$(awk -v t="$3" -v n="$4" -v k="$5" -v hz="$HZ" \
	    'BEGIN { if (n > 0) printf "%.2f", t / hz * k / n; else print "fail" }')"
}

iperf() {	# target streams
	local port=$(( ${BASE[$1]} + 1 )) out srv c0 c1
	bg iperf3-srv iperf3 -s -1 -p $((B + 1))
	srv=$BGPID
	wait_port $((B + 1)) tcp $srv || { log "iperf3 -s failed"; return; }
	c0=$(cpu_ticks "$1")
	out=$(timeout $((SECS + 15)) iperf3 -c 127.0.0.1 -p "$port" -t "$SECS" \
	    -O 1 -P "$2" -J 2>/dev/null | python3 -c '
import json, sys
try:
    print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    print("fail")')
	c1=$(cpu_ticks "$1")
	stop $srv
	add "$1" "bulk$2" "$out"
	# ms per GB; the omitted first second counted at the same rate
	[ "$out" != fail ] && cpu_per "$1" "cpu_bulk$2" $((c1 - c0)) \
	    "$(awk -v g="$out" -v s="$SECS" 'BEGIN { print g * (s + 1) / 8 }')" 1000
}

conns() {	# target
	local port=$(( ${BASE[$1]} + 2 )) out rps errs c0 c1
	c0=$(cpu_ticks "$1")
	out=$(timeout $((SECS + 15)) wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${SECS}s" \
	    -H 'Connection: close' "http://127.0.0.1:$port/t.txt" 2>&1)
	rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<< "$out")
	errs=$(awk '/Socket errors|Non-2xx/ { print }' <<< "$out" | tr -s ' ' | tr '\n' ';')
	[ -n "$errs" ] && log "$1 wrk: $errs"
	add "$1" conns "${rps:-fail}"
	c1=$(cpu_ticks "$1")
	cpu_per "$1" cpu_conns $((c1 - c0)) \
	    "$(awk '/requests in/ { print $1 }' <<< "$out")" 1000000
}

rtt() {	# target
	local port=$(( ${BASE[$1]} + 3 )) out c0 c1
	c0=$(cpu_ticks "$1")
	out=$(timeout 90 "$BIN/rtt" 127.0.0.1 "$port" 20000 32 2>&1)
	c1=$(cpu_ticks "$1")
	grep -q p50_us <<< "$out" && cpu_per "$1" cpu_rtt $((c1 - c0)) 20000 1000000
	add "$1" p50 "$(sed -n 's/.*p50_us=\([0-9.]*\).*/\1/p' <<< "$out")"
	add "$1" p99 "$(sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p' <<< "$out")"
	grep -q p50_us <<< "$out" || log "$1 rtt: $out"
}

udp() {	# target
	local port=$(( ${BASE[$1]} + 4 )) out c0 c1 rate
	c0=$(cpu_ticks "$1")
	out=$(timeout $((SECS + 15)) "$BIN/udp_rr" 127.0.0.1 "$port" "$SECS" 32 2>&1)
	c1=$(cpu_ticks "$1")
	rate=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' <<< "$out")
	[ -n "$rate" ] && cpu_per "$1" cpu_udp $((c1 - c0)) $((rate * SECS)) 1000000
	add "$1" udp "$rate"
	add "$1" udplost "$(sed -n 's/.*lost=\([0-9]*\).*/\1/p' <<< "$out")"
	add "$1" udp_p50 "$(sed -n 's/.*p50_us=\([0-9.]*\).*/\1/p' <<< "$out")"
}

want() { [[ " $METRICS " = *" $1 "* ]]; }
START=$(date +%s)
for r in $(seq "$REPEAT"); do
	for t in $TARGETS; do
		log "round $r/$REPEAT: $t"
		want bulk1 && iperf "$t" 1
		want bulk8 && iperf "$t" 8
		want conns && conns "$t"
		want rtt && rtt "$t"
		want udp && [ -n "${HAS_UDP[$t]:-}" ] && udp "$t"
	done
done
stop "$SAMPLER"

declare -A PEAK PEAK_PROCS
while read -r name kb np; do
	PEAK[$name]=$kb; PEAK_PROCS[$name]=$np
done < "$TMP/peak.txt"
for t in $TARGETS; do
	[ "$t" = direct ] && continue
	hwm=$(status_kb "${MEMROOT[$t]}" VmHWM)
	[ -n "$hwm" ] && [ "$hwm" -gt "${PEAK[$t]:-0}" ] && PEAK[$t]=$hwm
done

# ------------------------------------------- idle forwarded connections held
# Kernel memory (unreclaimable slab, kernel stacks, page tables) moves with every socket,
# pipe and process: its change while HOLD connections are held, less the
# change for HOLD direct connections, is what the forwarder adds there.
kmem_kb() {
	awk '/^(SUnreclaim|KernelStack|PageTables):/ { s += $2 } END { print s }' /proc/meminfo
}
declare -A HELD_RSS HELD_N PER_SESSION KDELTA
for t in $TARGETS; do
	[ "$HOLD" -gt 0 ] || break
	log "$t: holding $HOLD idle connections"
	[ "$t" = direct ] || read -r rss0 pss0 np0 <<< "$(tree_mem "${MEMROOT[$t]}")"
	k0=$(kmem_kb)
	bg hold-$t "$BIN/hold_conns" 127.0.0.1 $(( ${BASE[$t]} + 3 )) "$HOLD" 60
	h=$BGPID
	for i in $(seq 300); do
		grep -q held= "$TMP/hold-$t.log" && break
		kill -0 $h 2>/dev/null || break
		sleep 0.1
	done
	sleep 0.5
	k1=$(kmem_kb)
	n=$(sed -n 's/.*held=\([0-9]*\).*/\1/p' "$TMP/hold-$t.log")
	HELD_N[$t]=${n:-0}
	[ "${n:-0}" -gt 0 ] && KDELTA[$t]=$(awk -v a="$k0" -v b="$k1" -v n="$n" \
	    'BEGIN { printf "%.2f", (b - a) / n }')
	if [ "$t" != direct ]; then
		read -r rss1 pss1 np1 <<< "$(tree_mem "${MEMROOT[$t]}")"
		HELD_RSS[$t]=$rss1
		[ "${n:-0}" -gt 0 ] && PER_SESSION[$t]=$(awk -v a="$pss0" \
		    -v b="$pss1" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }')
		log "$t: $(cat "$TMP/hold-$t.log") rss $rss0 -> $rss1 kB, pss $pss0 -> $pss1 kB, procs $np0 -> $np1, kernel $k0 -> $k1 kB"
	else
		log "$t: $(cat "$TMP/hold-$t.log"), kernel $k0 -> $k1 kB"
	fi
	stop $h
	sleep 1		# let the forwarder close them
done
ELAPSED=$(( $(date +%s) - START ))

# ---------------------------------------------------------------- report
MEDIAN_DECIMALS=2
# The best round: the highest rate, the lowest latency (the round least
# disturbed by whatever else runs on the machine).
best() {
	local sort="-gr"
	case $2 in p50|p99|udp_p50|cpu_*) sort="-g" ;; esac
	tr ' ' '\n' <<< "${V["$1 $2"]:-}" | grep -E '^[0-9.]+$' | sort $sort | head -1
}
ratio() {	# value base
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a";
	    else printf "%.2f", a / b }'
}
mib() { awk -v k="$1" 'BEGIN { if (k == "") print "n/a"; else printf "%.1f", k / 1024 }'; }
cell() {	# METRIC VALUE: the value, "fail", or "-" when not measured
	if [ -n "$2" ]; then echo "$2"; elif want "$1"; then echo fail; else echo -; fi
}

ver() {
	case $1 in
	portgate|portgate-w*) "$PORTGATE" -version 2>&1 | head -1 ;;
	portgate-base) echo "portgate-base $PORTGATE_BASE_REV" ;;
	haproxy|haproxy-w*) haproxy -v 2>&1 | head -1 | awk '{ print "HAProxy " $3 }' ;;
	socat) socat -V 2>&1 | sed -n 's/^socat version \([^ ]*\).*/socat \1/p' ;;
	rinetd) rinetd -v 2>&1 | head -1 ;;
	xinetd) xinetd -version 2>&1 | head -1 | awk '{ print "xinetd " $1 }' ;;
	nginx|nginx-w*) nginx -v 2>&1 | sed 's/.*version: //' ;;
	*) echo "$1 = ${VARIANT_BIN[$1]:-?}" ;;
	esac
}

# table AGG [mem]: the results, each value aggregated over the rounds by AGG
# (best or med); with "mem", the memory columns too.
table() {
	local agg=$1 withmem=${2:-} t d1 d8 dc dp du b1 b8 c p50 p99 u added uu ur mem held procs
	if [ -n "$withmem" ]; then
		echo "| target | bulk 1 (Gbit/s) | ratio | bulk 8 (Gbit/s) | ratio | conn/s | ratio | rtt p50 (µs) | added | rtt p99 (µs) | UDP req/s | ratio | idle RSS (MiB) | peak RSS (MiB) | RSS, $HOLD held (MiB) | per session, user (KiB) | per session, kernel (KiB) |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	else
		echo "| target | bulk 1 (Gbit/s) | ratio | bulk 8 (Gbit/s) | ratio | conn/s | ratio | rtt p50 (µs) | added | rtt p99 (µs) | UDP req/s | ratio |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	fi
	d1=$($agg direct bulk1); d8=$($agg direct bulk8); dc=$($agg direct conns)
	dp=$($agg direct p50); du=$($agg direct udp)
	for t in $TARGETS; do
		b1=$($agg $t bulk1); b8=$($agg $t bulk8); c=$($agg $t conns)
		p50=$($agg $t p50); p99=$($agg $t p99); u=$($agg $t udp)
		added=$(awk -v a="$p50" -v b="$dp" 'BEGIN { if (a == "" || b == "") print "n/a"; else printf "%+.1f", a - b }')
		if [ -n "${HAS_UDP[$t]:-}" ]; then uu=$(cell udp "$u"); ur=$(ratio "$u" "$du")
		else uu="n/a"; ur="n/a"; fi
		mem=""
		if [ -z "$withmem" ]; then
			:
		elif [ $t = direct ]; then
			mem=" | - | - | - | - | -"
		else
			held="$(mib "${HELD_RSS[$t]:-}")"
			[ "$HOLD" -gt 0 ] || held=-
			[ "$HOLD" -gt 0 ] && [ "${HELD_N[$t]:-0}" != "$HOLD" ] && held+=" (${HELD_N[$t]:-0} held)"
			procs=""
			[ "${PEAK_PROCS[$t]:-1}" -gt 1 ] && procs=" (${PEAK_PROCS[$t]} procs)"
			mem=" | $(mib "${IDLE_RSS[$t]}") | $(mib "${PEAK[$t]:-}")$procs | $held | ${PER_SESSION[$t]:-n/a} | $(awk -v a="${KDELTA[$t]:-}" -v d="${KDELTA[direct]:-}" 'BEGIN { if (a == "" || d == "") print "n/a"; else printf "%.1f", a - d }')"
		fi
		echo "| $t | $(cell bulk1 "$b1") | $(ratio "$b1" "$d1") | $(cell bulk8 "$b8") | $(ratio "$b8" "$d8") | $(cell conns "$c") | $(ratio "$c" "$dc") | $(cell rtt "$p50") | $added | $(cell rtt "$p99") | $uu | $ur$mem |"
	done
}

# base_table AGG: every portgate target (but portgate-base) / portgate-base,
# metric by metric (rates: > 1 is better; rtt p50: the added latency of
# both, then its ratio, < 1 is better).
base_table() {
	local agg=$1 t m dp a b
	echo "| target / portgate-base | bulk 1 | bulk 8 | conn/s | added p50 (µs), target vs base | ratio | UDP req/s | CPU per conn | per GB, 1 stream | per GB, 8 streams | per round trip | per UDP req |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	dp=$($agg direct p50)
	for t in $TARGETS; do
		case $t in portgate-base|direct) continue ;; esac
		[[ "$t" = portgate* ]] || [ -n "${VARIANT_BIN[$t]:-}" ] || continue
		printf '| %s ' "$t"
		for m in bulk1 bulk8 conns; do
			printf '| %s ' "$(ratio "$($agg $t $m)" "$($agg portgate-base $m)")"
		done
		a=$(awk -v a="$($agg $t p50)" -v d="$dp" 'BEGIN { if (a != "" && d != "") printf "%.1f", a - d }')
		b=$(awk -v a="$($agg portgate-base p50)" -v d="$dp" 'BEGIN { if (a != "" && d != "") printf "%.1f", a - d }')
		printf '| %s vs %s | %s | %s ' "${a:-n/a}" "${b:-n/a}" "$(ratio "$a" "$b")" \
		    "$(ratio "$($agg $t udp)" "$($agg portgate-base udp)")"
		for m in cpu_conns cpu_bulk1 cpu_bulk8 cpu_rtt cpu_udp; do
			printf '| %s ' "$(ratio "$($agg $t $m)" "$($agg portgate-base $m)")"
		done
		echo "|"
	done
}

# cpu_table AGG: the forwarders' CPU time per unit of work.
cpu_table() {
	local agg=$1 t
	echo "| target | CPU µs per conn | CPU ms per GB, 1 stream | per GB, 8 streams | CPU µs per round trip | per UDP req |"
	echo "|---|---|---|---|---|---|"
	for t in $TARGETS; do
		[ $t = direct ] && continue
		echo "| $t | $($agg $t cpu_conns) | $($agg $t cpu_bulk1) | $($agg $t cpu_bulk8) | $($agg $t cpu_rtt) | $($agg $t cpu_udp) |"
	done
}

OUT=$TMP/forward.md
{
	echo "## Forwarding (bench/forward.sh${VARIANTS:+, A/B of portgate builds}${WORKERS:+, workers axis})"
	echo
	machine_md
	echo "- peers: $(for t in $TARGETS; do [ $t = direct ] || ver $t; done | awk '!seen[$0]++ { printf "%s; ", $0 }')iperf3 $(iperf3 --version | awk 'NR == 1 { print $2 }'), wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'); back ends: nginx (1 worker) for HTTP, bench/echo_server.c for echo"
	if [ -n "$WORKERS" ]; then
		echo "- workers axis ($WORKERS): portgate-wN = defaults { workers = N }, haproxy-wN = nbthread N, nginx-wN = worker_processes N; the others with one worker; logging off; measures: $METRICS; wrk threads: $WRK_THREADS"
	else
		echo "- every forwarder with one worker (haproxy nbthread 1, nginx worker_processes 1; socat and xinetd fork per connection), logging off"
	fi
	echo "- $REPEAT rounds, round-robin over the targets; first table: the best round of each (highest rate, lowest latency: the round least disturbed by other jobs on this shared machine), then the medians; iperf3 ${SECS} s (+1 s omitted) per run, wrk -t1 -c$WRK_CONNS ${SECS} s with Connection: close, rtt 20000 x 32 B, udp_rr ${SECS} s; $ELAPSED s in all"
	echo
	table best mem
	echo
	[ "$HOLD" -gt 0 ] || echo "RSS is VmRSS (summed over the process tree; peak: the largest of VmHWM and the RSS sampled every 0.2 s during the load); HOLD=0: no connections held."
	[ "$HOLD" -gt 0 ] && echo "RSS is VmRSS (summed over the process tree for forking forwarders; socat: the echo listener's tree); peak is the largest of VmHWM and the RSS sampled every 0.2 s during the load; per session = (PSS with $HOLD idle forwarded connections − PSS before) / connections held, the user-space memory of the forwarder; kernel per session = (change of SUnreclaim + KernelStack + PageTables in /proc/meminfo while $HOLD connections are held through the forwarder − the same for $HOLD direct connections) / $HOLD: the forwarder's two sockets, its pipes, its processes (noisy, ±1 KiB)."
	echo
	echo "Medians of the $REPEAT rounds (the machine is shared, so these move with the other jobs' load):"
	echo
	table med
	echo
	if [ -n "$PORTGATE_BASE$WORKERS" ]; then
		echo "CPU time (user + system) of each forwarder's processes per unit of work, medians (less moved by other jobs than the rates; the forwarder's own time only, not the softirq time charged to the client and the back end):"
		echo
		cpu_table med
		echo
	fi
	if [[ " $TARGETS " = *" portgate-base "* ]]; then
		echo "portgate / portgate-base ($PORTGATE_REV / $PORTGATE_BASE_REV), rates > 1 and CPU < 1 are better; best rounds:"
		echo
		base_table best
		echo
		echo "The same, medians:"
		echo
		base_table med
		echo
	fi
	echo "Raw values (all rounds):"
	echo
	echo '```'
	w=$(for t in $TARGETS; do echo "$t"; done | awk '{ if (length($0) > w) w = length($0) } END { print (w > 9 ? w : 9) }')
	for t in $TARGETS; do
		for m in bulk1 bulk8 conns p50 p99 udp udplost udp_p50 \
		    $([ -n "$PORTGATE_BASE$WORKERS" ] && echo cpu_conns cpu_bulk1 cpu_bulk8 cpu_rtt cpu_udp); do
			[ -n "${V["$t $m"]:-}" ] && printf '%-*s %-8s %s\n' "$w" "$t" "$m" "${V["$t $m"]# }"
		done
	done
	echo '```'
} > "$OUT"
cat "$OUT"
# An A/B run (VARIANTS) has its own section and leaves "forward" alone.
section=forward
[ -n "$WORKERS" ] && section=forward-workers
[ -n "${VARIANTS:-}" ] && section=forward-ab
update_results "$section" "$OUT"
log "written to bench/RESULTS.md"
