/*
 * Unit tests of geoip.c against real MaxMind DB files written at test time
 * by tests/data/geoip/make-mmdb.pl (Debian libmaxmind-db-writer-perl) from
 * tests/data/geoip/countries.txt: countries of IPv4, IPv4-mapped and IPv6
 * addresses, addresses without a country, bad files, sharing by path, and
 * reopening on change, on SIGHUP and after a bad replacement.  Reopens and
 * warnings are observed in the -filelog file of log.c.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"
#include <maxminddb.h>

#include "geoip.h"
#include "unit_util.h"
#include "log.h"

/* The second database: the same addresses in other countries. */
#define ALT_DATA	"127.0.0.2/32 IT\n127.0.0.3/32 ES\n2001:db8:1::/48 KR\n"

static char	 tmpdir[] = "/tmp/test_geoip.XXXXXX";
static char	 script[PATH_MAX];	/* make-mmdb.pl */
static char	 main_db[PATH_MAX];	/* from countries.txt */
static char	 alt_db[PATH_MAX];	/* from ALT_DATA */
static char	 log_path[PATH_MAX];
static time_t	 clock_now = 1700000000;	/* for geoip_check() */
static time_t	 mtime_next = 1500000000;	/* for installed files */

/* Build "<tmpdir>/<name>" into <buf>. */
static void
tmppath(char *buf, size_t len, const char *name)
{
	int	 n;

	n = snprintf(buf, len, "%s/%s", tmpdir, name);
	assert_true(n > 0 && (size_t)n < len);
}

/* A time well after every one used so far, for geoip_check(). */
static time_t
tick(void)
{
	clock_now += 100;
	return clock_now;
}

/*
 * Run <argv> with standard output discarded; returns its exit status,
 * 127 when it cannot be run, or -1 when it died of a signal.
 */
