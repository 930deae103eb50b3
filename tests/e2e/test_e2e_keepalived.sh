#!/bin/sh
# A keepalived pair of gates in front of one back end, in network
# namespaces this test makes and removes: a client, gate 1, gate 2 and a
# back end on one bridge (in a namespace of its own, so nothing is added to
# the host's).  keepalived (VRRPv3, 0.2 s adverts, nopreempt) moves the
# virtual address VIP between the gates; each gate runs src/portgate with a
# service on VIP (freebind = yes) that forwards to the back end's echo.
#
# It proves that
#  - the standby's portgate listens on VIP before it holds it (freebind),
#    and serves after VIP moves to it, with no restart or reload;
#  - killing the active gate's daemon under a loop of short connections
#    sends them through the other gate again within 5 s (the time and the
#    failed connections are printed);
#  - when the first gate's daemon comes back, a session through the
#    surviving gate goes on untouched (nopreempt: VIP stays);
#  - the gates share their bans through Redis (a redis-server in a
#    namespace of its own): a scanner that touches a SENSOR port on VIP
#    (gate 1) is refused by gate 2 within 1 s, and another scanner after
#    the failover (gate 2) is refused by gate 1 within 1 s; with Redis
#    stopped, each gate keeps its bans and says so in its log.
#
# Needs root, ip(8), keepalived and redis-server (Debian packages
# keepalived, redis-server); exits 77 (skip) without them.  Every wait
# polls a condition under a deadline.
set -u
if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 || { echo "no bash: skipped"; exit 77; }
	exec bash "$0" "$@"
fi
: "${PORTGATE_BIN:?run by make check}"
CONTRIB_KA=${PG_TOP_SRCDIR:-$(dirname "$0")/../..}/contrib/keepalived.conf
PORTGATECTL=$(dirname "$PORTGATE_BIN")/portgatectl
CONNLOOP=${PG_TOP_BUILDDIR:-$(dirname "$PORTGATE_BIN")/..}/tests/e2e/connloop
[ -x "$CONNLOOP" ] || { echo "no $CONNLOOP: build it (make check)"; exit 99; }

if [ "$(id -u)" -ne 0 ]; then
	echo "test_e2e_keepalived: not root: skipped (network namespaces)"
	exit 77
fi
KEEPALIVED=$(PATH=$PATH:/usr/sbin:/sbin command -v keepalived) || {
	echo "test_e2e_keepalived: no keepalived: skipped"; exit 77; }
IP=$(PATH=$PATH:/usr/sbin:/sbin command -v ip) || {
	echo "test_e2e_keepalived: no ip(8): skipped"; exit 77; }
REDIS=$(PATH=$PATH:/usr/sbin:/sbin command -v redis-server) || {
	echo "test_e2e_keepalived: no redis-server: skipped"; exit 77; }

NET=10.77.0
VIP=$NET.100
PORT=8000		# the gates' service on VIP
BPORT=7777		# the back end's echo
TRAP=8001		# the gates' SENSOR service on VIP
DIRECT=8002		# an echo on each gate's own address
RPORT=6379		# Redis, at $NET.3
SHARE_MAX_MS=1000	# a ban reaches the other gate within
FAILOVER_MAX_MS=5000
LOOP_MAX=5000		# short connections at most in the loop
LOOP_SECONDS=30		# and at most this long

P=pgka$$		# namespace prefix: unique, and ours to remove
NS_SW=${P}sw NS_C=${P}c NS_G1=${P}g1 NS_G2=${P}g2 NS_B=${P}b
NS_R=${P}r NS_S1=${P}s1 NS_S2=${P}s2	# Redis, two scanners
tmp=$(mktemp -d /tmp/test_e2e_keepalived.XXXXXX) || exit 99
chmod 755 "$tmp"
pids=""			# every process this test started
made_ns=""		# every namespace it made

