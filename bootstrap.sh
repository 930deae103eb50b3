#!/bin/sh
# Install what portgate needs to build and test (as root, on Debian 12),
# then configure and build.  Idempotent: fast when everything is there.
set -eu
cd "$(dirname "$0")"

PKGS="build-essential autoconf automake libtool pkg-config
libevent-dev libssl-dev libmaxminddb-dev libbsd-dev libcmocka-dev libseccomp-dev
libwrap0-dev libsystemd-dev libjson-c-dev libhiredis-dev redis-server haproxy
openssl tzdata netbase procps systemd
libmaxmind-db-writer-perl mmdb-bin gcovr fail2ban prometheus
clang libclang-rt-14-dev keepalived iproute2
dpkg-dev debhelper lintian piuparts debootstrap mandoc"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "bootstrap.sh: missing Debian packages:$missing (run as root to install)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq $missing
fi

[ -x configure ] && [ configure -nt configure.ac ] && [ Makefile.in -nt Makefile.am ] ||
    autoreconf -fi
[ -f Makefile ] && [ Makefile -nt configure ] || ./configure ${CONFIGURE_FLAGS:-}
make -j"$(nproc)"
