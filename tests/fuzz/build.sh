#!/bin/sh
# Build the libFuzzer targets tests/fuzz/fuzz_*.c with clang, without
# automake: every src/*.c but main.c is compiled once with coverage
# instrumentation and AddressSanitizer/UndefinedBehaviorSanitizer, then
# linked with each target.  Needs clang and a configured tree
# (build-config.h): run ./bootstrap.sh or ./configure first.
#
#	tests/fuzz/build.sh		  build every target into $FUZZ_OUT
#	tests/fuzz/build.sh run NAME [SECS] build, then fuzz fuzz_NAME for
#					  SECS seconds (default 120)
#
# $FUZZ_OUT defaults to /tmp/portgate-fuzz.  "run" keeps the corpus it grows
# in $FUZZ_OUT/corpus-NAME and writes crashes and leaks, each a reproducer
# for "$FUZZ_OUT/fuzz_NAME FILE", to $FUZZ_OUT/artifacts-NAME/.  It runs the
# fuzzer in a network namespace of its own (unshare -n, as root) so that
# made-up host names reach no resolver.
# shellcheck disable=SC2086 # flag lists are split on purpose
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_OUT:-/tmp/portgate-fuzz}
cc=${FUZZ_CC:-clang}
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"

if [ ! -f "$top/build-config.h" ]; then
	echo "build.sh: no build-config.h: run ./configure first" >&2
	exit 1
fi
command -v "$cc" >/dev/null || { echo "build.sh: no $cc" >&2; exit 1; }

pkgs="libevent_openssl libevent openssl libmaxminddb libbsd-overlay"
cflags="-std=c11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -DHAVE_CONFIG_H \
    -I$top -iquote $top/src $(pkg-config --cflags $pkgs)"
libs=$(pkg-config --libs $pkgs)

mkdir -p "$out/obj"
objs=
for src in "$top"/src/*.c; do
	case $src in */main.c) continue ;; esac
	obj=$out/obj/$(basename "$src" .c).o
	$cc $cflags $san -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
	objs="$objs $obj"
done
for src in "$top"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	$cc $cflags $san -fsanitize=fuzzer "$src" $objs $libs -lm \
	    -o "$out/$name"
	echo "built $out/$name"
done

[ "${1:-}" = run ] || exit 0
name=${2:?usage: build.sh run NAME [SECONDS]}
secs=${3:-120}
bin=$out/fuzz_$name
[ -x "$bin" ] || { echo "build.sh: no $bin" >&2; exit 1; }

# Seeds: the configuration corpus for the config target, else a
# tests/fuzz/corpus-NAME directory if there is one.
seeds=$out/seeds-$name
rm -rf "$seeds"
mkdir -p "$seeds" "$out/corpus-$name" "$out/artifacts-$name"
dict=
if [ "$name" = config ]; then
	find "$top/tests/data/compat" "$top/conf" -type f \
	    ! -name 'init.d-*' ! -name '*.service' |
	while read -r f; do
		cp "$f" "$seeds/$(echo "${f#"$top"/}" | tr / _)"
	done
	# Every attribute name of the table, the keywords and operators.
	dict=$out/config.dict
	{
		for w in service defaults include includedir "{" "}" = += -= \
		    INTERNAL UNLISTED RPC stream dgram yes no tcp udp \
		    UNLIMITED SYSLOG FILE 127.0.0.1 ::1 "#"; do
			printf '"%s"\n' "$w"
		done
		sed -n 's/^	{ "\([a-z0-9_]*\)",.*/"\1"/p' \
		    "$top/src/conf_attr.c"
	} >"$dict"
elif [ -d "$top/tests/fuzz/corpus-$name" ]; then
	cp "$top/tests/fuzz/corpus-$name"/* "$seeds"/
fi

netns=
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
	netns="unshare -n"
else
	echo "build.sh: cannot unshare -n; host names may be resolved" >&2
fi
exec $netns "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/artifacts-$name/" ${dict:+-dict="$dict"} \
    "$out/corpus-$name" "$seeds" </dev/null
