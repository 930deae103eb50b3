/*
 * Confining a worker process, the one that reads client bytes, before its
 * event loop starts: the worker user is looked up, an empty root-owned
 * directory becomes its root, it takes that user's ids for good (with no
 * groups and no capability left, checked), sets no_new_privs, and loads a
 * seccomp filter that kills it on any system call outside the list below
 * (OpenSSH sandbox-seccomp-filter.c, with libseccomp).
 *
 * Everything a worker needs from files (certificates, keys, the GeoIP
 * database, banners, time zones) is loaded before: after the chroot there
 * is nothing to open.  Access records and diagnostics go to the master
 * (privsep_msg.h), which owns the log files.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "build-config.h"
#include "cred.h"
#include "libwrap_tables.h"
#include "log.h"
#include "sandbox.h"

#define ALLOW(call, why)	{ .sr_call = (call), .sr_why = (why) }
#define ALLOW_IF(call, arg, cmp, mask, val, why)			\
	{ .sr_call = (call), .sr_arg = (arg), .sr_cmp = (cmp),		\
	  .sr_mask = (mask), .sr_val = (val), .sr_why = (why) }
#define REFUSE(call, err, why)	{ .sr_call = (call), .sr_errno = (err),	\
	  .sr_why = (why) }

#define REFUSE_IF(call, arg, mask, val)					\
	{ .sr_call = (call), .sr_errno = EACCES, .sr_arg = (arg),	\
	  .sr_cmp = SANDBOX_MASKED_EQ, .sr_mask = (mask), .sr_val = (val),	\
	  .sr_why = "lazy opens for writing by libraries: fail" }
#define WHY_OPEN_MASK	(O_ACCMODE | O_CREAT | O_TRUNC)
#define WHY_OPEN_READ	"reading: libwrap's rule files (the master's copies " \
	"in the chroot); libraries' lazy opens find nothing there"

#define WHY_IO		"client, back-end and master sockets"
#define WHY_NET		"connections to redirect targets and ident, UDP flows"
#define WHY_LOOP	"libevent's epoll back end and its timers"
#define WHY_TIME	"clocks, when the vDSO is not used"
#define WHY_MEM		"malloc; never executable memory"
#define WHY_SIG		"libevent signal events, abort() on a broken invariant"
#define WHY_STAT	"glibc's fstat() and stdio"

/*
 * The allow-list.  Calls a worker makes from the code of src/ and from
 * libevent, OpenSSL and glibc on its behalf; several rows of one call are
 * alternatives.  A call that is missing on this architecture (open, poll,
 * epoll_wait on arm64) is left out of the filter.
 */
