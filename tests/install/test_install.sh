#!/bin/sh
# "make install DESTDIR=..." of this build: the binary names the configured
# configuration file, portgatectl and the three man pages are installed,
# the contrib files name the installed paths, the
# sample configuration is valid, a second install keeps an edited
# portgate.conf, and uninstall removes the rest (an unedited
# portgate.conf too).  distcheck runs it again with its own prefix.
set -u
: "${PG_TOP_BUILDDIR:?run by make check}" "${PG_SBINDIR:?}" \
    "${PG_SYSCONFDIR:?}" "${PG_DOCDIR:?}" "${PG_MANDIR:?}"

tmp=$(mktemp -d /tmp/test_install.XXXXXX) || exit 99
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
fails=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# has FILE TEXT: FILE holds the fixed string TEXT.
has() {
	grep -qF -- "$2" "$1" || fail "$1 lacks \"$2\""
}

# A make of its own, not a job of the make running the tests.
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$PG_TOP_BUILDDIR" \
	    DESTDIR="$dest" "$@" >"$tmp/make.out" 2>&1 || {
		cat "$tmp/make.out"
		fail "make $*"
	}
}

conf=$dest$PG_SYSCONFDIR/portgate.conf
bin=$dest$PG_SBINDIR/portgate

mk install
[ -x "$bin" ] || { echo "FAIL: no $bin"; exit 1; }

# The configured paths are in the binary.
"$bin" -V >"$tmp/v" || fail "portgate -V failed"
has "$tmp/v" "configuration file: $PG_SYSCONFDIR/portgate.conf"
has "$tmp/v" "included directory (sample configuration): $PG_SYSCONFDIR/portgate.d"
"$bin" --help >"$tmp/h" || fail "portgate --help failed"
has "$tmp/h" "(default $PG_SYSCONFDIR/portgate.conf)"

# portgatectl beside it, and the man pages of both.
[ -x "$dest$PG_SBINDIR/portgatectl" ] || fail "no $dest$PG_SBINDIR/portgatectl"
for m in man8/portgate.8 man8/portgatectl.8 man5/portgate.conf.5; do
	[ -f "$dest$PG_MANDIR/$m" ] || fail "no $dest$PG_MANDIR/$m"
done

# The sample configuration, installed and valid.
[ -f "$conf" ] || fail "no $conf"
[ -d "$dest$PG_SYSCONFDIR/portgate.d" ] || fail "no portgate.d directory"
cmp -s "$conf" "$dest$PG_DOCDIR/portgate.conf.sample" ||
    fail "$conf is not the sample"
has "$conf" "includedir $PG_SYSCONFDIR/portgate.d"
sed "s|^includedir .*|includedir $dest$PG_SYSCONFDIR/portgate.d|" "$conf" \
    >"$tmp/check.conf"
"$bin" -t -f "$tmp/check.conf" >"$tmp/t" 2>&1 ||
    fail "the sample configuration does not pass -t: $(cat "$tmp/t")"

# The systemd unit names the installed binary and configuration; without a
# unit directory (no systemd.pc) the one made in the build tree does.
if [ -n "${PG_UNITDIR:-}" ]; then
	unit=$dest$PG_UNITDIR/portgate.service
else
	unit=$PG_TOP_BUILDDIR/contrib/portgate.service
fi
[ -f "$unit" ] || fail "no $unit"
# It tells systemd when the sockets are bound (sd_notify).
has "$unit" "Type=notify"
# Servers may need setuid binaries: no NoNewPrivileges.
grep -q '^NoNewPrivileges=yes' "$unit" && fail "$unit sets NoNewPrivileges"
has "$unit" "ProtectSystem=yes"
# The example socket unit goes next to it.
[ -f "${unit%.service}.socket" ] || fail "no ${unit%.service}.socket"
has "${unit%.service}.socket" "ListenStream="
has "$unit" "ExecStart=$PG_SBINDIR/portgate -dontfork -f $PG_SYSCONFDIR/portgate.conf"
# -t exits 3 for a valid file that leaves services out: that may start.
has "$unit" "ExecStartPre=/bin/sh -c '$PG_SBINDIR/portgate -t -f $PG_SYSCONFDIR/portgate.conf || [ \$\$? -eq 3 ]'"
# A reload waits for the outcome and fails with the errors: portgatectl,
# not a signal that reports nothing.
has "$unit" "ExecReload=$PG_SBINDIR/portgatectl reload"
[ "$(grep -c '^ExecReload=' "$unit")" -eq 1 ] ||
    fail "$unit: more than one ExecReload"
for f in "$PG_TOP_BUILDDIR"/contrib/portgate.service \
    "$PG_TOP_BUILDDIR"/contrib/portgate.socket \
    "$PG_TOP_BUILDDIR"/contrib/portgate.init \
    "$PG_TOP_BUILDDIR"/contrib/portgate.logrotate \
    "$PG_TOP_BUILDDIR"/contrib/portgate.default \
    "$PG_TOP_BUILDDIR"/contrib/portgate.conf.sample; do
	if grep -n '@[a-z]*dir@' "$f"; then
		fail "$f: a path left unsubstituted"
	fi
done

# A second install keeps the admin's portgate.conf.
echo "# edited by the admin" >>"$conf"
cp "$conf" "$tmp/edited"
mk install
cmp -s "$conf" "$tmp/edited" || fail "a second install replaced $conf"
has "$tmp/make.out" "exists: not replaced"

# Uninstall keeps it too, and removes the rest.
mk uninstall
[ -e "$bin" ] && fail "uninstall left $bin"
cmp -s "$conf" "$tmp/edited" || fail "uninstall removed the edited $conf"
rm -f "$conf"
find "$dest" -type f >"$tmp/left"
[ -s "$tmp/left" ] && fail "uninstall left: $(cat "$tmp/left")"

# An unedited portgate.conf goes with uninstall.
mk install
mk uninstall
find "$dest" -type f >"$tmp/left"
[ -s "$tmp/left" ] && fail "uninstall left: $(cat "$tmp/left")"

[ "$fails" -eq 0 ] || exit 1
echo "PASS: install"
exit 0
