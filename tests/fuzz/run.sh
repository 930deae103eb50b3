#!/bin/sh
# Run the libFuzzer targets built by "./configure --enable-fuzzing && make
# fuzz" (tests/fuzz/fuzz.am), each for a bounded time and number of runs,
# from its committed seeds tests/fuzz/corpus/NAME/ (the config target also
# from conf/ and tests/data/compat/, with a dictionary of the attribute
# names).  Nothing is written to the source tree: the corpus each target
# grows and its crash reproducers go to OUTDIR.  Every target runs in a
# network namespace of its own (unshare -n as root, else unshare -rn), so
# that the host names the inputs make up reach no resolver; without one
# the script stops, unless -N is given.
#
#	tests/fuzz/run.sh [-t SECONDS] [-r RUNS] [-o OUTDIR] [-N] BUILDDIR [NAME...]
#
# NAME is a target without its fuzz_ prefix (default: every target built in
# BUILDDIR/tests/fuzz).  SECONDS (default 8) and RUNS (default 500000)
# bound each target.  OUTDIR defaults to a new directory under ${TMPDIR:-/tmp}.
# Exits 1 if a target crashed, leaked, timed out or failed an oracle, after
# naming each reproducer ("BUILDDIR/tests/fuzz/fuzz_NAME FILE" replays it).
# shellcheck disable=SC2086 # flag lists are split on purpose
set -eu

usage() {
	echo "usage: run.sh [-t SECONDS] [-r RUNS] [-o OUTDIR] [-N] BUILDDIR [NAME...]" >&2
	exit 2
}

secs=8
runs=500000
out=
netns=auto
while getopts t:r:o:N opt; do
	case $opt in
	t) secs=$OPTARG ;;
	r) runs=$OPTARG ;;
	o) out=$OPTARG ;;
	N) netns= ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
build=$(cd "$1" && pwd)
shift
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/portgate-fuzz.XXXXXX")
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ "$netns" = auto ]; then
	if unshare -n true 2>/dev/null; then
		netns="unshare -n"
	elif unshare -rn true 2>/dev/null; then
		netns="unshare -rn"
	else
		echo "run.sh: cannot make a network namespace (unshare -n);" \
		    "give -N to fuzz with the host's network" >&2
		exit 1
	fi
fi

if [ $# -eq 0 ]; then
	for bin in "$build"/tests/fuzz/fuzz_*; do
		[ -x "$bin" ] || continue
		set -- "$@" "${bin##*/fuzz_}"
	done
	[ $# -gt 0 ] || { echo "run.sh: no target in $build/tests/fuzz" \
	    "(configure --enable-fuzzing; make fuzz)" >&2; exit 1; }
fi

# Every attribute name of the table, the keywords and operators.
config_dict() {
	for w in service defaults include includedir "{" "}" = += -= \
	    INTERNAL UNLISTED RPC stream dgram yes no tcp udp \
	    UNLIMITED SYSLOG FILE 127.0.0.1 ::1 "#"; do
		printf '"%s"\n' "$w"
	done
	sed -n 's/^	{ "\([a-z0-9_]*\)",.*/"\1"/p' "$top/src/conf_attr.c"
}

failed=
for name; do
	bin=$build/tests/fuzz/fuzz_$name
	seeds=$top/tests/fuzz/corpus/$name
	[ -x "$bin" ] || { echo "run.sh: no $bin" >&2; exit 1; }
	[ -d "$seeds" ] || { echo "run.sh: no seeds $seeds" >&2; exit 1; }
	mkdir -p "$out/corpus-$name" "$out/artifacts-$name"
	extra=
	dict=
	if [ "$name" = config ]; then
		extra="$top/conf $top/tests/data/compat"
		dict=$out/config.dict
		config_dict >"$dict"
	fi
	echo "fuzz_$name: ${secs}s, at most $runs runs"
	# From OUTDIR, so that libFuzzer writes nothing anywhere else.
	if ! (cd "$out" && $netns "$bin" -max_total_time="$secs" \
	    -runs="$runs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$out/artifacts-$name/" ${dict:+-dict="$dict"} \
	    "$out/corpus-$name" "$seeds" $extra \
	    </dev/null >"$out/fuzz_$name.log" 2>&1); then
		tail -n 40 "$out/fuzz_$name.log" >&2
		failed="$failed $name"
	fi
	grep -E '^stat::(number_of_executed_units|new_units_added)' \
	    "$out/fuzz_$name.log" | tr '\n' ' '
	echo
done

if [ -n "$failed" ]; then
	echo "run.sh: failed:$failed; reproducers:" >&2
	find "$out" -path '*/artifacts-*' -type f >&2
	exit 1
fi
echo "run.sh: every target ran clean; grown corpora in $out"
