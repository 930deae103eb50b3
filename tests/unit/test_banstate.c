/*
 * Unit tests of banstate.c: the text form of a ban (addresses of both
 * families, IPv4-mapped keys as IPv4, blanks, comments, every malformed
 * kind) and the state file (a save read back, expired bans dropped, no
 * temporary file left, a missing file, a missing last directory made, a
 * save that cannot rename leaving the old file), and the errors of both:
 * a symbolic link refused, malformed lines past the logged ones, more
 * lines than a list holds, names too long, a relative name, a write that
 * fails leaving the old file).
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "banstate.h"
#include "log.h"
#include "quota.h"

static char	tmpdir[] = "/tmp/test_banstate.XXXXXX";

static int
parse(const char *line, struct srckey *k, time_t *until)
{
	const char	*why;
	int		 rc;

	rc = banstate_parse(line, strlen(line), k, until, &why);
	assert_true(rc != -1 || why != NULL);
	return rc;
}

static const char *
addr(const struct srckey *k)
{
	static char	buf[BANSTATE_ADDR_MAX];

	return banstate_addr(k, buf, sizeof(buf));
}

/* Good lines, blanks and comments. */
static void
test_parse_good(void **state)
{
	struct srckey	k;
	time_t		u;

	(void)state;
	assert_int_equal(parse("192.0.2.1 0", &k, &u), 1);
	assert_string_equal(addr(&k), "192.0.2.1");
	assert_int_equal(u, 0);
	assert_int_equal(parse("\t2001:db8::1 \t 1893456000  ", &k, &u), 1);
	assert_string_equal(addr(&k), "2001:db8::1");
	assert_int_equal(u, 1893456000);
	/* A mapped address is the IPv4 address. */
	assert_int_equal(parse("::ffff:10.0.0.1 5", &k, &u), 1);
	assert_string_equal(addr(&k), "10.0.0.1");
	assert_int_equal(parse("253402300799 253402300799", &k, &u), -1);
	assert_int_equal(parse("10.0.0.1 253402300799", &k, &u), 1);
	assert_int_equal(parse("", &k, &u), 0);
	assert_int_equal(parse("   \t", &k, &u), 0);
	assert_int_equal(parse("# 10.0.0.1 0", &k, &u), 0);
	assert_int_equal(parse("  #", &k, &u), 0);
}

/* Every malformed kind. */
static void
test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"10.0.0.1", "10.0.0.1 0 0", "10.0.0.1 -5", "10.0.0.1 5x",
		"10.0.0.1 0x10", "10.0.0.1 253402300800",
		"10.0.0.1 0000000000001", "host.example 0", "10.0.0.0/8 0",
		"[::1] 0", "10.0.0.256 0", "10.0.0.1 # 0", "10.0.0.1\v0",
		/* 46 bytes: longer than any address. */
		"2001:0db8:0000:0000:0000:0000:0000:0001:ffff:1 0",
	};
	struct srckey	k;
	time_t		u;
	char		line[BANSTATE_LINE_MAX + 2];
	const char	*why;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &k, &u) != -1)
			fail_msg("'%s' accepted", bad[i]);
	/* NUL inside, and a line one byte too long. */
	assert_int_equal(banstate_parse("10.0.0.1\0 0", 11, &k, &u, &why),
	    -1);
	memset(line, ' ', sizeof(line));
	memcpy(line, "10.0.0.1 0", 10);
	assert_int_equal(banstate_parse(line, BANSTATE_LINE_MAX, &k, &u,
	    &why), 1);
	assert_int_equal(banstate_parse(line, BANSTATE_LINE_MAX + 1, &k, &u,
	    &why), -1);
}

/* format() gives back what parse() reads. */
static void
test_format(void **state)
{
	struct srckey	k, k2;
	time_t		u;
	char		buf[BANSTATE_LINE_MAX];
	int		n;

	(void)state;
	assert_int_equal(banstate_addr_parse("2001:db8:0:0:0:0:0:7", &k), 0);
	n = banstate_format(&k, 1234, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen("2001:db8::7 1234\n"));
	assert_string_equal(buf, "2001:db8::7 1234\n");
	buf[n - 1] = '\0';
	assert_int_equal(parse(buf, &k2, &u), 1);
	assert_memory_equal(&k, &k2, sizeof(k));
	assert_int_equal(banstate_format(&k, 1234, buf, 8), -1);
	assert_int_equal(banstate_addr_parse("nope", &k), -1);
}

