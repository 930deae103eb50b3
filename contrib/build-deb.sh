#!/bin/sh
# Build the Debian package from the committed tree (HEAD) in a fresh
# copy, check it with lintian (no error, no warning), and copy the .deb
# files to the directory given (default: the current one).
#	contrib/build-deb.sh [OUTDIR]
# Needs: dpkg-dev, debhelper, lintian and the Build-Depends of
# debian/control.  Uncommitted changes are not part of the package.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
out=$(cd "${1:-.}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/portgate-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# The tests refuse group-writable configuration files: no 0664 from git.
umask 022
git -C "$src" -c tar.umask=0022 archive --format=tar --prefix=portgate/ HEAD | tar -x -C "$work"
(cd "$work/portgate" && dpkg-buildpackage -us -uc -b)
# Informational tags (I:) are reported, not failed on.
lintian --fail-on error,warning --no-tag-display-limit "$work"/*.changes
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
ls -l "$out"/portgate*.deb
