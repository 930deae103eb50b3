#!/bin/sh
# Build the Debian package as a fresh Debian 12 machine would, as root:
# in a minimal bookworm chroot holding only what debian/control's
# Build-Depends pull in (apt-get build-dep), from the committed tree
# (HEAD), with its unit tests; a missing build dependency fails here, not
# on the admin's machine.  The .deb files are copied to OUTDIR (default:
# the current directory).
#	contrib/deb-clean-build.sh [-b BASETGZ] [OUTDIR]
# BASETGZ: the minimal system, made with debootstrap if absent (default
# /var/cache/portgate/bookworm-minbase.tgz, shared with
# contrib/piuparts.sh).  Needs debootstrap, unshare and the network.
set -eu

usage() {
	echo "usage: $0 [-b BASETGZ] [OUTDIR]" >&2
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
[ $# -le 1 ] || usage
out=$(cd "${1:-.}" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "$0: needs root (chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "$0: debootstrap is missing" >&2; exit 2; }
src=$(cd "$(dirname "$0")/.." && pwd)
mirror=${PIUPARTS_MIRROR:-http://deb.debian.org/debian}

work=$(mktemp -d /var/tmp/portgate-cleanbuild.XXXXXX)
root=$work/root
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
cp /etc/resolv.conf "$root/etc/resolv.conf"
mkdir -p "$root/build"
git -C "$src" -c tar.umask=0022 archive --format=tar --prefix=portgate/ HEAD |
    tar -x -C "$root/build"

# The build as a user, as buildds do (Rules-Requires-Root: no); the mount
# and PID namespaces take /dev, /proc and every process with them.
echo "== apt-get build-dep, dpkg-buildpackage in a fresh bookworm chroot (log: $work/build.log)"
set +e
unshare --mount --pid --fork sh -euc '
	root=$1
	mount --rbind /dev "$root/dev"
	mount -t proc proc "$root/proc"
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 /bin/sh -euc "
		apt-get -q update
		apt-get -q -y build-dep ./build/portgate
		useradd --system --home-dir /build builder
		chown -R builder /build
		cd /build/portgate
		setpriv --reuid=builder --regid=builder --init-groups \
		    env HOME=/build dpkg-buildpackage -us -uc -b
	"
' deb-clean-build "$root" >"$work/build.log" 2>&1
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
	tail -40 "$work/build.log"
	cp "$work/build.log" /var/tmp/portgate-cleanbuild.log
	echo "clean build: FAIL (log: /var/tmp/portgate-cleanbuild.log)"
	exit 1
fi
cp "$root"/build/*.deb "$out"/
ls -l "$out"/portgate*.deb
echo "clean build: PASS"
