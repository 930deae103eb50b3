#!/bin/bash
# TLS termination benchmark: portgate (tls = yes, redirect) against stunnel4,
# haproxy (mode tcp, bind ... ssl crt) and nginx stream (listen ... ssl,
# proxy_pass), all in front of the same plain-text back ends, and nginx
# terminating TLS itself (http ssl serving the file: the reference, 1.00),
# all on loopback, in one run:
#   full	handshakes per second: new connection, full TLS handshake, GET
#		of a tiny file (nginx back end, HTTP/1.0), read to EOF, close
#		(bench/tls_client.c, THREADS client threads, no session offered)
#   resume	the same, each client thread offering the session ticket of its
#		previous connection (TLS 1.3 PSK with (EC)DHE, OpenSSL's default)
#   bulk	MiB/s of a TLS echo: one connection sends BULK_MIB MiB in 16 KiB
#		writes, at most 256 KiB in flight, and reads it back
#		(bench/echo_server.c behind the terminator; reference: nginx stream)
#   wrk		requests/s of wrk -t1 -cWRK_CONNS with "Connection: close"
#		against the same file: a new connection per request, and wrk
#		keeps the TLS session of a connection for the next one (it
#		calls SSL_shutdown() then SSL_clear(), which keeps the session
#		only after a clean close: a resumption pattern of its own)
#   CPU		the terminator's user+system time per handshake / per MiB
#		(its process tree, /proc/PID/stat), less noisy than the rates on
#		a shared machine
# Certificates: ECDSA P-256, self-signed, made in the temp dir (never kept).
# Each terminator runs in the foreground with one worker (stunnel: one
# process, a thread per connection); all run at once, idle when not
# measured, and the measurements go round-robin over them REPEAT times.
# Prints a Markdown table of ratios to nginx and puts it in bench/RESULTS.md
# (section "tls").
#
# Environment: PORTGATE (binary, default src/portgate), PORTGATE_REV,
# PG_WORKERS (workers = N for the tree's portgate; default: auto),
# BEFORE (another portgate binary, measured beside as "before"), BEFORE_REV,
# REPEAT (3), SECS (seconds per handshake run, 3), THREADS (client threads,
# 2), BULK_MIB (512), MAXCONNS (per run, 100000), WRK_CONNS (32), METRICS
# (what to measure, default "full resume bulk wrk"), TARGETS (default: all of
# portgate portgate-nodelay stunnel haproxy nginx-stream nginx-https
# installed), PEER_WORKERS (1: haproxy's nbthread and the worker_processes
# of nginx stream and of the nginx-https reference; the back ends keep
# one; run with PG_WORKERS equal to it for equal cores), TLS_MAX=1.2
# (the client offers TLS 1.2 at most), RESULTS_SECTION (tls: the section of
# bench/RESULTS.md written), PORT_OFFSET (0: ports 28000-28899),
# KEEP_TMP=1 keeps the temp dir.
set -u
. "$(dirname "$0")/lib.sh"

REPEAT=${REPEAT:-3}
SECS=${SECS:-3}
THREADS=${THREADS:-2}
BULK_MIB=${BULK_MIB:-512}
MAXCONNS=${MAXCONNS:-100000}
WRK_CONNS=${WRK_CONNS:-32}
METRICS=${METRICS:-full resume bulk wrk}
NGINX_STREAM_MOD=/usr/lib/nginx/modules/ngx_stream_module.so
export TLS_MAX=${TLS_MAX:-}

need_portgate
for c in nginx gcc openssl python3 ss $([[ " $METRICS " = *" wrk "* ]] && echo wrk); do
	command -v $c >/dev/null || die "$c missing: run bench/install-peers.sh"
done

# Port blocks: +2 http (to the nginx back end), +3 echo.
declare -A BASE=([back]=28000 [portgate]=28100 [stunnel]=28200
    [haproxy]=28300 [nginx-stream]=28400 [nginx-https]=28500
    [portgate-nodelay]=28600 [before]=28700 [portgate-nolibwrap]=28800)
declare -A HAS_ECHO=([portgate]=1 [stunnel]=1 [haproxy]=1 [nginx-stream]=1
    [portgate-nodelay]=1 [before]=1 [portgate-nolibwrap]=1)
