/*
 * Unit tests for sandbox.c: the rules, the user, the chroot directory's
 * checks, and confinement.  Each case that confines runs in a child of
 * its own (the test process stays root), which arms alarm() before it is
 * confined so that a hang ends it; the parent judges from the child's
 * wait status and /proc/PID/status.  The chroot is a fresh mkdtemp()
 * directory, the user nobody.  Needs root: skipped (status 77) otherwise.
 * What a worker does under the filter is in test_sandbox_work.c.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include <seccomp.h>

#include "sandbox.h"
#include "sandbox_child.h"
#include "unit_util.h"

static char	tree_dir[] = "/tmp/test_sandbox_tree.XXXXXX";

static int
setup(void **state)
{
	if (mkdtemp(tree_dir) == NULL)
		return -1;
	return sbtest_setup(state);
}

static int
teardown(void **state)
{
	if (unit_rm_tree(tree_dir) == -1)
		return -1;
	return sbtest_teardown(state);
}

static void
assert_sigsys(int status)
{
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

/* Calls no worker may make, whatever the list says. */
static const char *const never[] = {
	"execve", "execveat", "fork", "vfork", "clone", "clone3", "ptrace",
	"kill", "tkill", "setuid", "setresuid", "setgid", "setresgid",
	"setgroups", "chroot", "mount", "umount2", "unshare", "setns",
	"prctl", "seccomp", "bpf", "process_vm_readv", "process_vm_writev",
	"init_module", "finit_module", "open_by_handle_at", "keyctl",
	"personality", "io_uring_setup", "userfaultfd", "perf_event_open",
	"memfd_create", "listen", "chmod", "chown", "unlink", "mkdir",
	"symlink", "link", "rename", "truncate", "ftruncate",
};

/* Every rule is a known call, says why, and no rule allows a "never". */
static void
test_rules(void **state)
{
	const struct sandbox_rule	*r;
	size_t				 i, j, n;

	(void)state;
	r = sandbox_rules(&n);
	assert_true(n > 40);
	for (i = 0; i < n; i++) {
		assert_int_not_equal(seccomp_syscall_resolve_name(
		    r[i].sr_call), __NR_SCMP_ERROR);
		assert_non_null(r[i].sr_why);
		assert_true(strlen(r[i].sr_why) > 5);
		for (j = 0; j < sizeof(never) / sizeof(never[0]); j++)
			if (strcmp(r[i].sr_call, never[j]) == 0)
				fail_msg("%s is in the list", never[j]);
		/* An unconditional rule is the only one of its call. */
		for (j = 0; j < n; j++)
			if (j != i && r[i].sr_cmp == SANDBOX_ANY)
				assert_string_not_equal(r[i].sr_call,
				    r[j].sr_call);
		if (strcmp(r[i].sr_call, "socket") == 0 ||
		    strcmp(r[i].sr_call, "ioctl") == 0 ||
		    strcmp(r[i].sr_call, "fcntl") == 0 ||
		    strcmp(r[i].sr_call, "mmap") == 0)
			assert_int_not_equal(r[i].sr_cmp, SANDBOX_ANY);
	}
}

/* The value of the field <name> of /proc/<pid>/status. */
static void
status_field(pid_t pid, const char *name, char *val, size_t len)
{
	char	 path[64], line[256];
	FILE	*fp;
	size_t	 nl = strlen(name);

	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	assert_non_null(fp = fopen(path, "r"));
	val[0] = '\0';
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
			(void)snprintf(val, len, "%s", line + nl + 1);
			val[strcspn(val, "\n")] = '\0';
			break;
		}
	(void)fclose(fp);
	assert_true(val[0] != '\0' || strcmp(name, "Groups") == 0);
}

