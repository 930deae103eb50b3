/*
 * Unit tests for cred_groups() in cred.c: the group list a spawned server
 * gets.  For root and nobody the expectation is computed independently of
 * getgrouplist(3), by walking the whole group database with getgrent(3).
 * A user in supplementary groups, and one in too many, are made in a
 * child process with a private mount namespace in which scratch passwd,
 * group and nsswitch.conf files are bound over /etc's: the real /etc is
 * never touched.  cred_drop() runs in the spawn child and is covered by
 * the end-to-end spawn tests.
 */
#include <sys/types.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "config.h"
#include "cred.h"
#include "unit_util.h"

#define NOUSER_UID	((uid_t)3999999)	/* checked to have no name */
#define FAKE_UID	4242
#define MANY		300		/* groups of the user with too many */

/* What a child reports of one cred_groups() call. */
struct result {
	int			 r_setup;	/* 0: no private /etc */
	int			 r_rv;
	struct cred_groups	 r_cg;
	char			 r_err[256];
};

/* A service that runs as <uid> (if <has_uid>) and <gid> (if <has_gid>). */
static void
sc_make(struct service_conf *sc, int has_uid, uid_t uid, int has_gid,
    gid_t gid, int groups)
{
	memset(sc, 0, sizeof(*sc));
	sc->sc_has_uid = has_uid;
	sc->sc_uid = uid;
	sc->sc_has_gid = has_gid;
	sc->sc_gid = gid;
	sc->sc_groups = groups;
}

