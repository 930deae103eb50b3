#!/bin/sh
# Prove, as root, that the Debian package serves its packaged
# configuration on a fresh Debian 12 system, installed as the README says:
# in a minimal bookworm chroot, "apt install ./portgate_*.deb" must create
# the portgate user (no home, no shell), start portgate from its init
# script on the packaged /etc/portgate.conf (no service yet); an echo
# service dropped in /etc/portgate.d must answer after a reload; purging
# must stop portgate and remove its files and its user.
#	contrib/deb-serve.sh [-b BASETGZ] DEB
# BASETGZ: the minimal system, made with debootstrap if absent (default
# /var/cache/portgate/bookworm-minbase.tgz, shared with
# contrib/piuparts.sh).  The dependencies are downloaded from the network;
# portgate then runs in its own network namespace (only a loopback: port
# 7 there is nobody else's) and PID namespace (nothing outlives the test).
# Needs: debootstrap, unshare and ip (util-linux, iproute2).
set -eu

usage() {
	echo "usage: $0 [-b BASETGZ] DEB" >&2
	exit 2
}

basetgz=/var/cache/portgate/bookworm-minbase.tgz
while getopts b: opt; do
	case $opt in
	b)	basetgz=$OPTARG ;;
	*)	usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
deb=$1
[ -f "$deb" ] || { echo "$0: $deb: no such file" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "$0: needs root (chroot, namespaces)" >&2; exit 2; }
for tool in debootstrap unshare ip; do
	command -v "$tool" >/dev/null ||
	    { echo "$0: $tool is missing" >&2; exit 2; }