if [ -z "${TARGETS:-}" ]; then
	TARGETS="portgate portgate-nodelay"
	command -v stunnel4 >/dev/null && TARGETS+=" stunnel"
	command -v haproxy >/dev/null && TARGETS+=" haproxy"
	[ -f $NGINX_STREAM_MOD ] && TARGETS+=" nginx-stream"
	TARGETS+=" nginx-https"
fi
# BEFORE=/path/to/portgate: another build beside, as target "before".
[ -n "${BEFORE:-}" ] && [[ " $TARGETS " != *" before "* ]] &&
    TARGETS="before $TARGETS"
BEFORE_REV=${BEFORE_REV:-${BEFORE:-}}
# PORT_OFFSET moves every port (another benchmark of the same ports).
for t in "${!BASE[@]}"; do BASE[$t]=$(( ${BASE[$t]} + ${PORT_OFFSET:-0} )); done
B=${BASE[back]}

build_tools echo_server
gcc -O2 -Wall -o "$BIN/tls_client" "$BENCH/tls_client.c" -lssl -lcrypto \
    -lpthread || die "cannot compile bench/tls_client.c (libssl-dev?)"

# ---------------------------------------------------------------- certificate
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 2 -subj /CN=localhost -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
    2>/dev/null || die "cannot make the certificate"
cat "$TMP/cert.pem" "$TMP/key.pem" > "$TMP/both.pem"
chmod 600 "$TMP/key.pem" "$TMP/both.pem"
CERT=$TMP/cert.pem KEY=$TMP/key.pem

# ---------------------------------------------------------------- back ends
log "back ends: echo tcp :$((B + 3)), nginx http :$((B + 2))"
bg echo "$BIN/echo_server" -t $((B + 3)) -T 3600
wait_port $((B + 3)) tcp $BGPID || die "echo_server did not start"

mkdir -p "$TMP/www"
printf 'portgate bench: a small file served by nginx\n' > "$TMP/www/t.txt"

# nginx_conf NAME [WORKERS]: the common head of an nginx configuration in
# $TMP/NAME, with WORKERS worker processes (1).
nginx_conf() {
	mkdir -p "$TMP/$1"
	cat <<EOF
user root;
worker_processes ${2:-1};
worker_rlimit_nofile 65536;
daemon off;
pid $TMP/$1/nginx.pid;
error_log $TMP/$1/error.log crit;
events { worker_connections 16384; }
EOF
}
http_block() {	# NAME LISTEN-LINE
	cat <<EOF
http {
	access_log off;
	client_body_temp_path $TMP/$1/body;
	proxy_temp_path $TMP/$1/proxy;
	fastcgi_temp_path $TMP/$1/fastcgi;
	uwsgi_temp_path $TMP/$1/uwsgi;
	scgi_temp_path $TMP/$1/scgi;
	server {
		$2
		root $TMP/www;
		location / { }
	}
}
EOF
}
{ nginx_conf ngx-back; http_block ngx-back \
    "listen 127.0.0.1:$((B + 2)) backlog=4096;"; } > "$TMP/ngx-back.conf"
bg ngx-back nginx -p "$TMP/ngx-back" -c "$TMP/ngx-back.conf"
wait_port $((B + 2)) tcp $BGPID || die "nginx back end did not start"

# ---------------------------------------------------------------- terminators
declare -A ROOTS	# target -> pid of the process tree to account

start_portgate() {	# [NAME [FLAGS]]
	local name=${1:-portgate} flags=${2:-} b n svc=(x x http echo)
	local conf=$TMP/$name.conf
	b=${BASE[$name]}
	cat > "$conf" <<EOF
defaults
{
	log_type	= FILE $TMP/$name-access.log
	log_on_success	=
	log_on_failure	=
	instances	= UNLIMITED
	cps		= 1000000 1
}
EOF
	# PG_WORKERS=N: the tree's portgate with N workers (not the base build,
	# which has no such attribute).
	if [ -n "${PG_WORKERS:-}" ] && [ "$name" != portgate-base ]; then
		printf 'defaults\n{\n\tworkers\t= %s\n}\n' "$PG_WORKERS" \
		    >> "$conf"
	fi
	for n in 2 3; do
		cat >> "$conf" <<EOF

service tls-${svc[$n]}
{
	type		= UNLISTED
	socket_type	= stream
	wait		= no
	bind		= 127.0.0.1
	port		= $((b + n))
	redirect	= 127.0.0.1 $((B + n))
	tls		= yes
	tls_cert	= $CERT
	tls_key		= $KEY
	$flags
}
EOF
	done
	bg "$name" "${PG_BIN:-$PORTGATE}" -dontfork -f "$conf" -pidfile "$TMP/$name.pid"
	ROOTS[$name]=$BGPID
	wait_port $((b + 3)) tcp $BGPID
}