/* The kernel's view of a confined worker: ids, capabilities, filter, root. */
static void
test_proc_status(void **state)
{
	char	val[256], want[128], path[64], root[PATH_MAX];
	int	ready[2], go[2], status;
	ssize_t	n;
	pid_t	pid;

	(void)state;
	sbtest_need_root();
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	assert_true((pid = fork()) != -1);
	if (pid == 0) {
		(void)close(ready[0]);
		(void)close(go[1]);
		sbtest_confine();
		if (write(ready[1], "r", 1) != 1 || read(go[0], val, 1) != 1)
			_exit(2);
		_exit(0);
	}
	(void)close(ready[1]);
	(void)close(go[0]);
	assert_int_equal(read(ready[0], val, 1), 1);
	(void)snprintf(want, sizeof(want), "\t%u\t%u\t%u\t%u",
	    (unsigned)sbtest_nobody.pw_uid, (unsigned)sbtest_nobody.pw_uid,
	    (unsigned)sbtest_nobody.pw_uid, (unsigned)sbtest_nobody.pw_uid);
	status_field(pid, "Uid", val, sizeof(val));
	assert_string_equal(val, want);
	(void)snprintf(want, sizeof(want), "\t%u\t%u\t%u\t%u",
	    (unsigned)sbtest_nobody.pw_gid, (unsigned)sbtest_nobody.pw_gid,
	    (unsigned)sbtest_nobody.pw_gid, (unsigned)sbtest_nobody.pw_gid);
	status_field(pid, "Gid", val, sizeof(val));
	assert_string_equal(val, want);
	status_field(pid, "Groups", val, sizeof(val));
	assert_int_equal(strspn(val, " \t"), strlen(val));
	status_field(pid, "CapEff", val, sizeof(val));
	assert_string_equal(val, "\t0000000000000000");
	status_field(pid, "CapPrm", val, sizeof(val));
	assert_string_equal(val, "\t0000000000000000");
	status_field(pid, "CapBnd", val, sizeof(val));
	assert_string_equal(val, "\t0000000000000000");
	status_field(pid, "CapAmb", val, sizeof(val));
	assert_string_equal(val, "\t0000000000000000");
	status_field(pid, "NoNewPrivs", val, sizeof(val));
	assert_string_equal(val, "\t1");
	status_field(pid, "Seccomp", val, sizeof(val));
	assert_string_equal(val, "\t2");
	(void)snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	assert_true((n = readlink(path, root, sizeof(root) - 1)) > 0);
	root[n] = '\0';
	assert_string_equal(root, sbtest_root);
	assert_int_equal(write(go[1], "g", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	sbtest_exit0(status);
	(void)close(ready[0]);
	(void)close(go[1]);
}

/* Calls on the list work; the refused ones fail with EACCES. */
static int
child_allowed(void *arg)
{
	struct timespec	 ts;
	void		*p;
	int		 fd, sp[2];

	(void)arg;
	if (getpid() <= 1 || clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 1;
	if ((fd = socket(AF_INET6, SOCK_DGRAM, 0)) == -1 || close(fd) == -1)
		return 2;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1 ||
	    write(sp[0], "x", 1) != 1 || read(sp[1], &fd, 1) != 1)
		return 3;
	if ((p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0)) == MAP_FAILED || munmap(p, 8192) == -1)
		return 4;
	/* Reading is allowed, and the chroot has nothing to read. */
	if (openat(AT_FDCWD, "/etc/passwd", O_RDONLY) != -1 ||
	    errno != ENOENT)
		return 5;
	if (openat(AT_FDCWD, "/x", O_WRONLY | O_CREAT, 0600) != -1 ||
	    errno != EACCES || openat(AT_FDCWD, "/x", O_RDONLY | O_CREAT,
	    0600) != -1 || errno != EACCES || openat(AT_FDCWD, "/x",
	    O_RDONLY | O_TRUNC) != -1 || errno != EACCES)
		return 8;
	if (socket(AF_UNIX, SOCK_DGRAM, 0) != -1 || errno != EACCES)
		return 6;
	if (ioctl(sp[1], FIONREAD, &fd) == -1 || fd != 0)
		return 7;
	return 0;
}

static void
test_allowed(void **state)
{
	(void)state;
	sbtest_need_root();
	sbtest_exit0(sbtest_run(child_allowed, NULL));
}

/* A system call off the list: the argument says which. */
static int
child_forbidden(void *arg)
{
	static char	 prog[] = "/bin/true";
	char *const	 argv[] = { prog, NULL };
	int		 which = *(int *)arg, winsz[4];

	switch (which) {
	case 0:
		(void)syscall(SYS_execve, prog, argv, argv + 1);
		break;
	case 1:
		(void)syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
		break;
	case 2:
		(void)socket(AF_PACKET, SOCK_RAW, 0);
		break;
	case 3:
		(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0);
		break;
	case 4:
		(void)ioctl(0, TIOCGWINSZ, winsz);
		break;
	case 5:
		(void)syscall(SYS_kill, 1, 0);
		break;
	case 6:
		(void)syscall(SYS_setuid, 0);
		break;
	case 7:
		(void)syscall(SYS_fork);
		break;
	case 8:
		(void)syscall(SYS_listen, 0, 1);
		break;
	case 9:
		(void)syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, winsz, NULL);
		break;
	case 10:
		(void)syscall(SYS_tgkill, 1, 1, SIGTERM);
		break;
	default:
		(void)fcntl(0, F_SETOWN, 1);
		break;
	}
	return 0;
}

