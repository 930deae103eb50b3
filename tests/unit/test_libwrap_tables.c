/*
 * Unit tests for libwrap_tables.c in a scratch directory: libwrap's
 * hosts_allow_table and hosts_deny_table name originals of the test's own
 * (before the module's first call, which reads them once) and a second
 * directory stands for the workers' chroot.  The copies follow the
 * originals' content, mtime and absence, are mode 0644 whatever the umask
 * and the original's mode, are replaced by rename (a new inode), and a
 * copy stays when its original cannot be copied.
 */
#include <sys/types.h>
#include <sys/stat.h>

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
#include <unistd.h>

#include <cmocka.h>
#include <tcpd.h>

#include "../test_skip.h"

#include "libwrap_tables.h"
#include "log.h"
#include "unit_util.h"

static char	 base[64];
static char	 root[128];	/* the workers' chroot */
static char	 allow[128];	/* the originals */
static char	 deny_dir[128];
static char	 deny[256];
static int	 rootfd = -1;
static int	 nwarned;

static void
capture_log(int pri, const char *msg)
{
	(void)pri;
	(void)msg;
	nwarned++;
}

static int
group_setup(void **state)
{
	(void)state;
	(void)snprintf(base, sizeof(base), "/tmp/test_libwrap_tables.XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	(void)snprintf(root, sizeof(root), "%s/root", base);
	(void)snprintf(allow, sizeof(allow), "%s/hosts.allow", base);
	/* hosts.deny in a directory of its own, to be made a file. */
	(void)snprintf(deny_dir, sizeof(deny_dir), "%s/d", base);
	(void)snprintf(deny, sizeof(deny), "%s/hosts.deny", deny_dir);
	if (mkdir(root, 0755) == -1 || mkdir(deny_dir, 0755) == -1 ||
	    (rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	/* Before libwrap_tables.c reads them, once. */
	hosts_allow_table = allow;
	hosts_deny_table = deny;
	/* The copies are 0644 by fchmod, not by the umask. */
	(void)umask(077);
	log_set_forward(capture_log);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	log_set_forward(NULL);
	if (rootfd != -1)
		(void)close(rootfd);
	return unit_rm_tree(base);
}

/* Write <text> to <path>, replacing it in place (same inode). */
static void
put(const char *path, const char *text, mode_t mode)
{
	int	fd;

	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, mode)) != -1);
	assert_int_equal(write(fd, text, strlen(text)),
	    (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

/* The copy <name> holds exactly <text>. */
static void
assert_copy(const char *name, const char *text)
{
	char	buf[256];
	ssize_t	n;
	int	fd;

	assert_true((fd = openat(rootfd, name, O_RDONLY | O_CLOEXEC)) != -1);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	(void)close(fd);
	assert_string_equal(buf, text);
}

static ino_t
copy_ino(const char *name)
{
	struct stat	st;

	assert_int_equal(fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	return st.st_ino;
}

static void
assert_no_copy(const char *name)
{
	struct stat	st;

	assert_int_equal(fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(errno, ENOENT);
}

/* Nothing but the copies in the chroot: no temporary left behind. */
static void
assert_only_copies(void)
{
	assert_no_copy(".hosts.allow.new");
	assert_no_copy(".hosts.deny.new");
}

/* Both originals are copied, mode 0644; a second pass changes nothing. */
static void
test_copy_both(void **state)
{
	(void)state;
	put(allow, "in.telnetd: 127.0.0.1\n", 0600);
	put(deny, "ALL: ALL\n", 0600);
	assert_int_equal(libwrap_tables_copy(rootfd), 1);
	assert_copy("hosts.allow", "in.telnetd: 127.0.0.1\n");
	assert_copy("hosts.deny", "ALL: ALL\n");
	(void)copy_ino("hosts.allow");
	(void)copy_ino("hosts.deny");
	assert_only_copies();
	assert_int_equal(libwrap_tables_copy(rootfd), 0);
	assert_int_equal(libwrap_tables_copy(rootfd), 0);
	assert_int_equal(nwarned, 0);
}

/*
 * A new content (of another size), then the same content with another
 * mtime: each is copied again, by rename (a new inode); the other file
 * is left alone.
 */
static void
test_copy_on_change(void **state)
{
	struct timespec	ts[2];
	struct stat	st;
	ino_t		a, d;

	(void)state;
	a = copy_ino("hosts.allow");
	d = copy_ino("hosts.deny");
	put(allow, "ALL: 127.0.0.2 127.0.0.3\n", 0600);
	assert_int_equal(libwrap_tables_copy(rootfd), 1);
	assert_copy("hosts.allow", "ALL: 127.0.0.2 127.0.0.3\n");
	assert_true(copy_ino("hosts.allow") != a);
	assert_true(copy_ino("hosts.deny") == d);
	assert_int_equal(libwrap_tables_copy(rootfd), 0);

	/* Only the mtime moves (a clock step back, a restore). */
	a = copy_ino("hosts.allow");
	assert_int_equal(stat(allow, &st), 0);
	ts[0].tv_sec = ts[1].tv_sec = st.st_mtim.tv_sec - 3600;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, allow, ts, 0), 0);
	assert_int_equal(libwrap_tables_copy(rootfd), 1);
	assert_true(copy_ino("hosts.allow") != a);
	assert_copy("hosts.allow", "ALL: 127.0.0.2 127.0.0.3\n");
	assert_int_equal(libwrap_tables_copy(rootfd), 0);
	assert_only_copies();
	assert_int_equal(nwarned, 0);
}

/* A missing original removes its copy, once; it comes back with it. */
static void
test_original_gone(void **state)
{
	(void)state;
	assert_int_equal(unlink(deny), 0);
	assert_int_equal(libwrap_tables_copy(rootfd), 1);
	assert_no_copy("hosts.deny");
	assert_copy("hosts.allow", "ALL: 127.0.0.2 127.0.0.3\n");
	assert_int_equal(libwrap_tables_copy(rootfd), 0);
	put(deny, "ALL: 10.0.0.0/8\n", 0644);
	assert_int_equal(libwrap_tables_copy(rootfd), 1);
	assert_copy("hosts.deny", "ALL: 10.0.0.0/8\n");
	assert_int_equal(libwrap_tables_copy(rootfd), 0);
	assert_int_equal(nwarned, 0);
}

/*
 * An original that is a directory, or that cannot be opened, is an
 * error: -1, logged, and the workers keep reading the old copy.
 */
static void
test_not_regular(void **state)
{
	ino_t	a, d;

	(void)state;
	a = copy_ino("hosts.allow");
	assert_int_equal(unlink(allow), 0);
	assert_int_equal(mkdir(allow, 0755), 0);
	assert_int_equal(libwrap_tables_copy(rootfd), -1);
	assert_true(nwarned > 0);
	assert_true(copy_ino("hosts.allow") == a);
	assert_copy("hosts.allow", "ALL: 127.0.0.2 127.0.0.3\n");
	assert_only_copies();

	/* hosts.deny's directory becomes a file: ENOTDIR, not ENOENT. */
	nwarned = 0;
	d = copy_ino("hosts.deny");
	assert_int_equal(unit_rm_tree(deny_dir), 0);
	put(deny_dir, "not a directory\n", 0644);
	assert_int_equal(libwrap_tables_copy(rootfd), -1);
	assert_int_equal(nwarned, 2);
	assert_true(copy_ino("hosts.deny") == d);
	assert_copy("hosts.deny", "ALL: 10.0.0.0/8\n");

	/* Both back as files: copied again. */
	nwarned = 0;
	assert_int_equal(rmdir(allow), 0);
	assert_int_equal(unlink(deny_dir), 0);
	assert_int_equal(mkdir(deny_dir, 0755), 0);
	put(allow, "ALL: ALL\n", 0644);
	put(deny, "ALL: 192.0.2.1\n", 0644);
	assert_int_equal(libwrap_tables_copy(rootfd), 1);
	assert_copy("hosts.allow", "ALL: ALL\n");
	assert_copy("hosts.deny", "ALL: 192.0.2.1\n");
	assert_int_equal(nwarned, 0);
}

/*
 * A copy that cannot be written or removed (a bad directory descriptor,
 * a directory in its place) is an error and is logged.
 */
static void
test_copy_fails(void **state)
{
	char	path[256];

	(void)state;
	put(allow, "ALL: 127.0.0.9\n", 0644);
	assert_int_equal(libwrap_tables_copy(-1), -1);
	assert_true(nwarned > 0);
	assert_copy("hosts.allow", "ALL: ALL\n");
	assert_int_equal(libwrap_tables_copy(rootfd), 1);
	assert_copy("hosts.allow", "ALL: 127.0.0.9\n");

	/* hosts.deny disappears but its copy cannot be removed. */
	nwarned = 0;
	assert_int_equal(unlink(deny), 0);
	(void)snprintf(path, sizeof(path), "%s/hosts.deny", root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(libwrap_tables_copy(rootfd), -1);
	assert_int_equal(nwarned, 1);
	/* Once it can, it is done and counts as a change. */
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(libwrap_tables_copy(rootfd), 1);
	assert_int_equal(libwrap_tables_copy(rootfd), 0);
	put(deny, "ALL: 192.0.2.1\n", 0644);
	assert_int_equal(libwrap_tables_copy(rootfd), 1);
	nwarned = 0;
}

/* The chroot holds the two copies and nothing else by these names. */
static void
test_name(void **state)
{
	(void)state;
	assert_int_equal(libwrap_tables_name("hosts.allow"), 1);
	assert_int_equal(libwrap_tables_name("hosts.deny"), 1);
	assert_int_equal(libwrap_tables_name(".hosts.allow.new"), 0);
	assert_int_equal(libwrap_tables_name("hosts.allow.new"), 0);
	assert_int_equal(libwrap_tables_name("hosts"), 0);
	assert_int_equal(libwrap_tables_name(""), 0);
	assert_int_equal(libwrap_tables_name("passwd"), 0);
}

/* At exit both copies go; a missing one is no error; a stuck one is. */
static void
test_remove(void **state)
{
	char	path[256];

	(void)state;
	(void)copy_ino("hosts.allow");
	(void)copy_ino("hosts.deny");
	libwrap_tables_remove(root);
	assert_no_copy("hosts.allow");
	assert_no_copy("hosts.deny");
	libwrap_tables_remove(root);
	assert_int_equal(nwarned, 0);
	(void)snprintf(path, sizeof(path), "%s/hosts.allow", root);
	assert_int_equal(mkdir(path, 0755), 0);
	libwrap_tables_remove(root);
	assert_int_equal(nwarned, 1);
	assert_int_equal(rmdir(path), 0);
	nwarned = 0;
}

/*
 * A worker points libwrap at the copies in its root; the master's module
 * still copies from the originals it read first.
 */
static void
test_use(void **state)
{
	(void)state;
	libwrap_tables_use();
	assert_string_equal(hosts_allow_table, "/hosts.allow");
	assert_string_equal(hosts_deny_table, "/hosts.deny");
	put(allow, "ALL: 127.0.0.77 127.0.0.78\n", 0644);
	assert_int_equal(libwrap_tables_copy(rootfd), 1);
	assert_copy("hosts.allow", "ALL: 127.0.0.77 127.0.0.78\n");
	hosts_allow_table = allow;
	hosts_deny_table = deny;
}

int
main(void)
{
	/* In this order: each case starts from the copies the last left. */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_both),
		cmocka_unit_test(test_copy_on_change),
		cmocka_unit_test(test_original_gone),
		cmocka_unit_test(test_not_regular),
		cmocka_unit_test(test_copy_fails),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_use),
	};

	return test_status(cmocka_run_group_tests(tests, group_setup,
	    group_teardown));
}