# The same with TCP_NODELAY on the client side (xinetd's flags = NODELAY):
# the plain relay sets it on every client socket, the TLS path does not.
start_portgate-nodelay() {
	start_portgate portgate-nodelay "flags		= NODELAY"
}

start_before() {
	[ -x "${BEFORE:-}" ] || { log "BEFORE=${BEFORE:-}: no such program"; return 1; }
	PG_BIN=$BEFORE start_portgate before
}

# Without the /etc/hosts.allow and hosts.deny look-up (flags = NOLIBWRAP),
# which the peers do not make: two files read per connection.
start_portgate-nolibwrap() {
	start_portgate portgate-nolibwrap "flags		= NOLIBWRAP"
}

start_stunnel() {
	local b=${BASE[stunnel]} n svc=(x x http echo)
	cat > "$TMP/stunnel.conf" <<EOF
foreground = yes
pid = $TMP/stunnel.pid
debug = 3
output = $TMP/stunnel.out
EOF
	for n in 2 3; do
		cat >> "$TMP/stunnel.conf" <<EOF
[${svc[$n]}]
accept = 127.0.0.1:$((b + n))
connect = 127.0.0.1:$((B + n))
cert = $CERT
key = $KEY
EOF
	done
	bg stunnel stunnel4 "$TMP/stunnel.conf"
	ROOTS[stunnel]=$BGPID
	wait_port $((b + 3)) tcp $BGPID
}

start_haproxy() {
	local b=${BASE[haproxy]} n
	cat > "$TMP/haproxy.cfg" <<EOF
global
	maxconn 8000
	nbthread ${PEER_WORKERS:-1}
defaults
	mode tcp
	timeout connect 5s
	timeout client 60s
	timeout server 60s
EOF
	for n in 2 3; do
		printf 'listen l%d\n\tbind 127.0.0.1:%d ssl crt %s\n\tserver s 127.0.0.1:%d\n' \
		    $n $((b + n)) "$TMP/both.pem" $((B + n)) >> "$TMP/haproxy.cfg"
	done
	bg haproxy haproxy -db -f "$TMP/haproxy.cfg"
	ROOTS[haproxy]=$BGPID
	wait_port $((b + 3)) tcp $BGPID
}

start_nginx-stream() {
	local b=${BASE[nginx-stream]} n
	{
		echo "load_module $NGINX_STREAM_MOD;"
		nginx_conf ngx-stream "${PEER_WORKERS:-1}"
		echo "stream {"
		for n in 2 3; do
			printf '\tserver { listen 127.0.0.1:%d ssl backlog=4096; ssl_protocols TLSv1.2 TLSv1.3; ssl_certificate %s; ssl_certificate_key %s; proxy_pass 127.0.0.1:%d; }\n' \
			    $((b + n)) "$CERT" "$KEY" $((B + n))
		done
		echo "}"
	} > "$TMP/ngx-stream.conf"
	bg nginx-stream nginx -p "$TMP/ngx-stream" -c "$TMP/ngx-stream.conf"
	ROOTS[nginx-stream]=$BGPID
	wait_port $((b + 3)) tcp $BGPID
}

start_nginx-https() {
	local b=${BASE[nginx-https]}
	{ nginx_conf ngx-https "${PEER_WORKERS:-1}"; http_block ngx-https \
	    "listen 127.0.0.1:$((b + 2)) ssl backlog=4096; ssl_protocols TLSv1.2 TLSv1.3; ssl_certificate $CERT; ssl_certificate_key $KEY;"
	} > "$TMP/ngx-https.conf"
	bg nginx-https nginx -p "$TMP/ngx-https" -c "$TMP/ngx-https.conf"
	ROOTS[nginx-https]=$BGPID
	wait_port $((b + 2)) tcp $BGPID
}

