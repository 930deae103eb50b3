/*
 * Unit tests of who may have written the files portgate reads as
 * configuration and appends its records to (THREATS.md rule 6): the main
 * file, include files, include directories and the symbolic links in them
 * (conf_lex.c, through config_load()), and FILE log sinks (accesslog.c,
 * opening and reopening).  Every case builds the files with the modes and
 * owners it needs in a scratch directory; a case that needs another owner
 * chowns to "nobody", so it runs as root only and is skipped otherwise.
 * In an expected diagnostic '@' stands for the scratch directory.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../test_skip.h"

#include "accesslog.h"
#include "conf_diag.h"
#include "config.h"
#include "log.h"
#include "unit_util.h"

#ifndef PATH_MAX
#define PATH_MAX	4096
#endif

/* A valid internal service "<id>" on port <port>, eight lines. */
#define SVC(id, port) \
	"service echo\n{\n\tid = " id "\n\ttype = INTERNAL UNLISTED\n" \
	"\tsocket_type = stream\n\twait = no\n\tport = " port "\n}\n"

#define DIAGS(...) \
	check_diags((const char *const []){ __VA_ARGS__, NULL })
#define NO_DIAGS()	check_diags((const char *const []){ NULL })

static char		 tmpdir[] = "/tmp/test_conf_files.XXXXXX";
static char		 logpath[PATH_MAX];	/* log.c's own messages */
static struct conf_diag	 cd;
static struct config	*cf;

/* "<tmpdir>/<name>" (unit_path()). */
static const char *
tpath(const char *name)
{
	return unit_path(tmpdir, name);
}

/* Copy <pat> into <out> with every '@' replaced by the scratch directory. */
static void
expand(const char *pat, char *out, size_t len)
{
	unit_expand(tmpdir, pat, out, len);
}