# Remove what the test made: processes by pid, then the namespaces (their
# links go with them), then the directory (kept if PORTGATE_E2E_KEEP).
cleanup() {
	local p ns
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $pids; do
		wait_gone "$p" 3000 || kill -KILL "$p" 2>/dev/null
	done
	for ns in $made_ns; do
		"$IP" netns delete "$ns" 2>/dev/null
	done
	if [ -n "${PORTGATE_E2E_KEEP:-}" ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	echo "FAIL: $*"
	for f in "$tmp"/*.err "$tmp"/ka*.log; do
		[ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
	done
	exit 1
}

now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# Wait up to <ms> for the command to succeed; 1 at the deadline.
wait_for() {
	local ms=$1 end
	shift
	end=$(($(now_ms) + ms))
	until "$@"; do
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
	return 0
}

# Wait up to <ms> for process <pid> to be gone (reaped or not ours).
gone() {
	! kill -0 "$1" 2>/dev/null
}
wait_gone() {
	wait_for "$2" gone "$1"
}

in_ns() {
	local ns=$1
	shift
	"$IP" netns exec "$ns" "$@"
}

# --- The network: a bridge in NS_SW, one veth to each other namespace. ---
mkns() {
	"$IP" netns add "$1" || fail "ip netns add $1"
	made_ns="$made_ns $1"
	"$IP" -n "$1" link set lo up || fail "lo up in $1"
}
for ns in "$NS_SW" "$NS_C" "$NS_G1" "$NS_G2" "$NS_B" "$NS_R" "$NS_S1" \
    "$NS_S2"; do
	mkns "$ns"
done
"$IP" -n "$NS_SW" link add br0 type bridge mcast_snooping 0 ||
    fail "bridge"
"$IP" -n "$NS_SW" link set br0 up || fail "bridge up"
link() {	# <namespace> <port name> <address>
	"$IP" link add name eth0 netns "$1" type veth peer name "$2" \
	    netns "$NS_SW" || fail "veth $2"
	"$IP" -n "$NS_SW" link set "$2" master br0 up || fail "port $2"
	"$IP" -n "$1" addr add "$3/24" dev eth0 || fail "address $3"
	"$IP" -n "$1" link set eth0 up || fail "eth0 up in $1"
}
link "$NS_C" pc "$NET.1"
link "$NS_B" pb "$NET.2"
link "$NS_G1" pg1 "$NET.11"
link "$NS_G2" pg2 "$NET.12"
link "$NS_R" pr "$NET.3"
link "$NS_S1" ps1 "$NET.21"
link "$NS_S2" ps2 "$NET.22"

# --- Redis, without persistence (a restart starts it empty). ---
start_redis() {
	"$IP" netns exec "$NS_R" "$REDIS" --bind "$NET.3" --port "$RPORT" \
	    --save '' --appendonly no --daemonize no --protected-mode no \
	    --dir "$tmp" --logfile "$tmp/redis.log" &
	redis_pid=$!
	pids="$pids $redis_pid"
	wait_for 10000 in_ns "$NS_R" bash -c \
	    "exec 3<>/dev/tcp/$NET.3/$RPORT" 2>/dev/null ||
	    fail "redis-server does not listen"
}
start_redis

# --- The back end: portgate's echo. ---
cat >"$tmp/backend.conf" <<EOF
service echo
{
	type		= INTERNAL UNLISTED
	socket_type	= stream
	wait		= no
	port		= $BPORT
	bind		= $NET.2
}
EOF
# Not through in_ns: "&" on a function would give the pid of a subshell.
start_portgate() {	# <namespace> <name>
	local pid
	rm -f "$tmp/$2.pid"
	"$IP" netns exec "$1" "$PORTGATE_BIN" -dontfork -f "$tmp/$2.conf" \
	    -pidfile "$tmp/$2.pid" -control "$tmp/$2.sock" 2>>"$tmp/$2.err" &
	pid=$!
	pids="$pids $pid"
	eval "pid_$2=$pid"
	wait_for 10000 grep -qsx "$pid" "$tmp/$2.pid" || fail "$2 did not start"
}
start_portgate "$NS_B" backend

# --- The gates: the same service on VIP, forwarded to the back end. ---
for g in 1 2; do
	cat >"$tmp/gate$g.conf" <<EOF
defaults
{
	log_type	= FILE $tmp/gate$g.access
	log_on_success	= HOST
	log_on_failure	= HOST
}
service vip
{
	type		= UNLISTED
	socket_type	= stream
	wait		= no
	port		= $PORT
	bind		= $VIP
	freebind	= yes
	redirect	= $NET.2 $BPORT
	connect_timeout	= 2
}
defaults
{
	redis		= $NET.3:$RPORT
	ban_state_file	= $tmp/gate$g.bans
}
service trap
{
	type		= UNLISTED
	flags		= SENSOR
	socket_type	= stream
	wait		= no
	port		= $TRAP
	bind		= $VIP
	freebind	= yes
	deny_time	= 10
}
service echo
{
	type		= INTERNAL UNLISTED
	id		= direct
	socket_type	= stream
	wait		= no
	port		= $DIRECT
	bind		= $NET.1$g
}
EOF
	# keepalived's notify: the state of the instance, in a file.
	cat >"$tmp/notify$g.sh" <<EOF
#!/bin/sh
echo "\$3" >$tmp/state$g.new && mv $tmp/state$g.new $tmp/state$g
EOF
	chmod 755 "$tmp/notify$g.sh"
	# contrib/keepalived.conf with this test's addresses, pid file,
	# priority and adverts, and the notify script.
	sed -e "s|router_id gate1|router_id gate$g|" \
	    -e "s|/usr/sbin/portgatectl -s /run/portgate.sock|$PORTGATECTL -s $tmp/gate$g.sock|" \
	    -e "s|priority 150|priority $((200 - 50 * g))|" \
	    -e "s|advert_int 1\$|advert_int 0.2|" \
	    -e "s|192.0.2.100/24|$VIP/24|" \
	    -e "s|^\([[:space:]]*\)nopreempt\$|&\n\1notify \"$tmp/notify$g.sh\"|" \
	    "$CONTRIB_KA" >"$tmp/ka$g.conf" || fail "sed"
	for want in "router_id gate$g" "$PORTGATECTL -s $tmp/gate$g.sock status" \
	    "priority $((200 - 50 * g))" "advert_int 0.2" "$VIP/24 dev eth0" \
	    "notify \"$tmp/notify$g.sh\"" "nopreempt" "interface eth0"; do
		grep -qF -- "$want" "$tmp/ka$g.conf" ||
		    fail "contrib/keepalived.conf changed: no '$want' in ka$g.conf"
	done
done

state_is() {	# <gate> <state>
	[ "$(cat "$tmp/state$1" 2>/dev/null)" = "$2" ]
}
holds_vip() {	# <namespace>
	"$IP" -n "$1" -4 addr show dev eth0 | grep -q "inet $VIP/"
}
listens_on_vip() {	# <namespace>
	in_ns "$1" ss -Hltn "src $VIP and sport = :$PORT" | grep -q LISTEN
}

start_portgate "$NS_G1" gate1
start_portgate "$NS_G2" gate2
for g in 1 2; do
	wait_for 10000 grep -q "connected; ban lists reconciled" \
	    "$tmp/gate$g.err" || fail "gate $g is not connected to Redis"
done
for g in 1 2; do
	wait_for 10000 grep -q "does not hold yet" "$tmp/gate$g.err" ||
	    fail "gate $g does not say it listens on $VIP before holding it"
	eval "ns=\$NS_G$g"
	listens_on_vip "$ns" || fail "gate $g does not listen on $VIP"
	holds_vip "$ns" && fail "gate $g holds $VIP before keepalived runs"
done
start_keepalived() {	# <gate>
	local ns
	eval "ns=\$NS_G$1"
	"$IP" netns exec "$ns" "$KEEPALIVED" -n -l -D -P -f "$tmp/ka$1.conf" \
	    -p "$tmp/ka$1.pid" -r "$tmp/ka$1.vrrp.pid" \
	    >"$tmp/ka$1.log" 2>&1 &
	pids="$pids $!"
}
# Gate 1 first: with nopreempt the first to time out stays master.
start_keepalived 1
wait_for 15000 state_is 1 MASTER || fail "gate 1 did not become master"
start_keepalived 2
wait_for 15000 state_is 2 BACKUP || fail "gate 2 did not become backup"
wait_for 5000 holds_vip "$NS_G1" || fail "gate 1 does not hold $VIP"
holds_vip "$NS_G2" && fail "gate 2 holds $VIP too"

# The standby listens on VIP, which it does not hold, with freebind.
listens_on_vip "$NS_G2" || fail "the standby does not listen on $VIP"
echo "standby gate 2 listens on $VIP:$PORT without holding it"

# --- Shared bans: a scanner touches the trap on VIP (gate 1). ---
echoes() {	# <namespace> <address>: the direct echo answers
	in_ns "$1" bash -c "exec 3<>/dev/tcp/$2/$DIRECT || exit 1
	    echo hi >&3; read -r -t 2 r <&3; [ \"\$r\" = hi ]" 2>/dev/null
}
refused_by() {	# <namespace> <address>
	! echoes "$1" "$2"
}
touch_trap() {	# <namespace>: a connection to the trap on VIP
	in_ns "$1" bash -c "exec 3<>/dev/tcp/$VIP/$TRAP && cat <&3" \
	    >/dev/null 2>&1
}
share() {	# <scanner namespace> <other gate's address>: sets share_ms
	local t
	echoes "$1" "$2" || fail "$2 refuses the scanner before its touch"
	t=$(now_ms)
	touch_trap "$1"
	wait_for "$SHARE_MAX_MS" refused_by "$1" "$2" ||
	    fail "$2 still admits the scanner $SHARE_MAX_MS ms after its touch"
	share_ms=$(($(now_ms) - t))
}
count_ge() {	# <file> <text> <n>
	[ "$(grep -c -- "$2" "$1" 2>/dev/null)" -ge "$3" ]
}
share "$NS_S1" "$NET.12"
echo "shared ban: gate 2 refuses scanner 1 $share_ms ms after its touch" \
    "on gate 1"
grep -q "adding $NET.21 to the global deny list" "$tmp/gate1.err" ||
    fail "gate 1 did not ban scanner 1"

# --- A loop of short connections through VIP, from the client. ---
# tests/e2e/connloop: one line per connection, "start-ms ok|fail", at most
# one connection per 10 ms, each with 300 ms to get its echo.
"$IP" netns exec "$NS_C" "$CONNLOOP" "$VIP" "$PORT" "$LOOP_MAX" \
    "$LOOP_SECONDS" 300 "$tmp/loop.stop" >"$tmp/loop.log" &
loop_pid=$!
pids="$pids $loop_pid"
oks_since() {	# <ms>: successful connections started after it
	awk -v t="$1" '$1 > t && $2 == "ok"' "$tmp/loop.log" | wc -l
}
has_oks() {	# <ms> <n>
	[ "$(oks_since "$1")" -ge "$2" ]
}
wait_for 10000 has_oks 0 10 || fail "no connection passes through gate 1"
g1_served=$(grep -c "START" "$tmp/gate1.access")
[ "$g1_served" -ge 10 ] || fail "gate 1 did not serve the loop"
g2_before=$(grep -c "START" "$tmp/gate2.access" 2>/dev/null)

# --- Kill the active gate's daemon; the loop goes on. ---
t_kill=$(now_ms)
# Reaped at once, and quietly (bash would print "Killed").
{ kill -KILL "$pid_gate1"; wait "$pid_gate1"; } 2>/dev/null
gone "$pid_gate1" || fail "gate 1's daemon did not die"
# Wait for connections through gate 2 (its access log proves the way).
fails_since() {	# <ms> <n>
	[ "$(awk -v t="$1" '$1 >= t && $2 == "fail"' "$tmp/loop.log" |
	    wc -l)" -ge "$2" ]
}
wait_for 5000 fails_since "$t_kill" 1 || fail "no connection failed"
wait_for 10000 has_oks "$(awk -v t="$t_kill" \
    '$1 >= t && $2 == "fail" { print $1; exit }' "$tmp/loop.log")" 5 ||
    fail "no connection passed after the kill"
touch "$tmp/loop.stop"
wait_gone "$loop_pid" 5000 || fail "the loop did not stop"

# Connections the dying daemon had accepted may still pass: the failover
# ends with the first success after the first failure.
first_fail=$(awk -v t="$t_kill" '$1 >= t && $2 == "fail" { print $1; exit }' \
    "$tmp/loop.log")
[ -n "$first_fail" ] || fail "no connection failed after the kill"
first_ok=$(awk -v t="$first_fail" '$1 > t && $2 == "ok" { print $1; exit }' \
    "$tmp/loop.log")
[ -n "$first_ok" ] || fail "no connection passed after the failures"
failed=$(awk -v t="$t_kill" -v f="$first_ok" \
    '$1 >= t && $1 < f && $2 == "fail"' "$tmp/loop.log" | wc -l)
failover=$((first_ok - t_kill))
total=$(wc -l <"$tmp/loop.log")
echo "failover: ${failover} ms after the kill, $failed failed connections" \
    "($total in the loop)"
[ "$failover" -lt "$FAILOVER_MAX_MS" ] ||
    fail "failover took $failover ms (at most $FAILOVER_MAX_MS)"
state_is 2 MASTER || fail "gate 2 is not master"
holds_vip "$NS_G2" || fail "gate 2 does not hold $VIP"
g2_after=$(grep -c "START" "$tmp/gate2.access")
[ "$g2_after" -gt "$g2_before" ] || fail "gate 2 served none of them"
# The same daemon as before the move: no restart, no reload.
kill -0 "$pid_gate2" || fail "gate 2's daemon is gone"
[ "$(cat "$tmp/gate2.pid")" = "$pid_gate2" ] || fail "gate 2 restarted"
grep -qi "reload" "$tmp/gate2.err" && fail "gate 2 reloaded"
echo "gate 2 serves on $VIP after the move with the same daemon"

# --- A session through gate 2; then gate 1's daemon comes back. ---
mkfifo "$tmp/sess.in" || fail "mkfifo"
cat >"$tmp/session.sh" <<EOF
#!/bin/bash
# One connection held open; each line written to sess.in goes through it
# and its echo is appended to sess.out.
exec 3<>/dev/tcp/$VIP/$PORT || exit 1
exec 4<>$tmp/sess.in
while read -r line <&4; do
	[ "\$line" = quit ] && break
	echo "\$line" >&3
	read -r -t 5 back <&3 || back="(nothing)"
	echo "\$back" >>$tmp/sess.out
done
EOF
chmod 755 "$tmp/session.sh"
"$IP" netns exec "$NS_C" timeout 60 "$tmp/session.sh" &
sess_pid=$!
pids="$pids $sess_pid"
session_says() {	# <line>
	grep -qx "$1" "$tmp/sess.out" 2>/dev/null
}
echo one >"$tmp/sess.in"
wait_for 5000 session_says one || fail "the session through gate 2 is dead"

start_portgate "$NS_G1" gate1
wait_for 15000 state_is 1 BACKUP || fail "gate 1 did not come back as backup"
# nopreempt: gate 1 must not take VIP back.  This is the one wait for
# something not to happen: 15 advert intervals.
wait_for 3000 state_is 1 MASTER && fail "gate 1 took $VIP back"
holds_vip "$NS_G2" || fail "$VIP left gate 2"
echo two >"$tmp/sess.in"
wait_for 5000 session_says two || fail "the session through gate 2 broke" \
    "when gate 1 came back"
echo quit >"$tmp/sess.in"
wait_gone "$sess_pid" 5000 || fail "the session did not end"
echo "the session through gate 2 is untouched when gate 1 comes back"

# --- After the failover: a scanner touches VIP (gate 2 now). ---
wait_for 10000 count_ge "$tmp/gate1.err" "connected; ban lists reconciled" 2 ||
    fail "gate 1 did not connect to Redis again"
refused_by "$NS_S1" "$NET.11" || fail "gate 1 forgot scanner 1 over its restart"
share "$NS_S2" "$NET.11"
echo "shared ban after the failover: gate 1 refuses scanner 2 $share_ms ms" \
    "after its touch on gate 2"
grep -q "adding $NET.22 to the global deny list" "$tmp/gate2.err" ||
    fail "gate 2 did not ban scanner 2"

# --- Redis stops: each gate keeps its bans and says so. ---
{ kill -KILL "$redis_pid"; wait "$redis_pid"; } 2>/dev/null
for g in 1 2; do
	wait_for 10000 grep -q "keeping the local ban list" "$tmp/gate$g.err" ||
	    fail "gate $g does not say it lost Redis"
done
for a in "$NET.11" "$NET.12"; do
	refused_by "$NS_S1" "$a" || fail "$a forgot scanner 1 without Redis"
	refused_by "$NS_S2" "$a" || fail "$a forgot scanner 2 without Redis"
done
echo "without Redis each gate keeps its bans"
echo "PASS"
exit 0
