/*
 * The compatibility corpus of tests/data/compat (xinetd's own files and
 * files found in the wild): each loads with config_load(CONF_CHECK_ONLY)
 * with no error but those that depend on the machine ("... on this
 * machine": a server, user or /etc/services entry missing here), with the
 * warnings portgate owes them; the two xinetd.conf files, pointed at their
 * xinetd.d, give the services counted from the files.  The data directory
 * is $PORTGATE_DATA/compat (set by make check).
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netdb.h>
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
#include "unit_util.h"

/* src/limits.h can shadow <limits.h> (GCC's include_next): be safe. */
#ifndef PATH_MAX
#define PATH_MAX	4096
#endif

#define MAXFILES	256

/* A text substitution applied when a corpus file is copied. */
struct subst {
	const char	*s_from;
	const char	*s_to;
};

static char		 tmpdir[] = "/tmp/test_compat.XXXXXX";
static char		 datadir[PATH_MAX];
static struct conf_diag	 cd;
static struct config	*cf;

/* "<dir>/<name>" in one of a few rotating static buffers. */
static const char *
join(const char *dir, const char *name)
{
	static char	 bufs[8][PATH_MAX];
	static int	 next;
	char		 tmp[PATH_MAX], *b = bufs[next++ % 8];
	int		 n;

	/* Through tmp: <dir> may be an earlier result. */
	n = snprintf(tmp, sizeof(tmp), "%s/%s", dir, name);
	assert_true(n > 0 && n < PATH_MAX);
	memcpy(b, tmp, n + 1);
	return b;
}

static int
is_dir(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Find the corpus: $PORTGATE_DATA, else relative to the working directory. */
static void
find_datadir(void)
{
	static const char *const fallback[] = {
		"../tests/data", "tests/data", "../../tests/data", NULL
	};
	const char	*env = getenv("PORTGATE_DATA");
	int		 i;

	if (env != NULL && env[0] != '\0') {
		(void)snprintf(datadir, sizeof(datadir), "%s/compat", env);
		return;
	}
	for (i = 0; fallback[i] != NULL; i++) {
		(void)snprintf(datadir, sizeof(datadir), "%s/compat",
		    fallback[i]);
		if (is_dir(datadir))
			return;
	}
}

/* Read a small file whole; the caller frees the result. */
static char *
slurp(const char *path)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	int		 fd;

	fd = open(path, O_RDONLY);
	if (fd == -1)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc(st.st_size + 1);
	assert_non_null(buf);
	n = read(fd, buf, st.st_size);
	assert_int_equal(n, st.st_size);
	buf[n] = '\0';
	assert_int_equal(close(fd), 0);
	return buf;
}

/* Replace every <from> in <text> by <to>; frees <text>. */
static char *
replace(char *text, const char *from, const char *to)
{
	size_t	 fl = strlen(from), tl = strlen(to), n = 0, len;
	char	*out, *o, *p, *q;

	for (p = text; (p = strstr(p, from)) != NULL; p += fl)
		n++;
	len = strlen(text) - n * fl + n * tl;
	out = malloc(len + 1);
	assert_non_null(out);
	for (o = out, p = text; (q = strstr(p, from)) != NULL; p = q + fl) {
		memcpy(o, p, q - p);
		o += q - p;
		memcpy(o, to, tl);
		o += tl;
	}
	strcpy(o, p);
	free(text);
	return out;
}

/* Copy <src> to <dst> applying <subs> (NULL-terminated, or NULL). */
static void
copy_file(const char *src, const char *dst, const struct subst *subs)
{
	char	*text;
	size_t	 len;
	int	 fd;

	text = slurp(src);
	for (; subs != NULL && subs->s_from != NULL; subs++)
		text = replace(text, subs->s_from, subs->s_to);
	len = strlen(text);
	fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_not_equal(fd, -1);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	free(text);
}

/*
 * Copy the regular files of directory <src> into a new directory <dst>,
 * leaving out the names in <skip> (NULL-terminated, or NULL).
 */
static void
copy_dir(const char *srcp, const char *dstp, const struct subst *subs,
    const char *const *skip)
{
	DIR		*d;
	struct dirent	*de;
	char		 src[PATH_MAX], dst[PATH_MAX];
	int		 i;

	/* Own copies: join() reuses its buffers. */
	(void)strlcpy(src, srcp, sizeof(src));
	(void)strlcpy(dst, dstp, sizeof(dst));
	assert_int_equal(mkdir(dst, 0755), 0);
	d = opendir(src);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		for (i = 0; skip != NULL && skip[i] != NULL; i++)
			if (strcmp(skip[i], de->d_name) == 0)
				break;
		if (skip != NULL && skip[i] != NULL)
			continue;
		copy_file(join(src, de->d_name), join(dst, de->d_name), subs);
	}
	(void)closedir(d);
}

