#!/bin/sh
# Build the Debian package from the committed tree (HEAD) in a fresh
# copy, check it with lintian (no error, no warning), and copy the .deb
# files to the directory given (default: the current one).
#	contrib/build-deb.sh [-r REV] [-V VERSION] [OUTDIR]
# -r REV builds the tree of another commit (contrib/piuparts.sh builds the
# previous package so); -V VERSION gives the package that version (in the
# copy: the tree is not changed).
# Needs: dpkg-dev, debhelper, lintian and the Build-Depends of
# debian/control.  Uncommitted changes are not part of the package.
set -eu

usage() {
	echo "usage: $0 [-r REV] [-V VERSION] [OUTDIR]" >&2
	exit 2
}

rev=HEAD
version=
while getopts r:V: opt; do
	case $opt in
	r)	rev=$OPTARG ;;
	V)	version=$OPTARG ;;
	*)	usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage

src=$(cd "$(dirname "$0")/.." && pwd)
out=$(cd "${1:-.}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/portgate-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# The tests refuse group-writable configuration files: no 0664 from git.
umask 022
git -C "$src" -c tar.umask=0022 archive --format=tar --prefix=portgate/ "$rev" |
    tar -x -C "$work"
# The version of the top changelog entry, in the copy only: a new entry
# with a lower version or an old date would be a lintian warning.
if [ -n "$version" ]; then
	sed -i -e "1s/([^)]*)/($version)/" "$work/portgate/debian/changelog"
fi
(cd "$work/portgate" && dpkg-buildpackage -us -uc -b)
# Informational tags (I:) are reported, not failed on.
lintian --fail-on error,warning --tag-display-limit 0 "$work"/*.changes
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
ls -l "$out"/portgate*.deb