static int
run(char *const argv[])
{
	pid_t	 pid;
	int	 status, fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) != -1)
			(void)dup2(fd, STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Write <len> bytes of <buf> to a new file <path>; returns 0 or -1. */
static int
write_file(const char *path, const void *buf, size_t len)
{
	FILE	*f;
	int	 rc = 0;

	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	if (len > 0 && fwrite(buf, 1, len, f) != len)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* Write a database of <data> (countries.txt format) to <out>. */
static int
make_db(const char *data, const char *out)
{
	char	*argv[5];

	argv[0] = (char *)(uintptr_t)"perl";
	argv[1] = script;
	argv[2] = (char *)(uintptr_t)data;
	argv[3] = (char *)(uintptr_t)out;
	argv[4] = NULL;
	return run(argv);
}

/* Find make-mmdb.pl and countries.txt; returns 0 or -1 with a message. */
static int
find_data(char *data, size_t len)
{
	static const char *const dirs[] = { "tests/data", "../tests/data" };
	const char	*env;
	size_t		 i;

	if ((env = getenv("PORTGATE_DATA")) != NULL && *env != '\0') {
		snprintf(script, sizeof(script), "%s/geoip/make-mmdb.pl", env);
		snprintf(data, len, "%s/geoip/countries.txt", env);
		if (access(script, R_OK) == 0 && access(data, R_OK) == 0)
			return 0;
		print_error("PORTGATE_DATA=%s has no geoip/make-mmdb.pl and "
		    "geoip/countries.txt\n", env);
		return -1;
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(script, sizeof(script), "%s/geoip/make-mmdb.pl",
		    dirs[i]);
		snprintf(data, len, "%s/geoip/countries.txt", dirs[i]);
		if (access(script, R_OK) == 0 && access(data, R_OK) == 0)
			return 0;
	}
	print_error("tests/data/geoip not found: set PORTGATE_DATA\n");
	return -1;
}

/* Check that perl and MaxMind::DB::Writer run; returns 0 or -1. */
static int
check_perl(void)
{
	char	*argv[5];

	argv[0] = (char *)(uintptr_t)"perl";
	argv[1] = (char *)(uintptr_t)"-e";
	argv[2] = (char *)(uintptr_t)"1";
	argv[3] = NULL;
	if (run(argv) != 0) {
		print_error("cannot run perl: install the Debian package "
		    "perl\n");
		return -1;
	}
	argv[1] = (char *)(uintptr_t)"-MMaxMind::DB::Writer::Tree";
	argv[2] = (char *)(uintptr_t)"-e";
	argv[3] = (char *)(uintptr_t)"1";
	argv[4] = NULL;
	if (run(argv) != 0) {
		print_error("perl module MaxMind::DB::Writer::Tree missing: "
		    "install the Debian package libmaxmind-db-writer-perl\n");
		return -1;
	}
	return 0;
}

/* Remove the temporary directory and everything in it. */
static int
group_teardown(void **state)
{
	char		 path[PATH_MAX];
	struct dirent	*de;
	DIR		*d;

	(void)state;
	if ((d = opendir(tmpdir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, de->d_name);
		(void)unlink(path);
	}
	(void)closedir(d);
	(void)rmdir(tmpdir);
	return 0;
}

/*
 * Write the two databases into a new temporary directory and send
 * diagnostics to a log file there.  Any missing tool fails every test.
 */
static int
group_setup(void **state)
{
	char	 data[PATH_MAX], alt[PATH_MAX];

	if (mkdtemp(tmpdir) == NULL) {
		print_error("mkdtemp %s: %s\n", tmpdir, strerror(errno));
		return -1;
	}
	if (find_data(data, sizeof(data)) == -1 || check_perl() == -1)
		goto fail;
	snprintf(main_db, sizeof(main_db), "%s/countries.mmdb", tmpdir);
	snprintf(alt_db, sizeof(alt_db), "%s/alt.mmdb", tmpdir);
	snprintf(alt, sizeof(alt), "%s/alt.txt", tmpdir);
	snprintf(log_path, sizeof(log_path), "%s/geoip.log", tmpdir);
	if (write_file(alt, ALT_DATA, strlen(ALT_DATA)) == -1 ||
	    make_db(data, main_db) != 0 || make_db(alt, alt_db) != 0) {
		print_error("%s failed to write the test databases\n", script);
		goto fail;
	}
	if (log_init(0, LOG_DAEMON, log_path) == -1) {
		print_error("log_init %s: %s\n", log_path, strerror(errno));
		goto fail;
	}
	return 0;

fail:
	(void)group_teardown(state);
	return -1;
}

/*
 * Replace <dst> by a copy of <src> the way database updates are made: a
 * new file renamed over the old one, with an mtime of its own.
 */
static void
install(const char *src, const char *dst)
{
	struct timespec	 ts[2];
	char		 tmp[PATH_MAX], buf[8192];
	FILE		*in, *out;
	size_t		 n;

	tmppath(tmp, sizeof(tmp), "install.tmp");
	assert_non_null(in = fopen(src, "rb"));
	assert_non_null(out = fopen(tmp, "wb"));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	assert_int_equal(ferror(in), 0);
	assert_int_equal(fclose(in), 0);
	assert_int_equal(fclose(out), 0);
	ts[0].tv_sec = ts[1].tv_sec = mtime_next++;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, tmp, ts, 0), 0);
	assert_int_equal(rename(tmp, dst), 0);
}

/* Replace <dst> by a file of <len> bytes of <buf>. */
static void
install_bytes(const void *buf, size_t len, const char *dst)
{
	char	 tmp[PATH_MAX];

	tmppath(tmp, sizeof(tmp), "install.tmp");
	assert_int_equal(write_file(tmp, buf, len), 0);
	assert_int_equal(rename(tmp, dst), 0);
}

/* Open <path>, which must work. */
static struct geoip *
open_ok(const char *path)
{
	struct geoip	*g;
	char		 err[512];

	err[0] = '\0';
	if ((g = geoip_open(path, err, sizeof(err))) == NULL)
		fail_msg("geoip_open %s: %s", path, err);
	return g;
}

/* The country of the numeric address <addr> in <g>. */
static const char *
country(struct geoip *g, const char *addr)
{
	static char		 cc[3];
	struct sockaddr_storage	 ss;

	memset(cc, 'x', sizeof(cc));
	assert_ptr_equal(geoip_country(g, unit_sockaddr(&ss, addr, 0), cc),
	    cc);
	assert_int_equal(cc[2], '\0');
	return cc;
}

/* Lines of the log file that contain both <a> and <b>. */
static int
log_count(const char *a, const char *b)
{
	char	 line[4096];
	FILE	*f;
	int	 n = 0;

	if ((f = fopen(log_path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, a) != NULL && strstr(line, b) != NULL)
			n++;
	(void)fclose(f);
	return n;
}

/*
 * Check every open database at <now> as the daemon does (daemon.c on
 * SIGHUP with <force>, admit.c for each client), logging what
 * geoip_check() reports the way they do, so that the tests read it in
 * the log file.
 */
static void
refresh(time_t now, int force)
{
	struct geoip		*g;
	enum geoip_change	 gc;
	char			 msg[GEOIP_MSGMAX];

	for (g = geoip_next(NULL); g != NULL; g = geoip_next(g)) {
		memset(msg, 0, sizeof(msg));
		gc = geoip_check(g, now, force, msg, sizeof(msg));
		if (gc == GEOIP_KEPT)
			log_warnx("%s", msg);
		else if (gc == GEOIP_RELOADED)
			log_info("%s", msg);
		else {
			assert_int_equal(gc, GEOIP_SAME);
			assert_false(force);
			assert_int_equal(msg[0], '\0');
		}
	}
}

/* A fresh copy of the main database at <name> in the temporary dir. */
static struct geoip *
open_copy(const char *name, char *path, size_t len)
{
	tmppath(path, len, name);
	install(main_db, path);
	return open_ok(path);
}

/* IPv4 addresses: host routes inside a wider network. */
static void
test_country_ipv4(void **state)
{
	struct geoip	*g;

	(void)state;
	g = open_ok(main_db);
	assert_string_equal(country(g, "127.0.0.2"), "FR");
	assert_string_equal(country(g, "127.0.0.3"), "DE");
	assert_string_equal(country(g, "127.0.0.1"), "US");
	assert_string_equal(country(g, "127.0.0.4"), "US");
	assert_string_equal(country(g, "127.0.0.127"), "US");
	geoip_unref(g);
}

/* IPv4-mapped IPv6 addresses are looked up as IPv4. */
static void
test_country_mapped(void **state)
{
	struct geoip	*g;

	(void)state;
	g = open_ok(main_db);
	assert_string_equal(country(g, "::ffff:127.0.0.2"), "FR");
	assert_string_equal(country(g, "::ffff:127.0.0.3"), "DE");
	assert_string_equal(country(g, "::ffff:127.0.0.1"), "US");
	assert_string_equal(country(g, "::ffff:127.0.0.200"), "--");
	assert_string_equal(country(g, "::ffff:127.0.1.1"), "--");
	geoip_unref(g);
}

/* IPv6 addresses in the test prefix, at both ends. */
static void
test_country_ipv6(void **state)
{
	struct geoip	*g;

	(void)state;
	g = open_ok(main_db);
	assert_string_equal(country(g, "2001:db8:1::"), "JP");
	assert_string_equal(country(g, "2001:db8:1::1"), "JP");
	assert_string_equal(country(g,
	    "2001:db8:1:ffff:ffff:ffff:ffff:ffff"), "JP");
	geoip_unref(g);
}

/*
 * "--" for a record with only registered_country, for an address the
 * database does not hold, and for a family it cannot hold.
 */
static void
test_country_none(void **state)
{
	struct sockaddr_un	 sun;
	struct geoip		*g;
	char			 cc[3] = "xx";

	(void)state;
	g = open_ok(main_db);
	assert_string_equal(country(g, "127.0.0.200"), "--");
	assert_string_equal(country(g, "2001:db8:2::1"), "--");
	assert_string_equal(country(g, "127.0.1.1"), "--");
	assert_string_equal(country(g, "10.1.2.3"), "--");
	assert_string_equal(country(g, "2001:db8:3::1"), "--");
	assert_string_equal(country(g, "::1"), "--");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_ptr_equal(geoip_country(g, (struct sockaddr *)&sun, cc), cc);
	assert_string_equal(cc, "--");
	geoip_unref(g);
}

/* A missing file: the message names the file and the reason. */
static void
test_open_missing(void **state)
{
	char	 path[PATH_MAX], err[512];

	(void)state;
	tmppath(path, sizeof(path), "missing.mmdb");
	err[0] = '\0';
	assert_null(geoip_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, MMDB_strerror(MMDB_FILE_OPEN_ERROR)));
	assert_non_null(strstr(err, strerror(ENOENT)));
}

/* Open corrupt <path>, which must fail with a message naming it. */
static void
open_fails(const char *path, const char *want)
{
	char	 err[512];

	err[0] = '\0';
	assert_null(geoip_open(path, err, sizeof(err)));
	if (strncmp(err, path, strlen(path)) != 0 ||
	    strlen(err) < strlen(path) + 10)
		fail_msg("unclear message for %s: \"%s\"", path, err);
	if (want != NULL && strstr(err, want) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", err, want);
}

/*
 * Garbage, an empty file, garbage with a metadata marker and a truncated
 * database are refused; a failed open leaves nothing behind for the path.
 */
static void
test_open_corrupt(void **state)
{
	static const char marker[] = "junk\xab\xcd\xefMaxMind.com\xe0junk";
	char		 path[PATH_MAX], buf[65536];
	struct geoip	*g;
	struct stat	 sb;
	FILE		*f;
	size_t		 i, n;

	(void)state;
	tmppath(path, sizeof(path), "corrupt.mmdb");
	for (i = 0; i < 4096; i++)
		buf[i] = (char)("garbage\n"[i % 8] ^ (i / 8 % 3));
	install_bytes(buf, 4096, path);
	open_fails(path, "not a valid MaxMind DB");
	open_fails(path, MMDB_strerror(MMDB_INVALID_METADATA_ERROR));
	install_bytes("", 0, path);
	open_fails(path, "empty file");
	install_bytes(marker, sizeof(marker) - 1, path);
	open_fails(path, "not a valid MaxMind DB");
	open_fails(tmpdir, "not a regular file");

	assert_int_equal(stat(main_db, &sb), 0);
	assert_non_null(f = fopen(main_db, "rb"));
	n = fread(buf, 1, sizeof(buf), f);
	assert_int_equal(fclose(f), 0);
	assert_true(n > 100 && n == (size_t)sb.st_size);
	install_bytes(buf, n / 2, path);
	open_fails(path, "not a valid MaxMind DB");

	install(main_db, path);
	g = open_ok(path);
	assert_string_equal(country(g, "127.0.0.2"), "FR");
	geoip_unref(g);
}

/* Two opens of one path share one database until the last unref. */
static void
test_share_by_path(void **state)
{
	struct geoip	*a, *b, *c;
	char		 path[PATH_MAX];

	(void)state;
	a = open_ok(main_db);
	b = open_ok(main_db);
	assert_ptr_equal(a, b);
	c = open_copy("share.mmdb", path, sizeof(path));
	assert_ptr_not_equal(a, c);
	geoip_unref(b);
	assert_string_equal(country(a, "127.0.0.2"), "FR");
	geoip_unref(a);
	assert_string_equal(country(c, "127.0.0.2"), "FR");
	geoip_unref(c);
	geoip_unref(NULL);

	a = open_ok(main_db);
	assert_string_equal(country(a, "127.0.0.3"), "DE");
	geoip_unref(a);
}

/* A file renamed over the database is picked up by the next check. */
static void
test_refresh_changed(void **state)
{
	struct geoip	*g, *h;
	char		 path[PATH_MAX];
	time_t		 t = tick();

	(void)state;
	g = open_copy("changed.mmdb", path, sizeof(path));
	h = open_ok(path);
	refresh(t, 0);
	assert_string_equal(country(g, "127.0.0.2"), "FR");
	install(alt_db, path);
	refresh(t + 2, 0);
	assert_string_equal(country(g, "127.0.0.2"), "IT");
	assert_string_equal(country(h, "::ffff:127.0.0.3"), "ES");
	assert_string_equal(country(g, "2001:db8:1::1"), "KR");
	assert_string_equal(country(g, "127.0.0.1"), "--");
	assert_int_equal(log_count(path, "reloaded"), 1);
	geoip_unref(h);
	geoip_unref(g);
}

/* Files are looked at once a second at most, and reopened only if new. */
static void
test_refresh_same_second(void **state)
{
	struct geoip	*g;
	char		 path[PATH_MAX];
	time_t		 t = tick();

	(void)state;
	g = open_copy("second.mmdb", path, sizeof(path));
	refresh(t, 0);
	refresh(t + 1, 0);
	assert_int_equal(log_count(path, "reloaded"), 0);
	install(alt_db, path);
	refresh(t + 1, 0);
	assert_string_equal(country(g, "127.0.0.2"), "FR");
	assert_int_equal(log_count(path, "reloaded"), 0);
	refresh(t + 2, 0);
	assert_string_equal(country(g, "127.0.0.2"), "IT");
	refresh(t + 3, 0);
	assert_int_equal(log_count(path, "reloaded"), 1);
	geoip_unref(g);
}

/* A new modification time alone (same inode) is a change. */
static void
test_refresh_mtime_only(void **state)
{
	struct timespec	 ts[2];
	struct geoip	*g;
	char		 path[PATH_MAX];
	time_t		 t = tick();

	(void)state;
	g = open_copy("touched.mmdb", path, sizeof(path));
	refresh(t, 0);
	ts[0].tv_sec = ts[1].tv_sec = mtime_next++;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	refresh(t + 1, 0);
	assert_int_equal(log_count(path, "reloaded"), 1);
	assert_string_equal(country(g, "127.0.0.2"), "FR");
	geoip_unref(g);
}

/* SIGHUP reopens every database at once, changed or not. */
static void
test_refresh_forced(void **state)
{
	struct geoip	*g;
	char		 path[PATH_MAX];
	time_t		 t = tick();

	(void)state;
	g = open_copy("forced.mmdb", path, sizeof(path));
	refresh(t, 0);
	refresh(t, 1);
	assert_int_equal(log_count(path, "reloaded"), 1);
	assert_string_equal(country(g, "127.0.0.2"), "FR");
	install(alt_db, path);
	refresh(t, 1);
	assert_int_equal(log_count(path, "reloaded"), 2);
	assert_string_equal(country(g, "127.0.0.2"), "IT");
	refresh(t + 1, 0);
	assert_int_equal(log_count(path, "reloaded"), 2);
	geoip_unref(g);
}

/*
 * A corrupt replacement keeps the old database answering, is reported
 * once, and a good file after it is taken.
 */
static void
test_refresh_corrupt(void **state)
{
	static const char garbage[] = "this is not a MaxMind DB\n";
	struct geoip	*g;
	char		 path[PATH_MAX];
	time_t		 t = tick();

	(void)state;
	g = open_copy("bad.mmdb", path, sizeof(path));
	refresh(t, 0);
	install_bytes(garbage, sizeof(garbage) - 1, path);
	refresh(t + 1, 0);
	assert_string_equal(country(g, "127.0.0.2"), "FR");
	assert_string_equal(country(g, "2001:db8:1::1"), "JP");
	assert_int_equal(log_count(path, "keeping"), 1);
	assert_int_equal(log_count(path,
	    MMDB_strerror(MMDB_INVALID_METADATA_ERROR)), 1);
	refresh(t + 2, 0);
	assert_int_equal(log_count(path, "keeping"), 1);
	refresh(t + 2, 1);
	assert_int_equal(log_count(path, "keeping"), 2);
	assert_string_equal(country(g, "127.0.0.3"), "DE");
	install(alt_db, path);
	refresh(t + 3, 0);
	assert_string_equal(country(g, "127.0.0.2"), "IT");
	assert_int_equal(log_count(path, "reloaded"), 1);
	geoip_unref(g);
}

/* A file that disappears keeps the old database, reported once. */
static void
test_refresh_missing(void **state)
{
	struct geoip	*g;
	char		 path[PATH_MAX];
	time_t		 t = tick();

	(void)state;
	g = open_copy("gone.mmdb", path, sizeof(path));
	refresh(t, 0);
	assert_int_equal(unlink(path), 0);
	refresh(t + 1, 0);
	refresh(t + 2, 0);
	assert_string_equal(country(g, "127.0.0.2"), "FR");
	assert_int_equal(log_count(path, "keeping"), 1);
	assert_int_equal(log_count(path, strerror(ENOENT)), 1);
	install(alt_db, path);
	refresh(t + 3, 0);
	assert_string_equal(country(g, "127.0.0.2"), "IT");
	geoip_unref(g);
}

/* Rewrite <dst> in place (same inode) with the content of <src>. */
static void
rewrite_in_place(const char *src, const char *dst)
{
	struct timespec	 ts[2];
	char		 buf[8192];
	FILE		*in, *out;
	size_t		 n;

	assert_non_null(in = fopen(src, "rb"));
	assert_non_null(out = fopen(dst, "r+b"));
	assert_int_equal(ftruncate(fileno(out), 0), 0);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	assert_int_equal(ferror(in), 0);
	assert_int_equal(fclose(in), 0);
	assert_int_equal(fclose(out), 0);
	ts[0].tv_sec = ts[1].tv_sec = mtime_next++;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, dst, ts, 0), 0);
}