/* Empty the scratch directory. */
static void
clean_tmpdir(void)
{
	DIR		*d;
	struct dirent	*de;

	d = opendir(tmpdir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			(void)unit_rm_tree(join(tmpdir, de->d_name));
	(void)closedir(d);
}

/* Print every diagnostic (shown when a test fails). */
static void
dump_diags(void)
{
	unit_dump_diags(&cd);
}

/* Load <path>; the result stays in cf and cd. */
static struct config *
load(const char *path)
{
	config_unref(cf);
	conf_diag_clear(&cd);
	cf = config_load(path, CONF_CHECK_ONLY, &cd);
	return cf;
}

/* Is diagnostic <i> an error that depends only on this machine? */
static int
machine_error(int i)
{
	return cd.cd_msgs[i].dm_level == DIAG_ERROR &&
	    strstr(cd.cd_msgs[i].dm_text, " on this machine") != NULL;
}

/* Assert that diagnostic <text> is present exactly once. */
static void
assert_diag(const char *text)
{
	int	i, n = 0;

	for (i = 0; i < cd.cd_nmsgs; i++)
		if (strcmp(cd.cd_msgs[i].dm_text, text) == 0)
			n++;
	if (n != 1) {
		dump_diags();
		fail_msg("expected once: %s", text);
	}
}

/* The enabled service with id <id>; fails if there is none. */
static struct service_conf *
need_svc(const char *id)
{
	int	i;

	assert_non_null(cf);
	for (i = 0; i < cf->cf_nservices; i++)
		if (strcmp(cf->cf_services[i]->sc_id, id) == 0)
			return cf->cf_services[i];
	fail_msg("no enabled service with id %s", id);
	return NULL;
}

/* Skip the test when /etc/services lacks the standard small services. */
static void
need_etc_services(void)
{
	static const char *const names[] = {
		"echo", "discard", "daytime", "time", "chargen", NULL
	};
	int	i;

	for (i = 0; names[i] != NULL; i++) {
		if (getservbyname(names[i], "tcp") == NULL ||
		    getservbyname(names[i], "udp") == NULL) {
			print_message("no %s in /etc/services: skipped\n",
			    names[i]);
			TEST_SKIP();
		}
	}
}

/* Collect the regular files under the corpus. */
static char	*files[MAXFILES];
static int	 nfiles;

static int
collect(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_F) {
		assert_true(nfiles < MAXFILES);
		files[nfiles] = strdup(path);
		assert_non_null(files[nfiles]);
		nfiles++;
	}
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of the corpus that are not xinetd configuration. */
static int
not_config(const char *path)
{
	const char	*base = strrchr(path, '/') + 1;
	size_t		 len = strlen(base);

	return strncmp(base, "init.d-", 7) == 0 ||
	    (len > 8 && strcmp(base + len - 8, ".service") == 0);
}

/* A blank template (empty.conf): every attribute is written "name =". */
static int
is_template(const char *path)
{
	const char	*base = strrchr(path, '/') + 1;

	return strcmp(base, "empty.conf") == 0;
}

static int
group_setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	find_datadir();
	conf_diag_init(&cd);
	return 0;
}

static int
group_teardown(void **state)
{
	int	i;

	(void)state;
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	return unit_rm_tree(tmpdir);
}

