#!/bin/bash
# Profile portgate under one load of the benchmarks, with perf (cpu-clock
# samples of the portgate process, user and kernel, call graphs) and a
# syscall count (strace -c, on a separate, shorter run: strace slows it).
# Writes bench/profiles/SCENARIO.txt and prints it.
#
# usage: bench/profile.sh [bulk|rtt|udp|conn|spawn|flood]...   (default: all)
#   bulk	iperf3 -P 1 through a TCP redirect
#   rtt		bench/rtt.c 32-byte echoes through a TCP redirect
#   udp		bench/udp_rr.c through a UDP redirect
#   conn	wrk Connection: close through a TCP redirect to nginx
#   conn_haproxy  the same through haproxy (mode tcp, nbthread 1), for
#		comparison (not in the default list); both print the CPU time
#		per connection (user and kernel) and the system calls per
#		accepted connection of the forwarder
#   spawn	bench/conn_rate.c against a spawned bench/tiny_server
#		(system-wide profile: the children's time is most of it)
#   spawn_xinetd  the same under xinetd, same configuration (for comparison;
#		not in the default list)
#   flood	bench/gate.sh's full-speed flood of refused clients plus the
#		admitted client, 10,000 only_from rules
# portgate runs with WORKERS workers (default 1); perf and strace follow
# all its processes (the master and the workers).
# Environment: PORTGATE (build it with -g; -fno-omit-frame-pointer gives
# better user-space call graphs), SECS (5), WORKERS (1), KEEP_TMP=1.
set -u
. "$(dirname "$0")/lib.sh"

SECS=${SECS:-5}
WORKERS=${WORKERS:-1}
OUTDIR=$BENCH/profiles
mkdir -p "$OUTDIR"
need_portgate
command -v perf >/dev/null || die "perf missing (linux-perf)"
build_tools echo_server rtt udp_rr conn_rate tiny_server
SCEN=${*:-bulk rtt udp conn spawn flood}
B=21000

defaults_conf() {
	cat <<EOF
defaults
{
	log_type	= FILE $TMP/access.log
	log_on_success	=
	log_on_failure	=
	instances	= UNLIMITED
	cps		= 0 1
	workers		= $WORKERS
}
EOF
}

fwd_conf() {	# PORT TARGETPORT [dgram]
	local st=stream w=no
	[ "${3:-}" = dgram ] && { st=dgram; w=yes; }
	cat <<EOF

service fwd-$1
{
	type		= UNLISTED
	socket_type	= $st
	wait		= $w
	bind		= 127.0.0.1
	port		= $1
	redirect	= 127.0.0.1 $2
}
EOF
}

# A copy of the binary under its own name, so that its processes stand out
# in a system-wide profile from any other portgate running on the machine
# (a test suite, say).
PGCOPY=$BIN/portgate-bench
cp "$PORTGATE" "$PGCOPY"

start_pg() {	# CONF
	rm -f "$TMP/pg.pid"
	bg portgate "$PGCOPY" -dontfork -f "$1" -pidfile "$TMP/pg.pid"
	PG=$BGPID
	wait_file "$TMP/pg.pid" $PG || { cat "$TMP/portgate.log" >&2; die "portgate did not start"; }
}

# load_bg SECONDS: start the load of scenario $S for SECONDS; sets LOAD.
load_bg() {
	local s=$1
	case $S in
	bulk) bg load timeout $((s + 10)) iperf3 -c 127.0.0.1 -p 22101 -t "$s" ;;
	rtt) bg load "$BIN/rtt" 127.0.0.1 22103 $((s * 25000)) 32 ;;
	udp) bg load "$BIN/udp_rr" 127.0.0.1 22104 "$s" 32 ;;
	conn|conn_haproxy) bg load timeout $((s + 10)) wrk -t1 -c32 -d"${s}s" -H 'Connection: close' \
	    http://127.0.0.1:22102/t.txt ;;
	spawn|spawn_xinetd) bg load "$BIN/conn_rate" -c 16 -t "$s" 127.0.0.1 22105 ;;
	flood) bg load bash -c "'$BIN/conn_rate' -b 127.0.0.2 -c 64 -t $s 127.0.0.1 22106 & \
	    '$BIN/conn_rate' -b 127.0.0.3 -c 16 -t $s 127.0.0.1 22106; wait" ;;
	esac
	LOAD=$BGPID
}

setup() {
	local conf=$TMP/$S.conf
	defaults_conf > "$conf"
	case $S in
	bulk)
		bg iperf3-srv iperf3 -s -p $((B + 1))
		wait_port $((B + 1)) tcp $BGPID
		fwd_conf 22101 $((B + 1)) >> "$conf" ;;
	rtt)
		bg echo "$BIN/echo_server" -t $((B + 3)) -T 600
		wait_port $((B + 3)) tcp $BGPID
		fwd_conf 22103 $((B + 3)) >> "$conf" ;;
	udp)
		bg echo "$BIN/echo_server" -u $((B + 4)) -T 600
		wait_port $((B + 4)) udp $BGPID
		fwd_conf 22104 $((B + 4)) dgram >> "$conf" ;;
	conn|conn_haproxy)
		mkdir -p "$TMP/www" "$TMP/ngx"
		echo 'portgate bench: a small file served by nginx' > "$TMP/www/t.txt"
		cat > "$TMP/ngx/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