static const struct sandbox_rule sandbox_table[] = {
	ALLOW("read", WHY_IO),
	ALLOW("readv", WHY_IO),
	ALLOW("write", WHY_IO),
	ALLOW("writev", WHY_IO),
	ALLOW("recvfrom", WHY_IO),
	ALLOW("sendto", WHY_IO),
	/* Datagrams with their destination (dgram.c), descriptors. */
	ALLOW("recvmsg", WHY_IO),
	ALLOW("sendmsg", WHY_IO),
	ALLOW("close", WHY_IO),
	ALLOW("shutdown", "half-close passed on"),
	/* The listening sockets are the master's, bound before the fork. */
	ALLOW("accept", "clients on the master's listening sockets"),
	ALLOW("accept4", "clients on the master's listening sockets"),
	ALLOW_IF("socket", 0, SANDBOX_EQ, 0, AF_INET, WHY_NET),
	ALLOW_IF("socket", 0, SANDBOX_EQ, 0, AF_INET6, WHY_NET),
	/*
	 * syslog(3) reconnects to /dev/log on its own: let it fail.  No
	 * UNIX socket is made, so none reaches the abstract namespace.
	 */
	{ .sr_call = "socket", .sr_errno = EACCES, .sr_arg = 0,
	  .sr_cmp = SANDBOX_EQ, .sr_val = AF_UNIX,
	  .sr_why = "syslog(3) retrying /dev/log: fails" },
	/*
	 * dgram.c's getifaddrs(): the addresses of this machine, to refuse
	 * datagrams that a served UDP port of ours sent (a loop).  Without
	 * CAP_NET_ADMIN a netlink socket can read, never change anything.
	 */
	ALLOW_IF("socket", 0, SANDBOX_EQ, 0, AF_NETLINK,
	    "getifaddrs(): the local addresses, read only"),
	ALLOW_IF("socketpair", 0, SANDBOX_EQ, 0, AF_UNIX,
	    "a TLS session's socketpair to its spawned server"),
	ALLOW("connect", WHY_NET),
	/* ident.c queries from the address the client reached, port 0. */
	ALLOW("bind", "ident queries from the address the client reached"),
	ALLOW("getsockname", "local address of a client"),
	ALLOW("getpeername", "address of a client"),
	ALLOW("getsockopt", "SO_ERROR of a connect"),
	ALLOW("setsockopt", "TCP_NODELAY, SO_KEEPALIVE, IP_PKTINFO"),
	ALLOW("splice", "relay_tcp.c moves bytes through a pipe"),
	ALLOW("pipe2", "relay_tcp.c's splice pipes, libevent's notify pipe"),
	/* Not F_SETOWN: SIGIO to another process of the worker user. */
	ALLOW_IF("fcntl", 1, SANDBOX_EQ, 0, F_GETFL, "O_NONBLOCK"),
	ALLOW_IF("fcntl", 1, SANDBOX_EQ, 0, F_SETFL, "O_NONBLOCK"),
	ALLOW_IF("fcntl", 1, SANDBOX_EQ, 0, F_GETFD, "FD_CLOEXEC"),
	ALLOW_IF("fcntl", 1, SANDBOX_EQ, 0, F_SETFD, "FD_CLOEXEC"),
	ALLOW_IF("fcntl", 1, SANDBOX_EQ, 0, F_DUPFD_CLOEXEC,
	    "a spawn request waiting in the channel keeps its descriptor"),
	ALLOW_IF("ioctl", 1, SANDBOX_EQ, 0, FIONREAD,
	    "libevent sizes a read with FIONREAD"),
	ALLOW("epoll_create", WHY_LOOP),
	ALLOW("epoll_create1", WHY_LOOP),
	ALLOW("epoll_ctl", WHY_LOOP),
	ALLOW("epoll_wait", WHY_LOOP),
	ALLOW("epoll_pwait", WHY_LOOP),
	ALLOW("poll", WHY_LOOP),
	ALLOW("ppoll", WHY_LOOP),
	ALLOW("eventfd2", WHY_LOOP),
	ALLOW("timerfd_create", WHY_LOOP),
	ALLOW("timerfd_settime", WHY_LOOP),
	ALLOW("timerfd_gettime", WHY_LOOP),
	ALLOW("clock_gettime", WHY_TIME),
	ALLOW("clock_getres", WHY_TIME),
	ALLOW("gettimeofday", WHY_TIME),
	ALLOW("time", WHY_TIME),
	ALLOW("brk", WHY_MEM),
	ALLOW_IF("mmap", 2, SANDBOX_MASKED_EQ, PROT_EXEC, 0, WHY_MEM),
	ALLOW_IF("mprotect", 2, SANDBOX_MASKED_EQ, PROT_EXEC, 0, WHY_MEM),
	ALLOW("munmap", WHY_MEM),
	ALLOW("mremap", WHY_MEM),
	ALLOW("madvise", WHY_MEM),
	ALLOW("futex", "glibc and OpenSSL locks"),
	ALLOW("sched_yield", "glibc and sanitizer spin locks"),
	ALLOW("rt_sigaction", WHY_SIG),
	ALLOW("rt_sigprocmask", WHY_SIG),
	ALLOW("rt_sigreturn", WHY_SIG),
	ALLOW("sigaltstack", "sanitizer builds look at the signal stack"),
	ALLOW("restart_syscall", "calls the kernel restarts after a signal"),
	/* libevent reads no EVENT_* variable in a set-id process. */
	ALLOW("getuid", "libevent's set-id check"),
	ALLOW("geteuid", "libevent's set-id check"),
	ALLOW("getgid", "libevent's set-id check"),
	ALLOW("getegid", "libevent's set-id check"),
	ALLOW("getpid", WHY_SIG),
	ALLOW("gettid", WHY_SIG),
	ALLOW_IF("tgkill", 0, SANDBOX_EQ, 0, SANDBOX_SELF,
	    "abort(): a signal to itself only"),
	ALLOW("exit", "the end of the worker"),
	ALLOW("exit_group", "the end of the worker"),
	ALLOW("getrandom", "OpenSSL's and libevent's random numbers"),
	ALLOW("fstat", WHY_STAT),
	ALLOW("newfstatat", WHY_STAT),
	ALLOW("lseek", WHY_STAT),
	/* glibc's getloadavg() reads /proc/loadavg, which is not there. */
	ALLOW("sysinfo", "the load average for max_load"),
	ALLOW("getrlimit", "fdbudget.c reads RLIMIT_NOFILE"),
	ALLOW_IF("prlimit64", 2, SANDBOX_EQ, 0, 0,
	    "fdbudget.c reads RLIMIT_NOFILE (reading only)"),
	/*
	 * Libraries open files lazily (openssl.cnf, locales, fdbudget.c's
	 * /proc/self/fd, which then probes): in the chroot nothing is there
	 * but the copies of hosts.allow and hosts.deny, so reads fail as
	 * they would anyway, and opens for writing fail instead of killing
	 * every session of the worker (as OpenSSH does).
	 */
	ALLOW_IF("open", 1, SANDBOX_MASKED_EQ, WHY_OPEN_MASK, O_RDONLY,
	    WHY_OPEN_READ),
	REFUSE_IF("open", 1, O_ACCMODE, O_WRONLY),
	REFUSE_IF("open", 1, O_ACCMODE, O_RDWR),
	REFUSE_IF("open", 1, O_CREAT, O_CREAT),
	REFUSE_IF("open", 1, O_TRUNC, O_TRUNC),
	ALLOW_IF("openat", 2, SANDBOX_MASKED_EQ, WHY_OPEN_MASK, O_RDONLY,
	    WHY_OPEN_READ),
	REFUSE_IF("openat", 2, O_ACCMODE, O_WRONLY),
	REFUSE_IF("openat", 2, O_ACCMODE, O_RDWR),
	REFUSE_IF("openat", 2, O_CREAT, O_CREAT),
	REFUSE_IF("openat", 2, O_TRUNC, O_TRUNC),
	ALLOW("umask", "libwrap puts back the umask its options may set"),
};