static int
setup(void **state)
{
	(void)state;
	config_set_root(1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	config_unref(cf);
	cf = NULL;
	conf_diag_clear(&cd);
	clean_tmpdir();
	return 0;
}

/*
 * Every configuration file of the corpus has no syntax or semantic error:
 * each error is about this machine.  The blank template empty.conf is the
 * exception: its "name =" lines lack the values they need (xinetd warns
 * and then drops the service for the missing attributes).
 */
static void
test_corpus_machine_errors_only(void **state)
{
	int	i, j, checked = 0, bad = 0, blanks;

	(void)state;
	if (!is_dir(datadir))
		fail_msg("no corpus at %s (set PORTGATE_DATA)", datadir);
	nfiles = 0;
	assert_int_equal(nftw(datadir, collect, 16, FTW_PHYS), 0);
	qsort(files, nfiles, sizeof(files[0]), cmp_str);
	for (i = 0; i < nfiles; i++) {
		if (not_config(files[i]))
			continue;
		checked++;
		load(files[i]);
		blanks = 0;
		for (j = 0; j < cd.cd_nmsgs; j++) {
			if (cd.cd_msgs[j].dm_level != DIAG_ERROR ||
			    machine_error(j))
				continue;
			if (is_template(files[i]) &&
			    (strstr(cd.cd_msgs[j].dm_text, " expects a value: ")
			    != NULL || strstr(cd.cd_msgs[j].dm_text,
			    ": error: service empty: missing ") != NULL)) {
				if (strstr(cd.cd_msgs[j].dm_text,
				    " expects a value: ") != NULL)
					blanks++;
				continue;
			}
			print_message("%s\n", cd.cd_msgs[j].dm_text);
			bad++;
		}
		/* 30 of its 37 blank attributes need a value. */
		if (is_template(files[i]))
			assert_int_equal(blanks, 30);
		/* No error, no configuration. */
		assert_true((cf == NULL) == (cd.cd_errors > 0));
	}
	assert_int_equal(bad, 0);
	/* 31 configuration files when this test was written. */
	assert_true(checked >= 31);
}

/*
 * sample.conf: five RPC services skipped, each with a warning, and four
 * servers run as nobody with the daemon's whole environment (no passenv).
 */
static void
test_sample_conf(void **state)
{
	static const struct {
		const char	*name;
		int		 line;
		const char	*server;
	} rpc[] = {
		{ "rstatd", 276, NULL }, { "rquotad", 288, NULL },
		{ "rusersd", 299, NULL }, { "sprayd", 310, NULL },
		{ "walld", 321, NULL }
	}, env[] = {
		{ "comsat", 54, "/usr/etc/in.comsat" },
		{ "finger", 155, "/usr/etc/in.fingerd" },
		{ "systat", 163, "/usr/bin/ps" },
		{ "netstat", 174, "/usr/ucb/netstat" }
	};
	const char	*path = join(datadir, "examples/sample.conf");
	char		 msg[PATH_MAX + 128];
	int		 i;

	(void)state;
	load(path);
	assert_int_equal(cd.cd_warnings, 9);
	for (i = 0; i < 5; i++) {
		(void)snprintf(msg, sizeof(msg), "%s:%d: warning: service %s: "
		    "RPC services are not supported; it is not started", path,
		    rpc[i].line, rpc[i].name);
		assert_diag(msg);
	}
	for (i = 0; i < 4; i++) {
		(void)snprintf(msg, sizeof(msg), "%s:%d: warning: service %s: "
		    "no passenv: server %s runs as user nobody with "
		    "portgate's whole environment; list the variables it needs "
		    "with passenv (empty: none)", path, env[i].line,
		    env[i].name, env[i].server);
		assert_diag(msg);
	}
	for (i = 0; i < cd.cd_nmsgs; i++)
		if (cd.cd_msgs[i].dm_level == DIAG_ERROR && !machine_error(i))
			fail_msg("not about this machine: %s",
			    cd.cd_msgs[i].dm_text);
}

/* The CTF service ends with a stray '}', which xinetd rejects. */
static void
test_ctf_stray_brace(void **state)
{
	static const struct subst	 subs[] = {
		{ "user        = ctf", "user        = root" },
		{ "/home/ctf/helloworld", "/bin/sh" },
		{ NULL, NULL }
	};
	const char		*path;
	char			 msg[PATH_MAX + 128];
	struct service_conf	*sc;

	(void)state;
	path = join(datadir, "third-party/github-Eadom-ctf_xinetd.ctf.xinetd");
	load(path);
	(void)snprintf(msg, sizeof(msg), "%s:14: warning: stray '}' ignored "
	    "(xinetd rejects the file)", path);
	assert_diag(msg);
	assert_int_equal(cd.cd_warnings, 1);

	/* With a user and a server of this machine it loads. */
	copy_file(path, join(tmpdir, "ctf"), subs);
	load(join(tmpdir, "ctf"));
	assert_int_equal(cd.cd_errors, 0);
	assert_int_equal(cd.cd_warnings, 1);
	sc = need_svc("ctf");
	assert_int_equal(sc->sc_port, 9999);
	assert_int_equal(sc->sc_type, STYPE_UNLISTED);
	assert_string_equal(sc->sc_bind, "0.0.0.0");
	assert_string_equal(sc->sc_server, "/bin/sh");
	assert_int_equal(sc->sc_uid, 0);
	assert_int_equal(sc->sc_wait, 0);
}

/*
 * Copy the directory holding an xinetd.conf into the scratch directory
 * as <name>, with "includedir /etc/xinetd.d" pointing at the copy of its
 * xinetd.d, and load it.
 */
static void
load_xinetd_conf(const char *srcp, const char *name,
    const struct subst *dsubs, const char *const *skip)
{
	struct subst	 subs[2];
	char		 src[PATH_MAX], dst[PATH_MAX], inc[PATH_MAX + 32];

	(void)strlcpy(src, srcp, sizeof(src));
	(void)strlcpy(dst, join(tmpdir, name), sizeof(dst));
	assert_int_equal(mkdir(dst, 0755), 0);
	(void)snprintf(inc, sizeof(inc), "includedir %s/xinetd.d", dst);
	subs[0].s_from = "includedir /etc/xinetd.d";
	subs[0].s_to = inc;
	subs[1].s_from = NULL;
	copy_file(join(src, "xinetd.conf"), join(dst, "xinetd.conf"), subs);
	copy_dir(join(src, "xinetd.d"), join(dst, "xinetd.d"), dsubs, skip);
	load(join(dst, "xinetd.conf"));
}

/* Disabled entries switched on by the copy. */
static const struct subst enable_all[] = {
	{ "disable\t\t= yes", "disable\t\t= no" },
	{ NULL, NULL }
};

/* The ten services of the stock files, switched on. */
static void
check_ten(void)
{
	static const struct {
		const char	*id;
		int		 port;
		int		 proto;
	} want[] = {
		{ "chargen-stream", 19, IPPROTO_TCP },
		{ "chargen-dgram", 19, IPPROTO_UDP },
		{ "daytime-stream", 13, IPPROTO_TCP },
		{ "daytime-dgram", 13, IPPROTO_UDP },
		{ "discard-stream", 9, IPPROTO_TCP },
		{ "discard-dgram", 9, IPPROTO_UDP },
		{ "echo-stream", 7, IPPROTO_TCP },
		{ "echo-dgram", 7, IPPROTO_UDP },
		{ "time-stream", 37, IPPROTO_TCP },
		{ "time-dgram", 37, IPPROTO_UDP },
	};
	struct service_conf	*sc;
	int			 i;

	if (cf == NULL)
		dump_diags();
	assert_non_null(cf);
	assert_int_equal(cf->cf_nservices, 10);
	for (i = 0; i < 10; i++) {
		sc = need_svc(want[i].id);
		assert_int_equal(sc->sc_port, want[i].port);
		assert_int_equal(sc->sc_protocol, want[i].proto);
		assert_int_equal(sc->sc_type & STYPE_INTERNAL, STYPE_INTERNAL);
		assert_int_not_equal(sc->sc_builtin, BUILTIN_NONE);
		assert_int_equal(sc->sc_wait, want[i].proto == IPPROTO_UDP);
	}
}

/* Debian's xinetd.conf: every one of its 17 services is disabled. */
static void
test_debian_xinetd_conf(void **state)
{
	static const char *const only_pairs[] = {
		"servers", "services", "chargen-udp", "daytime-udp",
		"discard-udp", "echo-udp", "time-udp", NULL
	};
	const char	*d;
	char		 msg[2 * PATH_MAX];
	int		 i;

	(void)state;
	need_etc_services();
	load_xinetd_conf(datadir, "debian", NULL, NULL);
	if (cd.cd_nmsgs != 0)
		dump_diags();
	assert_int_equal(cd.cd_nmsgs, 0);
	assert_non_null(cf);
	assert_int_equal(cf->cf_nservices, 0);
	assert_int_equal(cf->cf_ndisabled, 17);
	/* xinetd.conf, the includedir and its 12 files. */
	for (i = 0; cf->cf_files[i] != NULL; i++)
		;
	assert_int_equal(i, 14);

	/*
	 * All switched on: each *-udp file repeats the id and socket of the
	 * dgram entry of its pair, and servers and services name built-ins
	 * that xinetd removed in 2.3.12.
	 */
	clean_tmpdir();
	load_xinetd_conf(datadir, "debian", enable_all, NULL);
	d = join(tmpdir, "debian/xinetd.d");
	/* As xinetd, those seven are left out and the ten pairs run. */
	assert_int_equal(cd.cd_errors, 0);
	assert_int_equal(cd.cd_disables, 7);
	assert_int_equal(cd.cd_warnings, 0);
	check_ten();
	assert_int_equal(cf->cf_noff, 7);
	(void)snprintf(msg, sizeof(msg), "%s/servers:4: error: service "
	    "servers: no internal service of that name (portgate has echo, "
	    "discard, daytime, time, chargen, metrics, tcpmux)", d);
	assert_diag(msg);
	(void)snprintf(msg, sizeof(msg), "%s/services:4: error: service "
	    "services: no internal service of that name (portgate has echo, "
	    "discard, daytime, time, chargen, metrics, tcpmux)", d);
	assert_diag(msg);
	(void)snprintf(msg, sizeof(msg), "%s/echo-udp:4: error: duplicate "
	    "service: id echo-dgram on udp port 7 address * is already "
	    "defined at %s/echo:17", d, d);
	assert_diag(msg);
	(void)snprintf(msg, sizeof(msg), "%s/time-udp:4: error: duplicate "
	    "service: id time-dgram on udp port 37 address * is already "
	    "defined at %s/time:19", d, d);
	assert_diag(msg);

	/* The pairs alone: ten services. */
	clean_tmpdir();
	load_xinetd_conf(datadir, "debian", enable_all, only_pairs);
	if (cd.cd_nmsgs != 0)
		dump_diags();
	assert_int_equal(cd.cd_nmsgs, 0);
	check_ten();
	assert_int_equal(cf->cf_ndisabled, 0);
	/* Its defaults entry is empty: portgate's own defaults apply. */
	assert_int_equal(need_svc("echo-stream")->sc_instances,
	    LIMIT_UNLIMITED);
	assert_int_equal(need_svc("echo-stream")->sc_logtype.lt_kind,
	    LOGTYPE_NONE);
}

/* openSUSE's contrib xinetd.conf: 12 services, all disabled. */
static void
test_opensuse_xinetd_conf(void **state)
{
	static const char *const no_removed[] = { "servers", "services", NULL };
	struct service_conf	*sc;
	const char		*d;
	char			 src[PATH_MAX], msg[2 * PATH_MAX];

	(void)state;
	need_etc_services();
	(void)strlcpy(src, join(datadir, "upstream-openSUSE-contrib"),
	    sizeof(src));
	load_xinetd_conf(src, "opensuse", NULL, NULL);
	if (cd.cd_nmsgs != 0)
		dump_diags();
	assert_int_equal(cd.cd_nmsgs, 0);
	assert_non_null(cf);
	assert_int_equal(cf->cf_nservices, 0);
	assert_int_equal(cf->cf_ndisabled, 12);

	clean_tmpdir();
	load_xinetd_conf(src, "opensuse", enable_all, NULL);
	d = join(tmpdir, "opensuse/xinetd.d");
	assert_int_equal(cd.cd_errors, 0);
	assert_int_equal(cd.cd_disables, 2);
	check_ten();
	(void)snprintf(msg, sizeof(msg), "%s/servers:4: error: service "
	    "servers: no internal service of that name (portgate has echo, "
	    "discard, daytime, time, chargen, metrics, tcpmux)", d);
	assert_diag(msg);

	clean_tmpdir();
	load_xinetd_conf(src, "opensuse", enable_all, no_removed);
	if (cd.cd_nmsgs != 0)
		dump_diags();
	assert_int_equal(cd.cd_nmsgs, 0);
	check_ten();
	/* Its defaults entry applies to every service. */
	sc = need_svc("time-dgram");
	assert_int_equal(sc->sc_instances, 30);
	assert_int_equal(sc->sc_per_source, 10);
	assert_int_equal(sc->sc_cps_rate, 50);
	assert_int_equal(sc->sc_cps_wait, 10);
	assert_int_equal(sc->sc_groups, 1);
	assert_int_equal(sc->sc_umask, 002);
	assert_int_equal(sc->sc_v6only, 0);
	assert_int_equal(sc->sc_logtype.lt_kind, LOGTYPE_SYSLOG);
	assert_int_equal(sc->sc_logtype.lt_facility, LOG_DAEMON);
	assert_int_equal(sc->sc_logtype.lt_level, LOG_INFO);
	assert_int_equal(sc->sc_log_success, ALOG_HOST | ALOG_EXIT |
	    ALOG_DURATION);
	assert_int_equal(sc->sc_log_failure, ALOG_HOST | ALOG_ATTEMPT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_corpus_machine_errors_only),
		T(test_sample_conf),
		T(test_ctf_stray_brace),
		T(test_debian_xinetd_conf),
		T(test_opensuse_xinetd_conf),
#undef T
	};

	return test_status(cmocka_run_group_tests(tests, group_setup, group_teardown));
}