static int
gid_cmp(const void *a, const void *b)
{
	gid_t	x = *(const gid_t *)a, y = *(const gid_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort <v> of <*n> and drop repeats. */
static void
gid_set(gid_t *v, int *n)
{
	int	i, j = 0;

	qsort(v, (size_t)*n, sizeof(*v), gid_cmp);
	for (i = 0; i < *n; i++)
		if (j == 0 || v[j - 1] != v[i])
			v[j++] = v[i];
	*n = j;
}

/*
 * The groups of user <name> with primary group <gid>, from a walk of the
 * whole group database (not getgrouplist()): into <v>, their count.
 */
static int
groups_by_walk(const char *name, gid_t gid, gid_t *v, int max)
{
	struct group	*gr;
	int		 n = 0, i;

	v[n++] = gid;
	setgrent();
	while ((gr = getgrent()) != NULL) {
		for (i = 0; gr->gr_mem[i] != NULL; i++) {
			if (strcmp(gr->gr_mem[i], name) != 0)
				continue;
			assert_true(n < max);
			v[n++] = gr->gr_gid;
			break;
		}
	}
	endgrent();
	gid_set(v, &n);
	return n;
}

/* <cg> holds exactly the set <want> of <nwant>, <want> sorted. */
static void
groups_equal(const struct cred_groups *cg, const gid_t *want, int nwant)
{
	gid_t	got[CRED_MAXGROUPS];
	int	n = cg->cg_n, i;

	assert_true(n > 0 && n <= CRED_MAXGROUPS);
	memcpy(got, cg->cg_gid, (size_t)n * sizeof(gid_t));
	gid_set(got, &n);
	assert_int_equal(n, cg->cg_n);		/* no repeats */
	for (i = 0; i < n && i < nwant; i++)
		if (got[i] != want[i])
			fail_msg("group %d: %u, want %u", i, (unsigned)got[i],
			    (unsigned)want[i]);
	assert_int_equal(n, nwant);
}

/* groups = yes for the user <name> of the real database. */
static void
groups_of_user(const char *name)
{
	struct service_conf	 sc;
	struct cred_groups	 cg;
	struct passwd		*pw;
	gid_t			 want[CRED_MAXGROUPS * 4];
	uid_t			 uid;
	char			 err[256];
	int			 n;

	if (geteuid() != 0)
		TEST_SKIP();
	if ((pw = getpwnam(name)) == NULL)
		fail_msg("no user %s in the password database", name);
	uid = pw->pw_uid;
	n = groups_by_walk(name, pw->pw_gid, want, (int)(sizeof(want) /
	    sizeof(want[0])));
	/* The service's own group does not enter the list. */
	sc_make(&sc, 1, uid, 1, (gid_t)12345, 1);
	assert_int_equal(cred_groups(&sc, &cg, err, sizeof(err)), 0);
	groups_equal(&cg, want, n);
	print_message("%s: %d group(s)\n", name, cg.cg_n);
}

/* Nothing to change: a service without user or group, or a daemon not root. */
static void
test_no_change(void **state)
{
	struct service_conf	 sc;
	struct cred_groups	 cg;
	struct result		 r;
	char			 err[256];
	int			 fds[2], status;
	pid_t			 pid;

	(void)state;
	sc_make(&sc, 0, 0, 0, 0, 1);
	cg.cg_n = 7;
	assert_int_equal(cred_groups(&sc, &cg, err, sizeof(err)), 0);
	assert_int_equal(cg.cg_n, -1);
	sc_make(&sc, 1, 0, 1, 0, 1);
	if (geteuid() != 0) {
		assert_int_equal(cred_groups(&sc, &cg, err, sizeof(err)), 0);
		assert_int_equal(cg.cg_n, -1);
		return;
	}
	/* Root: ask from a child that has become nobody for good. */
	assert_int_equal(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		memset(&r, 0, sizeof(r));
		r.r_setup = setgroups(0, NULL) == 0 &&
		    setresgid(65534, 65534, 65534) == 0 &&
		    setresuid(65534, 65534, 65534) == 0;
		r.r_rv = cred_groups(&sc, &r.r_cg, r.r_err, sizeof(r.r_err));
		_exit(write(fds[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
	}
	assert_true(pid > 0);
	(void)close(fds[1]);
	assert_int_equal(read(fds[0], &r, sizeof(r)), sizeof(r));
	(void)close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(r.r_setup);
	assert_int_equal(r.r_rv, 0);
	assert_int_equal(r.r_cg.cg_n, -1);
}

/*
 * groups = no: no supplementary group at all, as xinetd's
 * setgroups(0, NULL); a group without a user: none either, groups = yes
 * or not (xinetd calls initgroups() only for a user).
 */
static void
test_groups_no(void **state)
{
	struct service_conf	 sc;
	struct cred_groups	 cg;
	char			 err[256];

	(void)state;
	if (geteuid() != 0)
		TEST_SKIP();
	sc_make(&sc, 1, 65534, 1, 4321, 0);
	cg.cg_n = 7;
	assert_int_equal(cred_groups(&sc, &cg, err, sizeof(err)), 0);
	assert_int_equal(cg.cg_n, 0);
	sc_make(&sc, 1, 65534, 0, 0, 0);
	cg.cg_n = 7;
	assert_int_equal(cred_groups(&sc, &cg, err, sizeof(err)), 0);
	assert_int_equal(cg.cg_n, 0);
	/* root with groups = no loses root's groups too. */
	sc_make(&sc, 1, 0, 0, 0, 0);
	cg.cg_n = 7;
	assert_int_equal(cred_groups(&sc, &cg, err, sizeof(err)), 0);
	assert_int_equal(cg.cg_n, 0);
	sc_make(&sc, 0, 0, 1, 4321, 1);
	cg.cg_n = 7;
	assert_int_equal(cred_groups(&sc, &cg, err, sizeof(err)), 0);
	assert_int_equal(cg.cg_n, 0);
}

/* groups = yes for a uid with no name: nothing to look up, no groups. */
static void
test_uid_without_name(void **state)
{
	struct service_conf	 sc;
	struct cred_groups	 cg;
	char			 err[256];

	(void)state;
	if (geteuid() != 0)
		TEST_SKIP();
	assert_null(getpwuid(NOUSER_UID));
	sc_make(&sc, 1, NOUSER_UID, 1, 777, 1);
	cg.cg_n = 7;
	assert_int_equal(cred_groups(&sc, &cg, err, sizeof(err)), 0);
	assert_int_equal(cg.cg_n, 0);
}

static void
test_groups_root(void **state)
{
	(void)state;
	groups_of_user("root");
}

static void
test_groups_nobody(void **state)
{
	(void)state;
	groups_of_user("nobody");
}

/* Write <text> to <dir>/<name>; its path in <path>. */
static void
file_put(const char *dir, const char *name, const char *text, char *path,
    size_t len)
{
	FILE	*f;

	(void)snprintf(path, len, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/*
 * In a child with <dir>'s passwd, group and nsswitch.conf bound over
 * /etc's in its own mount namespace, cred_groups() for FAKE_UID with
 * groups = yes and group <gid>; what it said in <r>.
 */
static void
groups_in_private_etc(const char *dir, gid_t gid, struct result *r)
{
	struct service_conf	 sc;
	const char		*files[] = { "passwd", "group",
	    "nsswitch.conf" };
	char			 src[256], dst[64];
	int			 fds[2], status, ok;
	size_t			 i;
	pid_t			 pid;

	sc_make(&sc, 1, FAKE_UID, 1, gid, 1);
	assert_int_equal(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		memset(r, 0, sizeof(*r));
		ok = unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL,
		    MS_REC | MS_PRIVATE, NULL) == 0;
		for (i = 0; ok && i < sizeof(files) / sizeof(files[0]); i++) {
			(void)snprintf(src, sizeof(src), "%s/%s", dir,
			    files[i]);
			(void)snprintf(dst, sizeof(dst), "/etc/%s", files[i]);
			ok = mount(src, dst, NULL, MS_BIND, NULL) == 0;
		}
		/* The bind took: the database is the scratch one. */
		ok = ok && getpwuid(FAKE_UID) != NULL &&
		    getpwnam("root") == NULL;
		r->r_setup = ok;
		if (!ok)
			(void)snprintf(r->r_err, sizeof(r->r_err), "%s",
			    strerror(errno));
		else
			r->r_rv = cred_groups(&sc, &r->r_cg, r->r_err,
			    sizeof(r->r_err));
		_exit(write(fds[1], r, sizeof(*r)) == (ssize_t)sizeof(*r) ? 0 : 1);
	}
	assert_true(pid > 0);
	(void)close(fds[1]);
	assert_int_equal(read(fds[0], r, sizeof(*r)), sizeof(*r));
	(void)close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

/* A scratch directory with the given passwd and group files. */
static void
private_etc(char *dir, size_t len, const char *passwd, const char *group)
{
	char	path[256];

	(void)strlcpy(dir, "/tmp/test_cred.XXXXXX", len);
	assert_non_null(mkdtemp(dir));
	file_put(dir, "passwd", passwd, path, sizeof(path));
	file_put(dir, "group", group, path, sizeof(path));
	file_put(dir, "nsswitch.conf", "passwd: files\ngroup: files\n", path,
	    sizeof(path));
}

/*
 * A user in two supplementary groups: those and its primary group, not
 * the groups it is not a member of (one lists a user whose name it
 * begins), not the service's group.
 */
static void
test_groups_supplementary(void **state)
{
	struct result	r;
	char		dir[64];
	const gid_t	want[] = { 4242, 4300, 4301 };

	(void)state;
	if (geteuid() != 0)
		TEST_SKIP();
	private_etc(dir, sizeof(dir),
	    "pgunit:x:4242:4242::/nonexistent:/bin/false\n"
	    "other:x:4243:4243::/nonexistent:/bin/false\n",
	    "pgunit:x:4242:\n"
	    "g1:x:4300:pgunit\n"
	    "g2:x:4301:other,pgunit\n"
	    "g3:x:4302:other\n"
	    "g4:x:4303:pgunitx,xpgunit\n"
	    "g5:x:4304:\n");
	groups_in_private_etc(dir, 4304, &r);
	assert_int_equal(unit_rm_tree(dir), 0);
	if (!r.r_setup) {
		print_message("no private /etc: %s\n", r.r_err);
		TEST_SKIP();
	}
	assert_int_equal(r.r_rv, 0);
	groups_equal(&r.r_cg, want, 3);
}

/* A user in more groups than CRED_MAXGROUPS: an error that says so. */
static void
test_groups_too_many(void **state)
{
	struct result	 r;
	char		 dir[64], want[64], *group, *p;
	int		 i;

	(void)state;
	if (geteuid() != 0)
		TEST_SKIP();
	assert_true(MANY > CRED_MAXGROUPS);
	assert_non_null(group = malloc(MANY * 32));
	for (p = group, i = 0; i < MANY; i++)
		p += sprintf(p, "g%d:x:%d:pgunit\n", i, 5000 + i);
	private_etc(dir, sizeof(dir),
	    "pgunit:x:4242:4242::/nonexistent:/bin/false\n", group);
	free(group);
	groups_in_private_etc(dir, 4242, &r);
	assert_int_equal(unit_rm_tree(dir), 0);
	if (!r.r_setup) {
		print_message("no private /etc: %s\n", r.r_err);
		TEST_SKIP();
	}
	assert_int_equal(r.r_rv, -1);
	(void)snprintf(want, sizeof(want), "user pgunit is in more than %d "
	    "groups", CRED_MAXGROUPS);
	assert_string_equal(r.r_err, want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_change),
		cmocka_unit_test(test_groups_no),
		cmocka_unit_test(test_uid_without_name),
		cmocka_unit_test(test_groups_root),
		cmocka_unit_test(test_groups_nobody),
		cmocka_unit_test(test_groups_supplementary),
		cmocka_unit_test(test_groups_too_many),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