static void
test_forbidden(void **state)
{
	int	which;

	(void)state;
	sbtest_need_root();
	for (which = 0; which <= 11; which++) {
		print_message("forbidden call %d\n", which);
		assert_sigsys(sbtest_run(child_forbidden, &which));
	}
}

/* Without the filter: root's ids are gone for good. */
static void
test_setid(void **state)
{
	char	err[512];
	pid_t	pid;
	int	status, fd;

	(void)state;
	sbtest_need_root();
	assert_true((pid = fork()) != -1);
	if (pid == 0) {
		(void)alarm(SBTEST_SECS);
		if ((fd = sandbox_root(sbtest_root, err, sizeof(err))) == -1 ||
		    sandbox_chroot(fd, err, sizeof(err)) == -1 ||
		    sandbox_setid(sbtest_nobody.pw_uid, sbtest_nobody.pw_gid,
		    err, sizeof(err)) == -1)
			_exit(1);
		if (setuid(0) != -1 || errno != EPERM || seteuid(0) != -1 ||
		    setgid(0) != -1 || setgroups(0, NULL) != -1)
			_exit(2);
		/* The chroot holds: / is the empty directory. */
		if (access("/etc/passwd", F_OK) != -1 || errno != ENOENT ||
		    chroot("/tmp") != -1)
			_exit(3);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	sbtest_exit0(status);
}

static void
test_user(void **state)
{
	char	 err[256];
	uid_t	 uid;
	gid_t	 gid;
	struct passwd	*pw;

	(void)state;
	assert_int_equal(sandbox_user("nobody", &uid, &gid, err, sizeof(err)),
	    0);
	assert_int_equal(uid, sbtest_nobody.pw_uid);
	assert_int_equal(gid, sbtest_nobody.pw_gid);
	/* The default: portgate where it exists, else nobody. */
	if ((pw = getpwnam(SANDBOX_USER)) == NULL)
		pw = &sbtest_nobody;
	assert_int_equal(sandbox_user(NULL, &uid, &gid, err, sizeof(err)), 0);
	assert_int_equal(uid, pw->pw_uid);
	assert_int_equal(sandbox_user("root", &uid, &gid, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "uid or gid 0"));
	assert_int_equal(sandbox_user("no-such-user-pg", &uid, &gid, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no-such-user-pg"));
}

/* sandbox_root() on <path>: -1 with <msg> in the error, or 0. */
static void
root_refused(const char *path, const char *msg)
{
	char	err[512];

	assert_int_equal(sandbox_root(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, msg));
}

static void
test_root(void **state)
{
	char		 dir[PATH_MAX], sub[PATH_MAX], link[PATH_MAX];
	char		 err[512];
	struct stat	 st;
	mode_t		 old;
	int		 fd;

	(void)state;
	sbtest_need_root();
	(void)snprintf(dir, sizeof(dir), "%s/d", tree_dir);
	(void)snprintf(sub, sizeof(sub), "%s/d/e/f", tree_dir);
	(void)snprintf(link, sizeof(link), "%s/d/link", tree_dir);
	root_refused("relative/path", "not an absolute path");
	/* Made with its parents, 0755 whatever the umask. */
	old = umask(077);
	fd = sandbox_root(sub, err, sizeof(err));
	(void)umask(old);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_uid, 0);
	(void)close(fd);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* Not empty: d holds e. */
	root_refused(dir, "must be empty");
	assert_int_equal(chmod(sub, 0775), 0);
	root_refused(sub, "not writable by group or others");
	assert_int_equal(chmod(sub, 0757), 0);
	root_refused(sub, "not writable by group or others");
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(chown(sub, sbtest_nobody.pw_uid, 0), 0);
	root_refused(sub, "owned by root");
	assert_int_equal(chown(sub, 0, 0), 0);
	assert_true((fd = sandbox_root(sub, err, sizeof(err))) >= 0);
	(void)close(fd);
	/* A link as the last part is refused, a file too. */
	assert_int_equal(symlink("e/f", link), 0);
	root_refused(link, "not a directory");
	assert_int_equal(unlink(link), 0);
	assert_true((fd = open(link, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	(void)close(fd);
	root_refused(link, "not a directory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_user),
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_proc_status),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_forbidden),
		cmocka_unit_test(test_setid),
	};

	return test_status(cmocka_run_group_tests(tests, setup, teardown));
}