pid $TMP/ngx/nginx.pid;
error_log $TMP/ngx/error.log warn;
events { worker_connections 16384; }
http {
	access_log off;
	server { listen 127.0.0.1:$((B + 2)) backlog=4096; root $TMP/www; location / { } }
}
EOF
		bg nginx nginx -p "$TMP/ngx" -c "$TMP/ngx/nginx.conf"
		wait_port $((B + 2)) tcp $BGPID
		fwd_conf 22102 $((B + 2)) >> "$conf" ;;
	spawn|spawn_xinetd)
		cat >> "$conf" <<EOF

service tiny
{
	type		= UNLISTED
	socket_type	= stream
	wait		= no
	user		= nobody
	bind		= 127.0.0.1
	port		= 22105
	server		= $BIN/tiny_server
}
EOF
		;;
	flood)
		{
			cat <<EOF

service daytime
{
	type		= INTERNAL UNLISTED
	socket_type	= stream
	wait		= no
	bind		= 127.0.0.1
	port		= 22106
	only_from	= 127.0.0.0/8
	no_access	= 127.0.0.2
EOF
			awk 'BEGIN { srand(20240601)
				for (i = 0; i < 10000; ) { a = int(rand() * 223) + 1
				if (a == 127) continue
				printf "%s%d.%d.%d.0/24", (i % 50 ? " " : "\tonly_from += "), a,
				    int(rand() * 256), int(rand() * 256)
				if (++i % 50 == 0) printf "\n" } }'
			echo "}"
		} >> "$conf" ;;
	esac
	if [ $S = conn_haproxy ]; then
		cat > "$TMP/haproxy.cfg" <<EOF
global
	maxconn 8000
	nbthread 1
defaults
	mode tcp
	timeout connect 5s
	timeout client 60s
	timeout server 60s
listen l
	bind 127.0.0.1:22102
	server s 127.0.0.1:$((B + 2))
EOF
		bg haproxy haproxy -db -f "$TMP/haproxy.cfg"
		PG=$BGPID
		wait_port 22102 tcp $PG || die "haproxy did not start"
	elif [ $S = spawn_xinetd ]; then
		sed -i 's/^\tcps\t\t= 0 1/\tcps\t\t= 1000000 1/' "$conf"
		bg xinetd xinetd -dontfork -f "$conf" -pidfile "$TMP/xinetd.pid"
		PG=$BGPID
		wait_port 22105 tcp $PG || die "xinetd did not start"
	else
		start_pg "$conf"
	fi
}