# portgate-base: PORTGATE_BASE=/path/to/portgate (bench/baseline.sh COMMIT
# DIR builds one) measured alongside with portgate's configuration;
# base_ratios prints portgate / portgate-base for every metric measured.
if [ -n "$PORTGATE_BASE" ]; then
	BASE[portgate-base]=28700; HAS_ECHO[portgate-base]=1
	[[ " $TARGETS " = *" portgate-base "* ]] || TARGETS+=" portgate-base"
	start_portgate-base() { PORTGATE=$PORTGATE_BASE start_portgate portgate-base; }
fi
base_ratios() {
	local m agg out
	[ -n "$PORTGATE_BASE" ] || return 0
	for agg in med best; do
		out=""
		for m in full resume bulk wrk cpu_full cpu_resume cpu_bulk cpu_wrk; do
			[ -n "${V["portgate $m"]:-}" ] || continue
			out+=" $m $(ratio "$($agg portgate $m)" "$($agg portgate-base $m)"),"
		done
		echo "portgate / portgate-base ($PORTGATE_REV / $PORTGATE_BASE_REV), $agg:${out%,} (cpu_*: < 1 is better)."
		echo
	done
}

OK_TARGETS=""
for t in $TARGETS; do
	log "starting $t"
	if "start_$t"; then
		OK_TARGETS+=" $t"
	else
		log "$t did not start; see below, skipped"
		tail -5 "$TMP"/$t*.log "$TMP/stunnel.out" 2>/dev/null >&2
	fi
done
TARGETS=${OK_TARGETS# }
sleep 0.5

# ---------------------------------------------------------------- measures
declare -A INFO	# target -> protocol and cipher negotiated


# CPU ticks (user + system) of the process tree of the target.
cpu_ticks() {
	local p s=0 t
	for p in $(tree_pids "${ROOTS[$1]}"); do
		t=$(awk '{ print $14 + $15 }' /proc/"$p"/stat 2>/dev/null)
		s=$((s + ${t:-0}))
	done
	echo $s
}
HZ=$(getconf CLK_TCK)
per_unit_us() {	# ticks units
	awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN { if (n > 0)
	    printf "%.0f", t * 1e6 / hz / n; else print "fail" }'
}

hs() {	# target full|resume
	local port=$(( ${BASE[$1]} + 2 )) out c0 c1 n
	c0=$(cpu_ticks "$1")
	out=$(timeout $((SECS + 30)) "$BIN/tls_client" hs 127.0.0.1 "$port" \
	    "$SECS" "$MAXCONNS" "$THREADS" http "$2" 2>&1)
	c1=$(cpu_ticks "$1")
	n=$(sed -n 's/.*conns=\([0-9]*\).*/\1/p' <<< "$out")
	add "$1" "$2" "$(sed -n 's/.* rate=\([0-9]*\).*/\1/p' <<< "$out")"
	add "$1" "cpu_$2" "$(per_unit_us $((c1 - c0)) "${n:-0}")"
	if [ "$2" = resume ]; then
		add "$1" resumed "$(awk -v o="$out" 'BEGIN {
		    match(o, /conns=[0-9]+/); c = substr(o, RSTART + 6, RLENGTH - 6)
		    match(o, /resumed=[0-9]+/); r = substr(o, RSTART + 8, RLENGTH - 8)
		    if (c > 0) printf "%.0f", 100 * r / c; else print "fail" }')"
	fi
	grep -q 'fails=0 ' <<< "$out" || log "$1 $2: $out"
	[ -n "${INFO[$1]:-}" ] || INFO[$1]=$(sed -n 's/.*proto=\([^ ]*\) cipher=\(.*\)/\1 \2/p' <<< "$out")
}

