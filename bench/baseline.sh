#!/bin/bash
# Build the portgate of a given commit apart, for a benchmark that compares
# the tree's portgate with another build in the same run (PORTGATE_BASE=):
#
#	bench/baseline.sh COMMIT DIR
#
# extracts COMMIT (git archive, no worktree left behind) into DIR, then
# autoreconf -fi && ./configure -q && make -j2 src/portgate there, and
# prints the path of the binary on standard output (nothing else goes
# there), e.g.
#
#	PORTGATE_BASE=$(bench/baseline.sh b9e4c39 /tmp/pg-base) bench/forward.sh
#
# DIR is reused when it already holds a build of the same commit (the full
# hash is in DIR/.baseline-commit), so a second call is instant; it must
# not exist or be such a build (never anything else: it is not emptied).
set -eu

[ $# = 2 ] || { echo "usage: bench/baseline.sh COMMIT DIR" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
commit=$(git -C "$ROOT" rev-parse --verify "$1^{commit}") ||
    { echo "baseline.sh: no commit $1" >&2; exit 1; }
dir=$2

if [ -x "$dir/src/portgate" ] && [ -f "$dir/.baseline-commit" ] &&
    [ "$(cat "$dir/.baseline-commit")" = "$commit" ]; then
	cd "$dir" && pwd | sed 's,$,/src/portgate,'
	exit 0
fi
if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ] && [ ! -f "$dir/.baseline-commit" ]; then
	echo "baseline.sh: $dir exists and is not a baseline build" >&2
	exit 1
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rm -f "$dir/.baseline-commit"
echo "baseline.sh: building ${commit:0:12} in $dir" >&2
git -C "$ROOT" archive --format=tar "$commit" | tar -x -C "$dir"
(
	cd "$dir"
	autoreconf -fi >/dev/null 2>&1
	./configure -q
	make -j2 src/portgate >/dev/null
) >&2
[ -x "$dir/src/portgate" ] || { echo "baseline.sh: build failed" >&2; exit 1; }
echo "$commit" > "$dir/.baseline-commit"
echo "$dir/src/portgate"