const struct sandbox_rule *
sandbox_rules(size_t *n)
{
	*n = sizeof(sandbox_table) / sizeof(sandbox_table[0]);
	return sandbox_table;
}

int
sandbox_user(const char *name, uid_t *uid, gid_t *gid, char *err,
    size_t errlen)
{
	struct passwd	*pw;

	errno = 0;
	if (name != NULL)
		pw = getpwnam(name);
	else if ((pw = getpwnam(name = SANDBOX_USER)) == NULL) {
		errno = 0;
		pw = getpwnam(name = SANDBOX_USER_FALLBACK);
	}
	if (pw == NULL) {
		(void)snprintf(err, errlen, "worker user %s: %s", name,
		    errno != 0 ? strerror(errno) : "no such user");
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		(void)snprintf(err, errlen, "worker user %s: has uid or gid 0",
		    name);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/*
 * The directory <name> in <dirfd>, made 0755 if absent.  A directory made
 * here is opened without following links, so that a name swapped for a
 * link in between is refused; existing ones (/var/run) may be links.
 */
static int
sandbox_mkdir(int dirfd, const char *name, int last)
{
	int	fd, made = 0, flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

	if (mkdirat(dirfd, name, 0755) == 0)
		made = 1;
	else if (errno != EEXIST)
		return -1;
	if (made || last)
		flags |= O_NOFOLLOW;
	if ((fd = openat(dirfd, name, flags)) == -1)
		return -1;
	if (made && fchmod(fd, 0755) == -1) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* Is the directory <fd> empty?  1, 0, or -1 on error. */
/*
 * Is <name> in the directory <fd> a copy of a TCP wrappers file that the
 * master keeps there (libwrap_tables.h): a regular file of root's that
 * only root may write?
 */
static int
sandbox_wrap_copy(int fd, const char *name)
{
	struct stat	st;

	return libwrap_tables_name(name) && fstatat(fd, name, &st,
	    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == 0 && (st.st_mode & 022) == 0;
}

static int
sandbox_empty(int fd)
{
	DIR		*d;
	struct dirent	*de;
	int		 dfd, empty = 1;

	if ((dfd = dup(fd)) == -1)
		return -1;
	if ((d = fdopendir(dfd)) == NULL) {
		(void)close(dfd);
		return -1;
	}
	while (empty && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    !sandbox_wrap_copy(fd, de->d_name))
			empty = 0;
	(void)closedir(d);
	return empty;
}

/* Check the opened chroot directory <fd>; 0 or -1 with <err>. */
static int
sandbox_root_check(int fd, const char *path, char *err, size_t errlen)
{
	struct stat	st;
	int		empty;

	if (fstat(fd, &st) == -1) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		(void)snprintf(err, errlen, "%s: must be owned by root and not "
		    "writable by group or others", path);
		return -1;
	}
	if ((empty = sandbox_empty(fd)) != 1) {
		(void)snprintf(err, errlen, "%s: %s", path, empty == 0 ?
		    "must be empty" : strerror(errno));
		return -1;
	}
	return 0;
}

int
sandbox_root(const char *path, char *err, size_t errlen)
{
	char	 buf[PATH_MAX], *name, *next;
	int	 fd, nfd;

	if (path[0] != '/' || strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		(void)snprintf(err, errlen, "%s: not an absolute path", path);
		return -1;
	}
	if ((fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto fail;
	for (name = buf + 1; *name != '\0'; name = next) {
		if ((next = strchr(name, '/')) != NULL)
			*next++ = '\0';
		else
			next = name + strlen(name);
		if (*name == '\0')
			continue;
		nfd = sandbox_mkdir(fd, name, *next == '\0');
		(void)close(fd);
		if ((fd = nfd) == -1)
			goto fail;
	}
	if (sandbox_root_check(fd, path, err, errlen) == -1) {
		(void)close(fd);
		return -1;
	}
	return fd;
fail:
	(void)snprintf(err, errlen, "%s: %s", path, errno == ENOTDIR ||
	    errno == ELOOP ? "not a directory (links are refused)" :
	    strerror(errno));
	return -1;
}

int
sandbox_chroot(int dirfd, char *err, size_t errlen)
{
	const char	*what;

	what = "fchdir";
	if (fchdir(dirfd) == -1)
		goto fail;
	what = "chroot";
	if (chroot(".") == -1)
		goto fail;
	what = "chdir";
	if (chdir("/") == -1)
		goto fail;
	(void)close(dirfd);
	return 0;
fail:
	(void)snprintf(err, errlen, "%s: %s", what, strerror(errno));
	(void)close(dirfd);
	return -1;
}

/* Are the effective, permitted and inheritable capability sets empty? */
static int
sandbox_nocaps(void)
{
	struct __user_cap_header_struct	hdr;
	struct __user_cap_data_struct	data[_LINUX_CAPABILITY_U32S_3];
	size_t				i;

	memset(&hdr, 0, sizeof(hdr));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		return -1;
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective != 0 || data[i].permitted != 0 ||
		    data[i].inheritable != 0)
			return 0;
	return 1;
}

int
sandbox_setid(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	const char	*what;
	int		 cap, e;

	/* The bounding set needs CAP_SETPCAP: empty it while root. */
	what = "PR_CAPBSET_DROP";
	for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1)
			goto fail;
	what = "PR_CAP_AMBIENT_CLEAR_ALL";
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		goto fail;
	if ((e = cred_set(NULL, 0, gid, 1, uid, &what)) != 0) {
		errno = e;
		goto fail;
	}
	errno = EPERM;
	what = "gid 0 could be regained";
	if (setgid(0) != -1 || setegid(0) != -1)
		goto fail;
	what = "capabilities left after setresuid";
	switch (sandbox_nocaps()) {
	case 1:
		return 0;
	case 0:
		errno = EPERM;
		/* FALLTHROUGH */
	default:
		goto fail;
	}
fail:
	(void)snprintf(err, errlen, "%s: %s", what, strerror(errno));
	return -1;
}

/* Add <r> to <ctx>; 0, or a negative errno from libseccomp. */
static int
sandbox_rule_add(scmp_filter_ctx ctx, const struct sandbox_rule *r)
{
	struct scmp_arg_cmp	cmp;
	uint32_t		action;
	uint64_t		val = r->sr_val;
	int			nr;

	/* A call this architecture does not have needs no rule. */
	if ((nr = seccomp_syscall_resolve_name(r->sr_call)) < 0)
		return 0;
	action = r->sr_errno != 0 ? SCMP_ACT_ERRNO((uint32_t)r->sr_errno) :
	    SCMP_ACT_ALLOW;
	if (r->sr_cmp == SANDBOX_ANY)
		return seccomp_rule_add(ctx, action, nr, 0);
	if (val == SANDBOX_SELF)
		val = (uint64_t)getpid();
	memset(&cmp, 0, sizeof(cmp));
	cmp.arg = r->sr_arg;
	cmp.op = r->sr_cmp == SANDBOX_EQ ? SCMP_CMP_EQ : SCMP_CMP_MASKED_EQ;
	cmp.datum_a = r->sr_cmp == SANDBOX_EQ ? val : r->sr_mask;
	cmp.datum_b = r->sr_cmp == SANDBOX_EQ ? 0 : val;
	return seccomp_rule_add_array(ctx, action, nr, 1, &cmp);
}

int
sandbox_seccomp(char *err, size_t errlen)
{
	scmp_filter_ctx	 ctx;
	size_t		 i, n;
	int		 rc;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		(void)snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s",
		    strerror(errno));
		return -1;
	}
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		(void)snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	/* A call through another ABI (int 0x80, x32) is no way around. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0) {
		(void)snprintf(err, errlen, "seccomp bad-arch action: %s",
		    strerror(-rc));
		goto done;
	}
	(void)sandbox_rules(&n);
	for (i = 0; i < n; i++)
		if ((rc = sandbox_rule_add(ctx, &sandbox_table[i])) != 0) {
			(void)snprintf(err, errlen, "seccomp rule %s: %s",
			    sandbox_table[i].sr_call, strerror(-rc));
			goto done;
		}
	if ((rc = seccomp_load(ctx)) != 0)
		(void)snprintf(err, errlen, "seccomp_load: %s", strerror(-rc));
done:
	seccomp_release(ctx);
	return rc == 0 ? 0 : -1;
}

void
sandbox_worker(const struct sandbox_conf *conf)
{
	char	err[256 + PATH_MAX];
	uid_t	uid;
	gid_t	gid;
	int	fd;

	if (sandbox_user(conf->sb_user, &uid, &gid, err, sizeof(err)) == -1 ||
	    (fd = sandbox_root(conf->sb_root != NULL ? conf->sb_root :
	    PORTGATE_EMPTYDIR, err, sizeof(err))) == -1 ||
	    sandbox_chroot(fd, err, sizeof(err)) == -1 ||
	    sandbox_setid(uid, gid, err, sizeof(err)) == -1 ||
	    sandbox_seccomp(err, sizeof(err)) == -1)
		fatalx("worker sandbox: %s", err);
	log_debug("%s: uid %u gid %u", __func__, (unsigned)uid, (unsigned)gid);
}