bulk() {	# target
	local port=$(( ${BASE[$1]} + 3 )) out c0 c1 mb
	c0=$(cpu_ticks "$1")
	out=$(timeout 60 "$BIN/tls_client" bulk 127.0.0.1 "$port" "$BULK_MIB" \
	    10 1 2>&1)
	c1=$(cpu_ticks "$1")
	mb=$(sed -n 's/^mib=\([0-9.]*\).*/\1/p' <<< "$out")
	add "$1" bulk "$(sed -n 's/.*mibps=\([0-9.]*\).*/\1/p' <<< "$out")"
	add "$1" cpu_bulk "$(per_unit_us $((c1 - c0)) "${mb%.*}")"
	grep -q 'fails=0 ' <<< "$out" || log "$1 bulk: $out"
}

wrkrun() {	# target
	local port=$(( ${BASE[$1]} + 2 )) out c0 c1 n rps errs
	c0=$(cpu_ticks "$1")
	out=$(timeout $((SECS + 15)) wrk -t1 -c"$WRK_CONNS" -d"${SECS}s" \
	    -H 'Connection: close' "https://127.0.0.1:$port/t.txt" 2>&1)
	c1=$(cpu_ticks "$1")
	rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<< "$out")
	n=$(awk '/requests in/ { print $1 }' <<< "$out")
	errs=$(awk '/Socket errors|Non-2xx/ { print }' <<< "$out" | tr -s ' ' | tr '\n' ';')
	[ -n "$errs" ] && log "$1 wrk: $errs"
	add "$1" wrk "${rps:-fail}"
	add "$1" cpu_wrk "$(per_unit_us $((c1 - c0)) "${n:-0}")"
}

has() { [[ " $METRICS " = *" $1 "* ]]; }

START=$(date +%s)
for r in $(seq "$REPEAT"); do
	for t in $TARGETS; do
		log "round $r/$REPEAT: $t"
		has full && hs "$t" full
		has resume && hs "$t" resume
		has bulk && [ -n "${HAS_ECHO[$t]:-}" ] && bulk "$t"
		has wrk && wrkrun "$t"
	done
done
declare -A IDLE_RSS PEAK_RSS
for t in $TARGETS; do
	read -r rss pss np <<< "$(tree_mem "${ROOTS[$t]}")"
	IDLE_RSS[$t]=$rss
done
ELAPSED=$(( $(date +%s) - START ))

# ---------------------------------------------------------------- report
MEDIAN_DECIMALS=1
best() {
	local sort="-gr"
	case $2 in cpu_*) sort="-g" ;; esac
	tr ' ' '\n' <<< "${V["$1 $2"]:-}" | grep -E '^[0-9.]+$' | sort $sort | head -1
}
ratio() {	# value base
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a";
	    else printf "%.2f", a / b }'
}
ver() {
	case $1 in
	portgate*) "$PORTGATE" -version 2>&1 | head -1 ;;
	before) "$BEFORE" -version 2>&1 | head -1 ;;
	stunnel) stunnel4 -version 2>&1 | grep -m1 '^stunnel' | awk '{ print "stunnel " $2 }' ;;
	haproxy) haproxy -v 2>&1 | head -1 | awk '{ print "HAProxy " $3 }' ;;
	nginx*) nginx -v 2>&1 | sed 's/.*version: //' ;;
	esac
}
label() {
	case $1 in
	nginx-https) echo "nginx http ssl (serves the file itself)" ;;
	nginx-stream) echo "nginx stream ssl" ;;
	portgate-nodelay) echo "portgate, flags = NODELAY" ;;
	before) echo "portgate before ($BEFORE_REV)" ;;
	portgate-nolibwrap) echo "portgate, flags = NOLIBWRAP" ;;
	*) echo "$1" ;;
	esac
}

REF=nginx-https
[[ " $TARGETS " = *" $REF "* ]] || REF=${TARGETS%% *}
BREF=nginx-stream
[[ " $TARGETS " = *" $BREF "* ]] || BREF=portgate

