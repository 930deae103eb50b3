#!/bin/sh
# Check the Debian package with Debian's piuparts, as root, in fresh
# Debian 12 chroots: (1) install and purge; install the previous build
# with apt, upgrade it to this one, purge; (2) install, remove, install
# again (config files left), purge.  Each step must end without error and
# leave no file behind.  Then contrib/deb-serve.sh proves that the
# installed package serves its configuration.
#	contrib/piuparts.sh [-b BASETGZ] [-r PREV] [-k]
# This package is built from the committed tree (HEAD), the previous one
# from commit PREV (default: HEAD too), with the version lowered to
# VERSION~prev so that apt sees an upgrade.  BASETGZ is the minimal
# Debian 12 system piuparts starts from, made with debootstrap the first
# time and kept (default /var/cache/portgate/bookworm-minbase.tgz); remove
# it to start from a fresh one.  piuparts' verdict lines are shown; -k
# keeps the packages and the whole logs in /var/tmp.
# Needs: piuparts, debootstrap, what contrib/build-deb.sh needs, and the
# network (deb.debian.org, or the mirror in $PIUPARTS_MIRROR).  Takes about
# 10 minutes on 2 cores: an on-demand check, not part of "make check".
set -eu

usage() {
	echo "usage: $0 [-b BASETGZ] [-r PREV] [-k]" >&2
	exit 2
}

basetgz=/var/cache/portgate/bookworm-minbase.tgz
prev=HEAD
keep=no
while getopts b:r:k opt; do
	case $opt in
	b)	basetgz=$OPTARG ;;
	r)	prev=$OPTARG ;;
	k)	keep=yes ;;
	*)	usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
[ "$(id -u)" -eq 0 ] || { echo "$0: piuparts needs root" >&2; exit 2; }
for tool in piuparts debootstrap dpkg-scanpackages dpkg-buildpackage; do
	command -v "$tool" >/dev/null ||
	    { echo "$0: $tool is missing (apt-get install piuparts debootstrap dpkg-dev)" >&2; exit 2; }
done

contrib=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$contrib")
mirror=${PIUPARTS_MIRROR:-http://deb.debian.org/debian}
# piuparts bind-mounts this directory at the same path in its chroot.
work=$(mktemp -d /var/tmp/portgate-piuparts.XXXXXX)
if [ "$keep" = no ]; then
	trap 'rm -rf "$work"' EXIT INT TERM
fi
mkdir "$work/new" "$work/old"

# The minimal system, as piuparts itself would make it (minbase).
if [ ! -s "$basetgz" ]; then
	echo "== debootstrap bookworm into $basetgz"
	mkdir -p "$(dirname "$basetgz")" "$work/base"
	debootstrap --variant=minbase bookworm "$work/base" "$mirror"
	tar -C "$work/base" -czf "$basetgz.tmp" .
	mv "$basetgz.tmp" "$basetgz"
	rm -rf "$work/base"
fi

echo "== building this package (HEAD)"
sh "$contrib/build-deb.sh" "$work/new" >"$work/build-new.log" 2>&1 ||
    { tail -40 "$work/build-new.log"; exit 1; }
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
echo "== building the previous package ($prev, as $version~prev)"
DEB_BUILD_OPTIONS=nocheck sh "$contrib/build-deb.sh" -r "$prev" \
    -V "$version~prev" "$work/old" >"$work/build-old.log" 2>&1 ||
    { tail -40 "$work/build-old.log"; exit 1; }
# The previous package in a local apt repository: piuparts' upgrade test
# installs the package with apt first, then this .deb over it.
rm -f "$work"/old/*-dbgsym_*.deb
(cd "$work/old" && dpkg-scanpackages . >Packages 2>/dev/null)

# run_piuparts NAME OPTIONS...: one piuparts run, its log in NAME.log;
# its verdict lines (and the versions unpacked) are shown.
failed=no
run_piuparts() {
	name=$1
	shift
	echo "== piuparts $* (log: $work/$name.log)"
	set +e
	piuparts -d bookworm -m "$mirror" -b "$basetgz" -l "$work/$name.log" \
	    "$@" "$work"/new/portgate_*.deb >/dev/null 2>&1
	rc=$?
	set -e
	grep -E 'INFO: (PASS|FAIL)|(ERROR|FAIL): |Unpacking portgate' \
	    "$work/$name.log" | sed -e 's/^[0-9hms.]* //' -e 's/^  */  /' || :
	if [ "$rc" -ne 0 ]; then
		echo "piuparts failed (exit $rc); the end of its log:"
		tail -60 "$work/$name.log"
		cp "$work/$name.log" "/var/tmp/portgate-$name.log"
		failed=yes
	fi
}

# Install and purge; then the previous package from the local repository
# by apt, upgraded to this one from its file, and purged.  (piuparts'
# --install-remove-install would turn the upgrade into a remove and a new
# install: it gets a run of its own.)
run_piuparts piuparts-upgrade --bindmount "$work/old" \
    --extra-repo "deb [trusted=yes] file://$work/old ./"
grep -q 'PASS: Installation, upgrade and purging tests' \
    "$work/piuparts-upgrade.log" ||
    { echo "piuparts did not pass the upgrade test"; failed=yes; }
# Install, remove (config files stay), install again, purge.
run_piuparts piuparts-reinstall --install-remove-install --no-upgrade-test
[ "$failed" = no ] || exit 1
echo "piuparts: PASS"

# The installed package serves its default configuration.
sh "$contrib/deb-serve.sh" -b "$basetgz" "$work"/new/portgate_*.deb
[ "$keep" = no ] || echo "packages and log kept in $work"