/* Write <text> to <tmpdir>/<name> with exactly <mode>. */
static void
put_mode(const char *name, const char *text, mode_t mode)
{
	const char	*path = tpath(name);
	size_t		 len = strlen(text);
	int		 fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_not_equal(fd, -1);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* Make the directory <tmpdir>/<name> with exactly <mode>. */
static void
mkdir_mode(const char *name, mode_t mode)
{
	assert_int_equal(mkdir(tpath(name), 0700), 0);
	assert_int_equal(chmod(tpath(name), mode), 0);
}

/* A symbolic link <tmpdir>/<name> to <target>. */
static void
link_to(const char *target, const char *name)
{
	char	buf[PATH_MAX];

	expand(target, buf, sizeof(buf));
	assert_int_equal(symlink(buf, tpath(name)), 0);
}

/*
 * The uid of "nobody", to own files as another user; skips the test when
 * not running as root (only root may give files away) or without it.
 */
static uid_t
need_nobody(void)
{
	struct passwd	*pw;

	if (geteuid() != 0) {
		print_message("not root: cannot make files owned by another "
		    "user, skipped\n");
		TEST_SKIP();
	}
	if ((pw = getpwnam("nobody")) == NULL || pw->pw_uid == 0) {
		print_message("no user nobody: skipped\n");
		TEST_SKIP();
	}
	return pw->pw_uid;
}

/* Give <tmpdir>/<name> (the link itself if it is one) to <uid>. */
static void
own(const char *name, uid_t uid)
{
	assert_int_equal(lchown(tpath(name), uid, (gid_t)-1), 0);
}

/* Print every diagnostic (shown when a test fails). */
static void
dump_diags(void)
{
	unit_dump_diags(&cd);
}

/* Assert that the diagnostics are exactly <exp> (NULL-terminated). */
static void
check_diags(const char *const *exp)
{
	char	buf[4096];
	int	n, i;

	for (n = 0; exp[n] != NULL; n++)
		;
	if (n != cd.cd_nmsgs) {
		dump_diags();
		fail_msg("expected %d diagnostics, got %d", n, cd.cd_nmsgs);
	}
	for (i = 0; i < n; i++) {
		expand(exp[i], buf, sizeof(buf));
		if (strcmp(buf, cd.cd_msgs[i].dm_text) != 0) {
			dump_diags();
			fail_msg("diagnostic %d:\n  expected: %s\n"
			    "  got:      %s", i, buf, cd.cd_msgs[i].dm_text);
		}
	}
}

/* Load <tmpdir>/<name> as portgate -t would; the result stays in cf, cd. */
static struct config *
load_file(const char *name)
{
	config_unref(cf);
	conf_diag_clear(&cd);
	cf = config_load(tpath(name), CONF_CHECK_ONLY, &cd);
	return cf;
}

/* Whether the loaded configuration has an enabled service <id>. */
static int
has_svc(const char *id)
{
	int	i;

	assert_non_null(cf);
	for (i = 0; i < cf->cf_nservices; i++)
		if (strcmp(cf->cf_services[i]->sc_id, id) == 0)
			return 1;
	return 0;
}

/* Lines of log.c's file that contain <needle>. */
static int
log_count(const char *needle)
{
	char	 line[4096], buf[4096];
	FILE	*f;
	int	 n = 0;

	expand(needle, buf, sizeof(buf));
	if ((f = fopen(logpath, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, buf) != NULL)
			n++;
	(void)fclose(f);
	return n;
}

/* Open a FILE sink on <path> ('@' expanded); NULL with <err> filled. */
static struct accesslog *
open_log(const char *path, char *err, size_t errlen)
{
	static char	 buf[PATH_MAX];
	struct logtype	 lt;

	expand(path, buf, sizeof(buf));
	memset(&lt, 0, sizeof(lt));
	lt.lt_kind = LOGTYPE_FILE;
	lt.lt_path = buf;
	err[0] = '\0';
	return accesslog_open(&lt, err, errlen);
}

/* Opening the log file <path> fails with exactly <want> ('@' expanded). */
static void
log_refused(const char *path, const char *want)
{
	char	err[PATH_MAX + 256], exp[PATH_MAX + 256];

	expand(want, exp, sizeof(exp));
	if (open_log(path, err, sizeof(err)) != NULL)
		fail_msg("log file %s opened; expected: %s", path, exp);
	assert_string_equal(err, exp);
}

/* Size of <tmpdir>/<name>. */
static off_t
size_of(const char *name)
{
	struct stat	st;

	assert_int_equal(stat(tpath(name), &st), 0);
	return st.st_size;
}

static int
group_setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	(void)snprintf(logpath, sizeof(logpath), "%s.log", tmpdir);
	if (log_init(0, LOG_DAEMON, logpath) == -1)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	(void)unlink(logpath);
	return unit_rm_tree(tmpdir);
}

/* A fresh scratch directory for every test. */
static int
setup(void **state)
{
	(void)state;
	if (unit_rm_tree(tmpdir) == -1 || mkdir(tmpdir, 0700) == -1)
		return -1;
	config_set_root(geteuid() == 0);
	conf_diag_init(&cd);
	cf = NULL;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	config_unref(cf);
	cf = NULL;
	conf_diag_clear(&cd);
	return 0;
}

/* The main file: refused when anyone may write it, warned for the group. */
static void
test_main_file_modes(void **state)
{
	(void)state;
	put_mode("t.conf", SVC("a", "7001"), 0644);
	assert_non_null(load_file("t.conf"));
	NO_DIAGS();

	put_mode("t.conf", SVC("a", "7001"), 0666);
	assert_null(load_file("t.conf"));
	DIAGS("error: @/t.conf is writable by anyone: refusing it "
	    "(chmod o-w)");

	put_mode("t.conf", SVC("a", "7001"), 0664);
	assert_non_null(load_file("t.conf"));
	DIAGS("warning: @/t.conf is writable by its group (chmod g-w)");
	assert_true(has_svc("a"));
}

/* The main file owned by another user is refused when running as root. */
static void
test_main_file_owner(void **state)
{
	uid_t	nobody = need_nobody();

	(void)state;
	put_mode("t.conf", SVC("a", "7001"), 0644);
	own("t.conf", nobody);
	assert_null(load_file("t.conf"));
	DIAGS("error: @/t.conf is not owned by root: refusing it when "
	    "running as root");
}

/* An include: the same rules, reported at the include line. */
static void
test_include_modes(void **state)
{
	(void)state;
	put_mode("t.conf", SVC("a", "7001") "include inc.conf\n", 0644);
	put_mode("inc.conf", SVC("b", "7002"), 0646);
	assert_null(load_file("t.conf"));
	DIAGS("@/t.conf:9: error: @/inc.conf is writable by anyone: "
	    "refusing it (chmod o-w)");

	put_mode("inc.conf", SVC("b", "7002"), 0620);
	assert_non_null(load_file("t.conf"));
	DIAGS("@/t.conf:9: warning: @/inc.conf is writable by its group "
	    "(chmod g-w)");
	assert_true(has_svc("b"));
}

/* An include owned by another user. */
static void
test_include_owner(void **state)
{
	uid_t	nobody = need_nobody();

	(void)state;
	put_mode("t.conf", "include inc.conf\n" SVC("a", "7001"), 0644);
	put_mode("inc.conf", SVC("b", "7002"), 0644);
	own("inc.conf", nobody);
	assert_null(load_file("t.conf"));
	DIAGS("@/t.conf:1: error: @/inc.conf is not owned by root: refusing "
	    "it when running as root");
}

/*
 * A symbolic link in a directory others may write (sticky or not) is not
 * followed, even to a good file: another user may have planted it.  The
 * same link in a private directory is followed.
 */
static void
test_include_link_in_shared_dir(void **state)
{
	(void)state;
	put_mode("real.conf", SVC("b", "7002"), 0644);
	mkdir_mode("pub", 01777);
	link_to("@/real.conf", "pub/x.conf");
	put_mode("t.conf", SVC("a", "7001") "include pub/x.conf\n", 0644);
	assert_null(load_file("t.conf"));
	DIAGS("@/t.conf:9: error: @/pub/x.conf is a symbolic link in a "
	    "directory others may write: refusing it");

	assert_int_equal(chmod(tpath("pub"), 0775), 0);
	assert_null(load_file("t.conf"));
	DIAGS("@/t.conf:9: error: @/pub/x.conf is a symbolic link in a "
	    "directory others may write: refusing it");

	assert_int_equal(chmod(tpath("pub"), 0755), 0);
	assert_non_null(load_file("t.conf"));
	NO_DIAGS();
	assert_true(has_svc("b"));
}

/* An include directory anyone may write is refused, none of it read. */
static void
test_includedir_modes(void **state)
{
	(void)state;
	mkdir_mode("d", 0777);
	put_mode("d/one", SVC("b", "7002"), 0644);
	put_mode("t.conf", SVC("a", "7001") "includedir d\n", 0644);
	assert_null(load_file("t.conf"));
	DIAGS("@/t.conf:9: error: @/d is writable by anyone: refusing it "
	    "(chmod o-w)");

	assert_int_equal(chmod(tpath("d"), 01777), 0);
	assert_null(load_file("t.conf"));
	DIAGS("@/t.conf:9: error: @/d is writable by anyone: refusing it "
	    "(chmod o-w)");

	assert_int_equal(chmod(tpath("d"), 0775), 0);
	assert_non_null(load_file("t.conf"));
	DIAGS("@/t.conf:9: warning: @/d is writable by its group "
	    "(chmod g-w)");
	assert_true(has_svc("b"));

	/* Its files follow the rules of any configuration file. */
	assert_int_equal(chmod(tpath("d"), 0755), 0);
	put_mode("d/two", SVC("c", "7003"), 0666);
	assert_null(load_file("t.conf"));
	DIAGS("@/t.conf:9: error: @/d/two is writable by anyone: refusing it "
	    "(chmod o-w)");
	put_mode("d/two", SVC("c", "7003"), 0664);
	assert_non_null(load_file("t.conf"));
	DIAGS("@/t.conf:9: warning: @/d/two is writable by its group "
	    "(chmod g-w)");
	assert_true(has_svc("c"));
}

/* An include directory, or a file in it, owned by another user. */
static void
test_includedir_owner(void **state)
{
	uid_t	nobody = need_nobody();

	(void)state;
	mkdir_mode("d", 0755);
	put_mode("d/one", SVC("b", "7002"), 0644);
	put_mode("t.conf", SVC("a", "7001") "includedir d\n", 0644);
	own("d", nobody);
	assert_null(load_file("t.conf"));
	DIAGS("@/t.conf:9: error: @/d is not owned by root: refusing it when "
	    "running as root");

	own("d", 0);
	own("d/one", nobody);
	assert_null(load_file("t.conf"));
	DIAGS("@/t.conf:9: error: @/d/one is not owned by root: refusing it "
	    "when running as root");
}

/*
 * Symbolic links in an include directory: one planted by another user is
 * refused whatever it points to; a link of root's is followed only to a
 * file root owns.
 */
static void
test_includedir_links(void **state)
{
	uid_t	nobody = need_nobody();

	(void)state;
	mkdir_mode("d", 0755);
	put_mode("good.conf", SVC("b", "7002"), 0644);
	put_mode("theirs.conf", SVC("c", "7003"), 0644);
	own("theirs.conf", nobody);
	put_mode("t.conf", SVC("a", "7001") "includedir d\n", 0644);

	link_to("@/good.conf", "d/ok");
	assert_non_null(load_file("t.conf"));
	NO_DIAGS();
	assert_true(has_svc("b"));

	link_to("@/good.conf", "d/planted");
	own("d/planted", nobody);
	assert_null(load_file("t.conf"));
	DIAGS("@/t.conf:9: error: symbolic link @/d/planted is not owned by "
	    "root: refusing it when running as root");
	assert_int_equal(unlink(tpath("d/planted")), 0);

	link_to("@/theirs.conf", "d/other");
	assert_null(load_file("t.conf"));
	DIAGS("@/t.conf:9: error: @/d/other is not owned by root: refusing "
	    "it when running as root");
}

/* A log file symbolic link in a world-writable directory is not followed. */
static void
test_log_symlink(void **state)
{
	struct accesslog	*al;
	char			 err[PATH_MAX + 256];

	(void)state;
	put_mode("target", "", 0644);
	mkdir_mode("logs", 01777);
	link_to("@/target", "logs/x.log");
	log_refused("@/logs/x.log", "log file @/logs/x.log is a symbolic "
	    "link: refusing it (log files are opened without following "
	    "links)");
	assert_int_equal(size_of("target"), 0);

	/* The file itself, where the link was, is taken. */
	assert_int_equal(unlink(tpath("logs/x.log")), 0);
	assert_non_null(al = open_log("@/logs/x.log", err, sizeof(err)));
	accesslog_unref(al);
	assert_int_equal(size_of("logs/x.log"), 0);
}

/* A FIFO (with or without a reader) or a directory is no log file. */
static void
test_log_not_regular(void **state)
{
	int	rfd;

	(void)state;
	assert_int_equal(mkfifo(tpath("fifo"), 0600), 0);
	log_refused("@/fifo", "log file @/fifo is not a regular file");
	assert_int_not_equal(rfd = open(tpath("fifo"), O_RDONLY |
	    O_NONBLOCK), -1);
	log_refused("@/fifo", "log file @/fifo is not a regular file");
	assert_int_equal(close(rfd), 0);
	mkdir_mode("dir", 0755);
	log_refused("@/dir", "log file @/dir is not a regular file");
}

/* A log file anyone may write is refused; one its group may, warned. */
static void
test_log_modes(void **state)
{
	struct accesslog	*al;
	char			 err[PATH_MAX + 256];

	(void)state;
	put_mode("w.log", "", 0666);
	log_refused("@/w.log", "log file @/w.log is writable by anyone: "
	    "refusing it (chmod o-w)");
	put_mode("g.log", "", 0664);
	assert_non_null(al = open_log("@/g.log", err, sizeof(err)));
	assert_int_equal(log_count("log file @/g.log is writable by its "
	    "group"), 1);
	accesslog_unref(al);
}

/* A log file owned by another user than root or us is refused. */
static void
test_log_owner(void **state)
{
	uid_t	nobody = need_nobody();
	char	want[256];

	(void)state;
	put_mode("n.log", "", 0644);
	own("n.log", nobody);
	(void)snprintf(want, sizeof(want), "log file @/n.log is owned by "
	    "another user (uid %lu): refusing it", (unsigned long)nobody);
	log_refused("@/n.log", want);
}

/*
 * SIGHUP's reopen applies the same checks: a link put in place of the
 * file is refused and the records go on to the file already open.
 */
static void
test_log_reopen_symlink(void **state)
{
	struct accesslog	*al;
	struct access_rec	 r;
	char			 err[PATH_MAX + 256];

	(void)state;
	mkdir_mode("logs", 01777);
	put_mode("target", "", 0644);
	assert_non_null(al = open_log("@/logs/r.log", err, sizeof(err)));
	assert_int_equal(rename(tpath("logs/r.log"), tpath("old.log")), 0);
	link_to("@/target", "logs/r.log");
	accesslog_reopen_all();
	assert_int_equal(log_count("cannot reopen log file @/logs/r.log, "
	    "writing on to the file already open: log file @/logs/r.log is a "
	    "symbolic link"), 1);
	memset(&r, 0, sizeof(r));
	r.ar_id = "svc";
	r.ar_pid = 4242;
	r.ar_addr = "127.0.0.1";
	accesslog_start(al, ALOG_PID | ALOG_HOST, &r);
	assert_int_equal(size_of("target"), 0);
	assert_true(size_of("old.log") > 0);
	accesslog_unref(al);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_main_file_modes),
		T(test_main_file_owner),
		T(test_include_modes),
		T(test_include_owner),
		T(test_include_link_in_shared_dir),
		T(test_includedir_modes),
		T(test_includedir_owner),
		T(test_includedir_links),
		T(test_log_symlink),
		T(test_log_not_regular),
		T(test_log_modes),
		T(test_log_owner),
		T(test_log_reopen_symlink),
	};

	return test_status(cmocka_run_group_tests(tests, group_setup, group_teardown));
}