for S in $SCEN; do
	log "profile: $S"
	PIDS_BEFORE=("${PIDS[@]}")
	setup
	OUT=$OUTDIR/$S.txt
	# 1. perf, on portgate (system-wide for spawn: the children count)
	load_bg $((SECS + 2))
	sleep 1
	if [ $S = spawn ] || [ $S = spawn_xinetd ]; then
		perf record -q -F 1999 -g -a -o "$TMP/$S.data" -- sleep "$SECS" >/dev/null 2>&1
	else
		perf record -q -F 1999 -g -p "$(tree_pids "$PG" | paste -sd,)" \
		    -o "$TMP/$S.data" -- sleep "$SECS" >/dev/null 2>&1
	fi
	wait "$LOAD" 2>/dev/null; stop "$LOAD"
	{
		echo "# portgate profile: $S ($PORTGATE_REV), $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo "# load: $(head -c 300 "$TMP/load.log" | tr '\n' ' ')"
		echo
		if [ $S = spawn ] || [ $S = spawn_xinetd ]; then
			D=portgate-bench; [ $S = spawn_xinetd ] && D=xinetd
			echo "## CPU by process (system-wide)"
			perf report -i "$TMP/$S.data" --no-children --sort comm --stdio -g none 2>/dev/null |
			    grep -v '^#' | grep -v '^$' | head -12
			echo
			cps=$(sed -n 's/.*cps=\([0-9]*\).*/\1/p' "$TMP/load.log")
			echo "## CPU time per connection (${cps:-?} conn/s; 1999 Hz samples over $SECS s)"
			perf report -i "$TMP/$S.data" --no-children --sort comm --stdio -g none -n 2>/dev/null |
			    grep -v '^#' | grep -v '^$' | awk -v c="${cps:-0}" -v s="$SECS" \
			    '$3 == "'$D'" || $3 == "tiny_server" || $3 == "conn_rate" {
				if (c > 0) printf "    %-16s %6.0f µs\n", $3, $2 / 1999 / (c * s) * 1e6 }'
			echo
			echo "## $D: where its time goes (with children)"
			perf report -i "$TMP/$S.data" --children --comm $D --sort sym --stdio -g none \
			    --percent-limit 2 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40
			echo
			echo "## $D process (parent and forked children before exec): top symbols"
			perf report -i "$TMP/$S.data" --no-children --comm $D --sort dso,sym \
			    --stdio -g none --percent-limit 0.7 2>/dev/null | grep -v '^#' | grep -v '^$' | head -45
			echo
			echo "## tiny_server (after exec): top symbols"
			perf report -i "$TMP/$S.data" --no-children --comm tiny_server --sort dso,sym \
			    --stdio -g none --percent-limit 1 2>/dev/null | grep -v '^#' | grep -v '^$' | head -25
		else
			echo "## self time by DSO"
			perf report -i "$TMP/$S.data" --no-children --sort dso --stdio -g none \
			    2>/dev/null | grep -v '^#' | grep -v '^$' | head -8
			echo
			echo "## kernel time by system call and fault (with children)"
			perf report -i "$TMP/$S.data" --children --sort sym --stdio -g none \
			    2>/dev/null | grep -E '\[k\] (__x64_sys_|asm_exc_page_fault|ret_from_fork)' |
			    head -15
			echo
			echo "## self time by symbol (in a VM without a PMU, cpu-clock samples pile up"
			echo "## where interrupts are re-enabled: _raw_spin_unlock_irqrestore, finish_task_switch)"
			perf report -i "$TMP/$S.data" --no-children --sort dso,sym --stdio -g none \
			    --percent-limit 0.7 2>/dev/null | grep -v '^#' | grep -v '^$' | head -50
			echo
			echo "## portgate's own functions, with children"
			perf report -i "$TMP/$S.data" --children --sort dso,sym --stdio -g none \
			    2>/dev/null | grep 'portgate-bench ' | head -20
		fi
		if [ $S = conn ] || [ $S = conn_haproxy ]; then
			# The rate of the whole wrk run (SECS + 2 s; perf saw SECS).
			rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$TMP/load.log")
			echo
			echo "## per connection (${rps:-?} conn/s; 1999 Hz samples over $SECS s)"
			perf report -i "$TMP/$S.data" --no-children --sort dso --stdio -g none -n \
			    2>/dev/null | grep -v '^#' | grep -v '^$' | awk -v c="${rps:-0}" -v s="$SECS" '
			    { if ($3 == "[kernel.kallsyms]") k += $2; else u += $2 }
			    END { if (c > 0 && u + k > 0)
				printf "    CPU %.1f µs: user %.1f, kernel %.1f (%.0f %% kernel)\n",
				(u + k) / 1999 / (c * s) * 1e6, u / 1999 / (c * s) * 1e6,
				k / 1999 / (c * s) * 1e6, 100 * k / (u + k) }'
		fi
		# 2. syscalls of portgate over 2 s of the same load
		load_bg 4
		sleep 1
		if [ $S = spawn ] || [ $S = spawn_xinetd ]; then
			timeout 2 strace -c -p "$PG" -o "$TMP/$S.strace" >/dev/null 2>&1
		else
			timeout 2 strace -c $(tree_pids "$PG" | sed 's/^/-p /') \
			    -o "$TMP/$S.strace" >/dev/null 2>&1
		fi
		wait "$LOAD" 2>/dev/null; stop "$LOAD"
		echo
		echo "## the daemon's system calls over 2 s (strace -c, every process of the"
		echo "## daemon but not its spawned children; slowed by strace)"
		echo "## load under strace: $(tr '\n' ' ' < "$TMP/load.log" | head -c 300)"
		head -25 "$TMP/$S.strace"
		if [ $S = conn ] || [ $S = conn_haproxy ]; then
			# calls is column 4; errors (5) only when there are some.
			echo
			echo "## system calls per accepted connection (accept4 that succeeded)"
			awk '$4 ~ /^[0-9]+$/ && $NF ~ /^[a-z_0-9]+$/ && $NF != "total" {
				c[$NF] = $4; e[$NF] = NF == 6 ? $5 : 0; o[++n] = $NF }
			    END { a = c["accept4"] - e["accept4"]; if (a <= 0) exit
				for (i = 1; i <= n; i++) printf "    %-16s %5.2f\n", o[i], c[o[i]] / a
				printf "    (%d connections)\n", a }' "$TMP/$S.strace" | head -24
		fi
	} > "$OUT"
	cat "$OUT"
	# stop this scenario's processes
	for p in "${PIDS[@]}"; do
		skip=0
		for q in "${PIDS_BEFORE[@]}"; do [ "$p" = "$q" ] && skip=1; done
		[ $skip = 0 ] && stop "$p"
	done
done