static int
count_cb(const struct srckey *k, time_t until, void *arg)
{
	(void)k;
	(void)until;
	(*(int *)arg)++;
	return 0;
}

/* Entries of tmpdir/<sub> (0 if it is not there). */
static int
entries(const char *sub)
{
	char		 path[256];
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	(void)snprintf(path, sizeof(path), "%s/%s", tmpdir, sub);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	(void)closedir(d);
	return n;
}

/* A save read back; a missing directory made; nothing else left. */
static void
test_save_load(void **state)
{
	struct srckey	a, b, c;
	char		path[256];
	time_t		now = time(NULL);
	int		n = 0;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/state/bans", tmpdir);
	assert_int_equal(banstate_load(path, now), 0);
	assert_int_equal(banstate_addr_parse("192.0.2.1", &a), 0);
	assert_int_equal(banstate_addr_parse("2001:db8::1", &b), 0);
	assert_int_equal(banstate_addr_parse("192.0.2.3", &c), 0);
	assert_int_equal(quota_deny_until(&a, 0), 0);
	assert_int_equal(quota_deny_until(&b, now + 100), 0);
	assert_int_equal(quota_deny_until(&c, now + 2), 0);
	assert_int_equal(banstate_save(path, now), 0);
	assert_int_equal(entries("state"), 1);
	quota_deny_clear();
	/* At now + 2 the third has expired. */
	assert_int_equal(banstate_load(path, now + 2), 2);
	assert_int_equal(quota_denied(&a, now + 1000), 1);
	assert_int_equal(quota_denied(&b, now + 99), 1);
	assert_int_equal(quota_denied(&b, now + 100), 0);
	assert_int_equal(quota_denied(&c, now), 0);
	/* Asking about later times lifted nothing: a and b hold now. */
	assert_int_equal(quota_deny_walk(now, count_cb, &n), 2);
	quota_deny_clear();
}

/* A rename that fails leaves the old file and no temporary one. */
static void
test_save_fails(void **state)
{
	char	path[256];

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/dir", tmpdir);
	assert_int_equal(mkdir(path, 0700), 0);
	(void)snprintf(path, sizeof(path), "%s/dir/x", tmpdir);
	assert_int_equal(mkdir(path, 0700), 0);
	/* A non-empty directory cannot be renamed over. */
	(void)snprintf(path, sizeof(path), "%s/dir/x/y", tmpdir);
	assert_int_equal(mkdir(path, 0700), 0);
	(void)snprintf(path, sizeof(path), "%s/dir/x", tmpdir);
	assert_int_equal(banstate_save(path, time(NULL)), -1);
	assert_int_equal(entries("dir"), 1);
	/* A directory is not a file to load, nor fatal. */
	assert_int_equal(banstate_load(path, time(NULL)), 0);
}

/* Write <text> to tmpdir/<name> into <path>. */
static void
put(const char *name, const char *text, char *path, size_t len)
{
	FILE	*fp;

	(void)snprintf(path, len, "%s/%s", tmpdir, name);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fputs(text, fp) == EOF, 0);
	assert_int_equal(fclose(fp), 0);
}

/* A link is refused; malformed lines do not stop a load; nor a long file. */
static void
test_load_errors(void **state)
{
	struct srckey	 a, b;
	char		 path[256], link[256];
	FILE		*fp;
	time_t		 now = time(NULL);
	int		 i;

	(void)state;
	assert_int_equal(banstate_addr_parse("192.0.2.7", &a), 0);
	assert_int_equal(banstate_addr_parse("192.0.2.8", &b), 0);
	put("target", "192.0.2.7 0\n", path, sizeof(path));
	(void)snprintf(link, sizeof(link), "%s/link", tmpdir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(banstate_load(link, now), -1);
	assert_int_equal(quota_denied(&a, now), 0);

	/* More malformed lines than are logged, around two good ones. */
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "192.0.2.7 0\n");
	for (i = 0; i < BANSTATE_ERRORS_MAX + 5; i++)
		fprintf(fp, "junk %d\n", i);
	fprintf(fp, "192.0.2.8 0");	/* no last newline */
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(banstate_load(path, now), 2);
	assert_int_equal(quota_denied(&a, now), 1);
	assert_int_equal(quota_denied(&b, now), 1);
	quota_deny_clear();

	/* Twice a list's size in lines is read; the rest is not. */
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "192.0.2.7 0\n");
	for (i = 1; i < 2 * QUOTA_MAX_DENIED; i++)
		fprintf(fp, "#\n");
	fprintf(fp, "192.0.2.8 0\n");
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(banstate_load(path, now), 1);
	assert_int_equal(quota_denied(&a, now), 1);
	assert_int_equal(quota_denied(&b, now), 0);
	quota_deny_clear();
}