/* Whether a line of /proc/self/maps names <path>: the file is mapped. */
static int
mapped(const char *path)
{
	char	 line[PATH_MAX + 256];
	FILE	*f;
	int	 found = 0;

	assert_non_null(f = fopen("/proc/self/maps", "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, path) != NULL)
			found = 1;
	assert_int_equal(fclose(f), 0);
	return found;
}

/*
 * The loaded database is a private copy: the file itself is never mapped,
 * and truncating it or rewriting it in place under the daemon (cp over
 * it) leaves look-ups answering from the copy (a mapped file would die of
 * SIGBUS here).  The broken file is reported and the old copy kept, on a
 * check and on SIGHUP; a good file written in place is then taken.
 */
static void
test_rewrite_in_place(void **state)
{
	struct geoip	*g;
	char		 path[PATH_MAX], garbage[PATH_MAX], buf[4096];
	size_t		 i;
	time_t		 t = tick();

	(void)state;
	g = open_copy("inplace.mmdb", path, sizeof(path));
	assert_false(mapped(path));
	refresh(t, 0);

	assert_int_equal(truncate(path, 0), 0);
	assert_string_equal(country(g, "127.0.0.2"), "FR");
	assert_string_equal(country(g, "2001:db8:1::1"), "JP");
	refresh(t + 1, 0);
	assert_int_equal(log_count(path, "keeping"), 1);
	assert_int_equal(log_count(path, "empty file"), 1);
	assert_string_equal(country(g, "127.0.0.3"), "DE");

	/* Garbage of the size of a database, written in place. */
	tmppath(garbage, sizeof(garbage), "garbage.bin");
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 3);
	assert_int_equal(write_file(garbage, buf, sizeof(buf)), 0);
	rewrite_in_place(garbage, path);
	assert_string_equal(country(g, "127.0.0.2"), "FR");
	refresh(t + 2, 0);
	assert_int_equal(log_count(path, "keeping"), 2);
	refresh(t + 2, 1);
	assert_int_equal(log_count(path, "keeping"), 3);
	assert_string_equal(country(g, "127.0.0.2"), "FR");
	assert_string_equal(country(g, "127.0.0.4"), "US");

	rewrite_in_place(alt_db, path);
	refresh(t + 3, 0);
	assert_int_equal(log_count(path, "reloaded"), 1);
	assert_false(mapped(path));
	assert_string_equal(country(g, "127.0.0.2"), "IT");
	assert_int_equal(truncate(path, 10), 0);
	assert_string_equal(country(g, "127.0.0.3"), "ES");
	geoip_unref(g);
}

/* The size of the log file: geoip.c itself must not write to it. */
static off_t
log_size(void)
{
	struct stat	 sb;

	return stat(log_path, &sb) == 0 ? sb.st_size : 0;
}

/*
 * geoip_check() says what it did and logs nothing: GEOIP_SAME with no
 * message, GEOIP_RELOADED and GEOIP_KEPT with the line the callers log,
 * word for word as the daemon has always written it (the end-to-end tests
 * wait for them); a missing file is reported once, and again on force.
 * geoip_next() visits every open database once.
 */
static void
test_check_result(void **state)
{
	static const char garbage[] = "this is not a MaxMind DB\n";
	struct geoip	*g, *h, *it;
	char		 path[PATH_MAX], other[PATH_MAX], msg[GEOIP_MSGMAX];
	char		 want[PATH_MAX + 128];
	off_t		 before = log_size();
	time_t		 t = tick();
	int		 seen_g = 0, seen_h = 0;

	(void)state;
	g = open_copy("result.mmdb", path, sizeof(path));
	h = open_copy("result2.mmdb", other, sizeof(other));
	for (it = geoip_next(NULL); it != NULL; it = geoip_next(it)) {
		seen_g += it == g;
		seen_h += it == h;
	}
	assert_int_equal(seen_g, 1);
	assert_int_equal(seen_h, 1);

	memset(msg, 'x', sizeof(msg));
	assert_int_equal(geoip_check(g, t, 0, msg, sizeof(msg)), GEOIP_SAME);
	assert_int_equal(msg[0], 'x');
	install(alt_db, path);
	assert_int_equal(geoip_check(g, t, 0, msg, sizeof(msg)), GEOIP_SAME);
	assert_int_equal(geoip_check(g, t + 1, 0, msg, sizeof(msg)),
	    GEOIP_RELOADED);
	(void)snprintf(want, sizeof(want), "geoip_db %s reloaded", path);
	assert_string_equal(msg, want);
	assert_string_equal(country(g, "127.0.0.2"), "IT");

	install_bytes(garbage, sizeof(garbage) - 1, path);
	assert_int_equal(geoip_check(g, t + 2, 0, msg, sizeof(msg)),
	    GEOIP_KEPT);
	(void)snprintf(want, sizeof(want), "geoip_db %s: not a valid MaxMind "
	    "DB: %s; keeping the database already loaded", path,
	    MMDB_strerror(MMDB_INVALID_METADATA_ERROR));
	assert_string_equal(msg, want);
	assert_int_equal(geoip_check(g, t + 3, 0, msg, sizeof(msg)),
	    GEOIP_SAME);
	assert_string_equal(country(g, "127.0.0.2"), "IT");

	assert_int_equal(unlink(path), 0);
	assert_int_equal(geoip_check(g, t + 4, 0, msg, sizeof(msg)),
	    GEOIP_KEPT);
	(void)snprintf(want, sizeof(want), "geoip_db %s: %s; keeping the "
	    "database already loaded", path, strerror(ENOENT));
	assert_string_equal(msg, want);
	assert_int_equal(geoip_check(g, t + 5, 0, msg, sizeof(msg)),
	    GEOIP_SAME);
	assert_int_equal(geoip_check(g, t + 5, 1, msg, sizeof(msg)),
	    GEOIP_KEPT);
	assert_string_equal(msg, want);

	/* The other database was not looked at by any of this. */
	assert_int_equal(geoip_check(h, t, 1, msg, sizeof(msg)),
	    GEOIP_RELOADED);
	assert_int_equal(log_size(), before);
	geoip_unref(h);
	geoip_unref(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_country_ipv4),
		cmocka_unit_test(test_country_mapped),
		cmocka_unit_test(test_country_ipv6),
		cmocka_unit_test(test_country_none),
		cmocka_unit_test(test_open_missing),
		cmocka_unit_test(test_open_corrupt),
		cmocka_unit_test(test_share_by_path),
		cmocka_unit_test(test_refresh_changed),
		cmocka_unit_test(test_refresh_same_second),
		cmocka_unit_test(test_refresh_mtime_only),
		cmocka_unit_test(test_refresh_forced),
		cmocka_unit_test(test_refresh_corrupt),
		cmocka_unit_test(test_refresh_missing),
		cmocka_unit_test(test_rewrite_in_place),
		cmocka_unit_test(test_check_result),
	};

	return test_status(cmocka_run_group_tests(tests, group_setup, group_teardown));
}
