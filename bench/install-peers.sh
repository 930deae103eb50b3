#!/bin/sh
# Install the peer programs that bench/forward.sh, bench/spawn.sh and
# bench/gate.sh compare portgate with (as root, on Debian 12), then stop any
# system service the packages started so that none of them holds a port.
# The benchmarks run every peer themselves, in the foreground, on high
# loopback ports with a generated configuration.  Idempotent.
set -eu

PKGS="haproxy socat rinetd xinetd nginx-full libnginx-mod-stream iperf3 wrk
stunnel4 python3 gcc libc6-dev procps iproute2 strace linux-perf valgrind"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-peers.sh: missing Debian packages:$missing (run as root)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	# Keep the maintainer scripts from starting the daemons at all
	# (policy-rc.d exit 101 = "action forbidden"), unless one is there.
	prc=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		prc=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' > "$prc"
		chmod 755 "$prc"
	fi
	apt-get update -qq
	# linux-perf, strace and valgrind are only for profiling: do not fail
	# on them.
	apt-get install -y -qq $(echo "$missing" | tr ' ' '\n' |
	    grep -vx -e linux-perf -e valgrind -e strace) ||
	    { [ -n "$prc" ] && rm -f "$prc"; exit 1; }
	apt-get install -y -qq linux-perf strace valgrind 2>/dev/null || true
	[ -n "$prc" ] && rm -f "$prc"
fi

# Whatever was started anyway (an earlier install without policy-rc.d, a
# machine with systemd): stop it.
for s in haproxy rinetd xinetd nginx stunnel4 iperf3; do
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl stop "$s" 2>/dev/null || true
		systemctl disable "$s" 2>/dev/null || true
	elif [ -x "/etc/init.d/$s" ]; then
		service "$s" stop >/dev/null 2>&1 || true
	fi
done
for pf in /run/haproxy.pid /run/rinetd.pid /run/xinetd.pid /run/nginx.pid \
    /var/run/haproxy.pid /var/run/rinetd.pid /var/run/xinetd.pid /var/run/nginx.pid; do
	[ -s "$pf" ] && kill "$(cat "$pf")" 2>/dev/null || true
done
exit 0