/* Names too long; a name without a directory is in the current one. */
static void
test_save_names(void **state)
{
	struct srckey	 a;
	char		 path[PATH_MAX + 8], cwd[PATH_MAX], dir[256];
	size_t		 n;
	time_t		 now = time(NULL);

	(void)state;
	assert_int_equal(banstate_addr_parse("192.0.2.9", &a), 0);
	assert_int_equal(quota_deny_until(&a, 0), 0);
	memset(path, 'a', sizeof(path));
	path[sizeof(path) - 1] = '\0';
	errno = 0;
	assert_int_equal(banstate_save(path, now), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	/* The directory fits; the temporary name (".XXXXXX") does not. */
	n = (size_t)snprintf(path, sizeof(path), "%s/", tmpdir);
	memset(path + n, 'b', PATH_MAX - 3 - n);
	path[PATH_MAX - 3] = '\0';
	errno = 0;
	assert_int_equal(banstate_save(path, now), -1);
	assert_int_equal(errno, ENAMETOOLONG);

	(void)snprintf(dir, sizeof(dir), "%s/rel", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(banstate_save("bans", now), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(entries("rel"), 1);
	quota_deny_clear();
	(void)snprintf(path, sizeof(path), "%s/bans", dir);
	assert_int_equal(banstate_load(path, now), 1);
	assert_int_equal(quota_denied(&a, now), 1);
	quota_deny_clear();
}

/* A write that fails (the file size limit) leaves the old file whole. */
static void
test_save_write_fails(void **state)
{
	struct srckey	 a, b;
	struct rlimit	 old, small;
	char		 path[256];
	time_t		 now = time(NULL);
	int		 rc, saved;
	void		(*oldsig)(int);

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/full", tmpdir);
	assert_int_equal(mkdir(path, 0700), 0);
	(void)snprintf(path, sizeof(path), "%s/full/bans", tmpdir);
	assert_int_equal(banstate_addr_parse("192.0.2.10", &a), 0);
	assert_int_equal(banstate_addr_parse("192.0.2.11", &b), 0);
	assert_int_equal(quota_deny_until(&a, 0), 0);
	assert_int_equal(banstate_save(path, now), 0);
	assert_int_equal(quota_deny_until(&b, 0), 0);

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 16;	/* less than the header */
	assert_true(old.rlim_cur == RLIM_INFINITY || old.rlim_cur > 16);
	oldsig = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	errno = 0;
	rc = banstate_save(path, now);
	saved = errno;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	(void)signal(SIGXFSZ, oldsig);
	assert_int_equal(rc, -1);
	assert_int_equal(saved, EFBIG);
	assert_int_equal(entries("full"), 1);
	/* The old file: a, not b. */
	quota_deny_clear();
	assert_int_equal(banstate_load(path, now), 1);
	assert_int_equal(quota_denied(&a, now), 1);
	assert_int_equal(quota_denied(&b, now), 0);
	quota_deny_clear();
}

static int
group_setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	/* Findings of the loads go nowhere. */
	return log_init(1, 0, "/dev/null");
}

static int
rm_cb(const char *path)
{
	char	cmd[512];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	return system(cmd);
}

static int
group_teardown(void **state)
{
	(void)state;
	return rm_cb(tmpdir) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_save_fails),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_save_names),
		cmocka_unit_test(test_save_write_fails),
	};

	return test_status(cmocka_run_group_tests(tests, group_setup,
	    group_teardown));
}