table() {	# AGG
	local agg=$1 t f r b rf rr rb w
	if [ "$METRICS" = wrk ]; then
		echo "| target | wrk requests/s | ratio | CPU µs per request |"
		echo "|---|---|---|---|"
		rw=$($agg $REF wrk)
		for t in $TARGETS; do
			w=$($agg $t wrk)
			printf '| %s | %s | %s | %s |\n' "$(label $t)" \
			    "${w:-fail}" "$(ratio "$w" "$rw")" "$($agg $t cpu_wrk)"
		done
		return
	fi
	echo "| target | full handshakes/s | ratio | resumed handshakes/s | ratio | resumed/full | resumed (%) | bulk (MiB/s) | ratio | wrk requests/s | ratio | CPU µs per full handshake | per resumed | per wrk request | CPU µs per MiB |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	rf=$($agg $REF full); rr=$($agg $REF resume); rb=$($agg $BREF bulk)
	rw=$($agg $REF wrk)
	for t in $TARGETS; do
		f=$($agg $t full); r=$($agg $t resume); b=$($agg $t bulk)
		w=$($agg $t wrk)
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		    "$(label $t)" "${f:-n/a}" "$(ratio "$f" "$rf")" \
		    "${r:-n/a}" "$(ratio "$r" "$rr")" "$(ratio "$r" "$f")" \
		    "$(med $t resumed)" "${b:-n/a}" "$(ratio "$b" "$rb")" \
		    "${w:-n/a}" "$(ratio "$w" "$rw")" \
		    "$($agg $t cpu_full)" "$($agg $t cpu_resume)" \
		    "$($agg $t cpu_wrk)" "$($agg $t cpu_bulk)"
	done
}

OUT=$TMP/results.md
{
	echo "## TLS termination (bench/tls.sh)"
	echo
	machine_md
	echo "- $(openssl version); every terminator linked to the system libssl3; $(for t in $TARGETS; do printf '%s: %s; ' "$t" "$(ver $t)"; done | sed 's/; $//')"
	echo "- negotiated: $(for t in $TARGETS; do printf '%s %s; ' "$t" "${INFO[$t]:-?}"; done | sed 's/; $//'); ECDSA P-256 self-signed certificate, not verified by the client"
	echo "- bench/tls_client.c, $THREADS client threads, one connection at a time each, ${SECS} s per run; full: no session offered; resume: each thread offers its previous connection's ticket; request: HTTP/1.0 GET of a 46-byte file, read to EOF (the terminators relay it from an nginx back end, nginx http ssl serves it itself); bulk: one connection, $BULK_MIB MiB echoed through bench/echo_server.c, 256 KiB in flight; wrk: wrk -t1 -c$WRK_CONNS -H 'Connection: close' for ${SECS} s, the same file (wrk reuses a connection's TLS session for the next one); measured: $METRICS"
	echo "- workers: portgate ${PG_WORKERS:-auto}, haproxy nbthread ${PEER_WORKERS:-1}, nginx stream and nginx-https worker_processes ${PEER_WORKERS:-1} (back ends 1; stunnel: one process, a thread per connection); $REPEAT rounds round-robin; ${ELAPSED} s in all"
	echo "- ratios: handshakes and wrk to nginx http ssl ($REF, 1.00), bulk to nginx stream ssl ($BREF, 1.00); CPU: the terminator's user+system time (its process tree) over the run, divided by the connections or MiB (the back end, the client and softirq time charged to other processes are not in it)"
	echo
	echo "Medians of the $REPEAT rounds:"
	echo
	table med
	echo
	echo "Best round of each (highest rate, lowest CPU):"
	echo
	table best
	echo
	echo "Idle RSS after the run (MiB): $(for t in $TARGETS; do printf '%s %.1f; ' "$t" "$(awk -v k="${IDLE_RSS[$t]:-0}" 'BEGIN { print k / 1024 }')"; done | sed 's/; $//')"
	echo
	base_ratios
	echo "Raw values (all rounds):"
	echo
	echo '```'
	for t in $TARGETS; do
		for m in full resume resumed bulk wrk cpu_full cpu_resume cpu_bulk cpu_wrk; do
			[ -n "${V["$t $m"]:-}" ] && printf '%-13s %-10s %s\n' "$t" "$m" "${V["$t $m"]# }"
		done
	done
	echo '```'
} > "$OUT"
cat "$OUT"
update_results "${RESULTS_SECTION:-tls}" "$OUT"
log "results in bench/RESULTS.md (section ${RESULTS_SECTION:-tls})"