done
mirror=${PIUPARTS_MIRROR:-http://deb.debian.org/debian}

work=$(mktemp -d /var/tmp/portgate-serve.XXXXXX)
root=$work/root
# The mounts live in the namespaces below and die with them; refuse to
# remove a tree that still has one.
cleanup() {
	if grep -q " $root/" /proc/mounts; then
		echo "$0: $root still has mounts: not removed" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT INT TERM

if [ ! -s "$basetgz" ]; then
	echo "== debootstrap bookworm into $basetgz"
	mkdir -p "$(dirname "$basetgz")" "$work/base"
	debootstrap --variant=minbase bookworm "$work/base" "$mirror"
	tar -C "$work/base" -czf "$basetgz.tmp" .
	mv "$basetgz.tmp" "$basetgz"
	rm -rf "$work/base"
fi
mkdir "$root"
tar -C "$root" -xzf "$basetgz"
cp "$deb" "$root/tmp/"
debname=$(basename "$deb")
cp /etc/resolv.conf "$root/etc/resolv.conf"

# in_chroot NSFLAGS SCRIPT: run the sh SCRIPT in the chroot, in new mount
# and PID namespaces (plus NSFLAGS), with /dev and /proc.
in_chroot() {
	unshare --mount --pid --fork $1 sh -euc '
		root=$1
		mount --rbind /dev "$root/dev"
		mount -t proc proc "$root/proc"
		# A new network namespace starts with its loopback down.
		if [ "$3" = --net ]; then
			ip link set lo up
		fi
		chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		    DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 /bin/sh -euc "$2"
	' in_chroot "$root" "$2" "$1"
}

echo "== downloading the dependencies of $debname"
in_chroot "" "apt-get -q update >/dev/null
	cd /tmp && apt-get -q -y install --download-only ./$debname >/dev/null"

echo "== apt install ./$debname, reload with an echo service, purge"
# From here on, no network: a new namespace with a loopback only.
in_chroot --net '
fail() {
	echo "FAIL: $*"
	exit 1
}
say() {
	echo "ok: $*"
}
# echo_answers SECONDS: a line sent to 127.0.0.1:7 comes back within
# SECONDS.
echo_answers() {
	bash -c "
		deadline=\$((SECONDS + $1))
		while [ \$SECONDS -lt \$deadline ]; do
			if (exec 3<>/dev/tcp/127.0.0.1/7 &&
			    printf \"portgate-deb-test\\n\" >&3 &&
			    IFS= read -r -t 5 line <&3 &&
			    [ \"\$line\" = portgate-deb-test ]) 2>/dev/null; then
				exit 0
			fi
			sleep 0.1
		done
		exit 1"
}
# running: the pid in /run/portgate.pid is a live portgate.
running() {
	[ -s /run/portgate.pid ] &&
	    [ "$(readlink "/proc/$(cat /run/portgate.pid)/exe")" = /usr/sbin/portgate ]
}

# A chroot has no init system: invoke-rc.d then refuses to start or stop
# anything unless policy-rc.d allows it; allow all, as on a booted Debian,
# so that the postinst and prerm really start and stop portgate.
printf "#!/bin/sh\nexit 0\n" >/usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
# As the README says, from the directory of the .deb.
cd /tmp
apt-get -q -y install ./'"$debname"' >/tmp/apt.log 2>&1 ||
    { cat /tmp/apt.log; fail "apt install ./'"$debname"'"; }
say "apt install ./'"$debname"'"

pw=$(getent passwd portgate) || fail "no portgate user"
case $pw in
portgate:x:*:*:*:/nonexistent:/usr/sbin/nologin) say "user: $pw" ;;
*) fail "portgate user: $pw (expected home /nonexistent, shell nologin)" ;;
esac
uid=$(echo "$pw" | cut -d: -f3)
[ "$uid" -lt 1000 ] || fail "portgate is not a system user (uid $uid)"
getent group portgate >/dev/null || fail "no portgate group"
[ -d /etc/portgate.d ] && [ -z "$(ls -A /etc/portgate.d)" ] ||
    fail "/etc/portgate.d is not an empty directory"
grep -q "^/etc/portgate.conf$" /var/lib/dpkg/info/portgate.conffiles ||
    fail "/etc/portgate.conf is not a conffile"
grep -q "^includedir /etc/portgate.d$" /etc/portgate.conf ||
    fail "/etc/portgate.conf does not include /etc/portgate.d"
set -- /etc/rc2.d/S[0-9][0-9]portgate
[ -e "$1" ] || fail "init script not registered in /etc/rc2.d"
[ -e /etc/systemd/system/multi-user.target.wants/portgate.service ] ||
    fail "portgate.service not enabled"
[ ! -e /lib/systemd/system/portgate.socket ] ||
    fail "portgate.socket installed as a unit (it would listen on port 23)"

out=$(portgate -t -f /etc/portgate.conf 2>&1) || fail "portgate -t: $out"
say "$out"
# The postinst started it through invoke-rc.d and the init script.
running || { tail -15 /tmp/apt.log; fail "portgate not running after install"; }
say "running after install, pid $(cat /run/portgate.pid)"
/etc/init.d/portgate status >/dev/null || fail "init script status"

cat >/etc/portgate.d/echo <<EOF
service echo
{
	type		= INTERNAL
	socket_type	= stream
	wait		= no
	bind		= 127.0.0.1
	port		= 7
	only_from	= 127.0.0.0/8
}
EOF
! echo_answers 1 || fail "echo answers before the reload"
invoke-rc.d portgate reload >/tmp/rc.log 2>&1 ||
    { cat /tmp/rc.log; fail "invoke-rc.d portgate reload"; }
echo_answers 10 || fail "echo on 127.0.0.1:7 does not answer after reload"
say "echo service from /etc/portgate.d answers on 127.0.0.1:7"
invoke-rc.d portgate restart >/tmp/rc.log 2>&1 ||
    { cat /tmp/rc.log; fail "invoke-rc.d portgate restart"; }
echo_answers 10 || fail "echo does not answer after restart"
say "restart: echo answers"

pid=$(cat /run/portgate.pid)
rm /etc/portgate.d/echo
apt-get -q -y purge portgate >/tmp/apt.log 2>&1 ||
    { cat /tmp/apt.log; fail "apt purge portgate"; }
[ ! -e "/proc/$pid" ] || fail "portgate (pid $pid) still runs after purge"
! getent passwd portgate >/dev/null || fail "user portgate left after purge"
! getent group portgate >/dev/null || fail "group portgate left after purge"
for f in /etc/portgate.conf /etc/portgate.d /etc/default/portgate \
    /etc/init.d/portgate /etc/logrotate.d/portgate /run/portgate.pid \
    /run/portgate /usr/sbin/portgate /etc/rc2.d/S[0-9][0-9]portgate \
    /etc/systemd/system/multi-user.target.wants/portgate.service; do
	[ ! -e "$f" ] || fail "$f left after purge"
done
say "purge: stopped, user, group and files removed"
'
echo "deb-serve: PASS"
