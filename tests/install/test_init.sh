#!/bin/sh
# contrib/portgate.init: made from portgate.init.in with the paths of a
# scratch directory, so that the test chooses the daemon, the defaults
# file and the pid file.  It must parse, read the defaults before it looks
# for the daemon, say why when it does nothing, and start, report, reload
# and stop the real src/portgate through start-stop-daemon.
set -u
: "${PG_TOP_SRCDIR:?run by make check}" "${PORTGATE_BIN:?run by make check}"

tmp=$(mktemp -d /tmp/test_init.XXXXXX) || exit 99
trap 'stop_all; rm -rf "$tmp"' EXIT
fails=0

# Kill a daemon a failed case left behind.
stop_all() {
	if [ -s "$tmp/run/portgate.pid" ]; then
		kill "$(cat "$tmp/run/portgate.pid")" 2>/dev/null
	fi
}

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

mkdir -p "$tmp/sbin" "$tmp/etc/default" "$tmp/etc/portgate.d" "$tmp/run"
sed -e "s|@sbindir@|$tmp/sbin|g" -e "s|@sysconfdir@|$tmp/etc|g" \
    -e "s|@runstatedir@|$tmp/run|g" \
    "$PG_TOP_SRCDIR/contrib/portgate.init.in" >"$tmp/init" || exit 99
chmod +x "$tmp/init"
INIT=$tmp/init

# run ARGS...: the script's exit code in $rc, its standard error in $err.
run() {
	"$INIT" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	err=$(cat "$tmp/err")
}

# expect RC TEXT ARGS...: exit code RC and TEXT on standard error.
expect() {
	want_rc=$1
	want_err=$2
	shift 2
	run "$@"
	[ "$rc" -eq "$want_rc" ] ||
	    fail "init $*: exit $rc, expected $want_rc (stderr: $err)"
	case "$err" in
	*"$want_err"*) ;;
	*) fail "init $*: stderr \"$err\" lacks \"$want_err\"" ;;
	esac
}

sh -n "$INIT" || fail "sh -n: syntax error"

# Bad calls: the usage line, status 3.
expect 3 "Usage:"
expect 3 "Usage:" frobnicate
expect 3 "Usage:" start stop

# No daemon: every action says why, and only status fails.
expect 0 "portgate: not starting: $tmp/sbin/portgate is not installed" start
expect 0 "portgate: not starting: $tmp/sbin/portgate is not installed" restart
expect 0 "portgate: not stopping: $tmp/sbin/portgate is not installed" stop
expect 4 "portgate: status unknown: $tmp/sbin/portgate is not installed" \
    status

# The defaults are read first: a DAEMON named there is the one checked.
ln -s "$PORTGATE_BIN" "$tmp/sbin/portgate"
echo "DAEMON=$tmp/elsewhere/portgate" >"$tmp/etc/default/portgate"
expect 0 "not starting: $tmp/elsewhere/portgate is not installed" start

# Disabled in the defaults: start says so and starts nothing.
printf 'ENABLED=no\n' >"$tmp/etc/default/portgate"
expect 0 "portgate: not starting: disabled in $tmp/etc/default/portgate (ENABLED=no)" start
[ -e "$tmp/run/portgate.pid" ] && fail "started while disabled"
expect 3 "" status

# A configuration with errors: start fails and says where.
printf 'ENABLED=yes\nPORTGATE_CONF=%s\n' "$tmp/etc/portgate.conf" \
    >"$tmp/etc/default/portgate"
printf 'defaults\n{\n\tfrobnicate = 1\n}\n' >"$tmp/etc/portgate.conf"
expect 1 "portgate.conf:3:" start
[ -e "$tmp/run/portgate.pid" ] && fail "started on a bad configuration"

# A good one (no service): start, status, reload, stop.
printf 'defaults\n{\n}\nincludedir %s\n' "$tmp/etc/portgate.d" \
    >"$tmp/etc/portgate.conf"
expect 0 "" start
if [ -s "$tmp/run/portgate.pid" ]; then
	pid=$(cat "$tmp/run/portgate.pid")
	kill -0 "$pid" || fail "start: pid $pid is not running"
else
	fail "start: no pid file"
fi
expect 0 "" status
expect 0 "" reload
expect 0 "" stop
[ -e "$tmp/run/portgate.pid" ] && fail "stop: the pid file is left"
expect 3 "" status

[ "$fails" -eq 0 ] || exit 1
echo "PASS: init script"
exit 0
