/*
 * portgate: parse the command line, order start-up, run the loop.
 * xinetd's single-dash options keep working next to long options.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <maxminddb.h>
#include <seccomp.h>

#include "build-config.h"

#include "accesslog.h"
#include "admit.h"
#include "bans.h"
#include "conf_diag.h"
#include "config.h"
#include "daemon.h"
#include "ctl.h"
#include "explain.h"
#include "import.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "quota.h"
#include "sdlisten.h"
#include "sdnotify.h"
#include "service.h"
#include "shared.h"
#include "spawn.h"
#include "upgrade.h"

struct options {
	const char	*o_config;
	const char	*o_pidfile;
	const char	*o_control;	/* -control: the control socket */
	const char	*o_filelog;
	int		 o_facility;
	int		 o_foreground;
	int		 o_debug;
	int		 o_stayalive;
	int		 o_check;
	int		 o_dump;	/* -T */
	int		 o_limit;
	int		 o_logprocs;	/* -1: the default */
	const char	*o_explain[3];	/* SERVICE ADDRESS [[DAY] HH:MM] */
	const char	*o_import[2];	/* rinetd|inetd FILE */
};

/* One command-line option: its spellings and whether it takes a value. */
struct optdef {
	const char	*od_name;	/* "-f" */
	const char	*od_alias;	/* "--config", or NULL */
	int		 od_arg;	/* values it takes */
	int		 od_ignored;	/* xinetd option accepted, no effect */
	const char	*od_help;
};

static const struct optdef optdefs[] = {
	{ "-f", "--config", 1, 0, "FILE  configuration file (default "
	    PORTGATE_CONF ")" },
	{ "-t", "--check", 0, 0, "      check the configuration, list every "
	    "error, exit 0 (valid), 1 (errors) or 3 (services left out)" },
	{ "-T", "--dump", 0, 0, "      check as -t and print the "
	    "configuration as read: each service merged with defaults, each "
	    "value with its file:line, and why a service is off" },
	{ "-dontfork", "--foreground", 0, 0, "      stay in the foreground "
	    "(log to standard error)" },
	{ "-d", "--debug", 0, 0, "      foreground with debug messages" },
	{ "-pidfile", "--pidfile", 1, 0, "FILE  write the process id to FILE" },
	{ "-control", "--control-socket", 1, 0, "PATH  the control socket for "
	    "portgatectl (default control_socket, or " PORTGATE_CONTROL "; "
	    "none: no socket)" },
	{ "-stayalive", NULL, 0, 0, "      keep running when a service "
	    "cannot start" },
	{ "-syslog", NULL, 1, 0, "FACILITY  own messages to syslog FACILITY "
	    "(default daemon)" },
	{ "-filelog", NULL, 1, 0, "FILE  own messages to FILE" },
	{ "-limit", NULL, 1, 0, "N  at most N spawned servers at once" },
	{ "-logprocs", NULL, 1, 0, "N  at most N ident queries about refused "
	    "clients at once (default 15)" },
	{ "--explain", NULL, 2, 0, "SERVICE ADDRESS [[DAY] HH:MM]  print the "
	    "gate's verdict for that client and the rule behind it" },
	{ "--import", NULL, 2, 0, "rinetd|inetd FILE  print FILE, a rinetd.conf "
	    "or an inetd.conf, as a portgate configuration" },
	{ "-version", "--version", 0, 0, "      print the version, the "
	    "libraries, the build options and the default paths, and exit" },
	{ "-V", NULL, 0, 0, "      the same as -version" },
	{ "-h", "--help", 0, 0, "      this help" },
	{ "-inetd_compat", NULL, 0, 1, NULL },
	{ "-inetd_ipv6", NULL, 0, 1, NULL },
	{ "-reuse", NULL, 0, 1, NULL },
	{ "-shutdownprocs", NULL, 1, 1, NULL },
	{ "-cc", NULL, 1, 1, NULL },
	{ "-loop", NULL, 1, 1, NULL },
};

/*
 * What -V says: the version, the libraries it runs with and was built
 * against, the optional parts, how it was configured and where it looks
 * by default; the first line alone is xinetd's -version.
 */
static void
version_print(void)
{
	const struct scmp_version	*sv;

	printf("portgate %s\n", PACKAGE_VERSION);
	printf("libevent %s (built with %s)\n", event_get_version(),
	    LIBEVENT_VERSION);
	printf("OpenSSL %s (built with %s)\n",
	    OpenSSL_version(OPENSSL_VERSION_STRING), OPENSSL_VERSION_STR);
	printf("libmaxminddb %s (built with %s)\n", MMDB_lib_version(),
	    PORTGATE_MAXMINDDB_BUILT);
	/* libwrap has no version call. */
	printf("libwrap: built in (/etc/hosts.allow and /etc/hosts.deny are "
	    "read at each check)\n");
	sv = seccomp_version();
	printf("libseccomp %u.%u.%u (built with %d.%d.%d; it confines the "
	    "workers)\n", sv->major, sv->minor, sv->micro,
	    SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO);
	printf("configured with: %s\n", PORTGATE_CONFIGURE_ARGS[0] != '\0' ?
	    PORTGATE_CONFIGURE_ARGS : "(no options)");
	printf("configuration file: %s\n", PORTGATE_CONF);
	printf("included directory (sample configuration): %s\n",
	    PORTGATE_CONFDIR);
	printf("pid file (contrib files; portgate writes one only with "
	    "-pidfile): %s\n", PORTGATE_PIDFILE);
	printf("log files (contrib logrotate): %s/portgate*.log\n",
	    PORTGATE_LOGDIR);
	printf("control socket (portgatectl): %s\n", PORTGATE_CONTROL);
}

static void
usage(FILE *fp)
{
	size_t	i;

	fprintf(fp, "usage: portgate [options]\n");
	for (i = 0; i < sizeof(optdefs) / sizeof(optdefs[0]); i++) {
		if (optdefs[i].od_help == NULL)
			continue;
		fprintf(fp, "  %s%s%s %s\n", optdefs[i].od_name,
		    optdefs[i].od_alias != NULL ? ", " : "",
		    optdefs[i].od_alias != NULL ? optdefs[i].od_alias : "",
		    optdefs[i].od_help);
	}
	fprintf(fp, "accepted and ignored (xinetd): -inetd_compat -inetd_ipv6 "
	    "-reuse -shutdownprocs N -cc N -loop N\n");
}

/* The definition of <arg>, or NULL. */
static const struct optdef *
optdef_find(const char *arg)
{
	size_t	i;

	for (i = 0; i < sizeof(optdefs) / sizeof(optdefs[0]); i++)
		if (strcmp(arg, optdefs[i].od_name) == 0 ||
		    (optdefs[i].od_alias != NULL &&
		    strcmp(arg, optdefs[i].od_alias) == 0))
			return &optdefs[i];
	return NULL;
}

/*
 * The optional time of --explain: "HH:MM" or "DAY HH:MM" at argv[i..];
 * returns how many words it used (0 to 2).
 */
static int
option_explain_time(struct options *o, int argc, char **argv, int i)
{
	static char	when[32];

	if (i < argc && strchr(argv[i], ':') != NULL) {
		o->o_explain[2] = argv[i];
		return 1;
	}
	if (i + 1 < argc && strchr(argv[i + 1], ':') != NULL &&
	    strlen(argv[i]) <= 9) {
		(void)snprintf(when, sizeof(when), "%s %s", argv[i],
		    argv[i + 1]);
		o->o_explain[2] = when;
		return 2;
	}
	return 0;
}

/* The number <val> of option <name>, at least <min>; exits if it is not. */
static int
option_number(const char *name, const char *val, int min)
{
	char	*end;
	long	 l;

	errno = 0;
	l = strtol(val, &end, 10);
	if (errno != 0 || *end != '\0' || end == val || l < min ||
	    l > INT_MAX) {
		fprintf(stderr, "portgate: %s: expected a number of at least "
		    "%d, found '%s'\n", name, min, val);
		exit(2);
	}
	return (int)l;
}

/* Apply one option; exits on a bad value. */
static void
option_apply(struct options *o, const struct optdef *od, const char *val)
{
	const char	*n = od->od_name;

	if (od->od_ignored)
		fprintf(stderr, "portgate: %s is accepted for xinetd "
		    "compatibility and ignored\n", n);
	else if (strcmp(n, "-f") == 0)
		o->o_config = val;
	else if (strcmp(n, "-t") == 0)
		o->o_check = 1;
	else if (strcmp(n, "-T") == 0)
		o->o_check = o->o_dump = 1;
	else if (strcmp(n, "-dontfork") == 0)
		o->o_foreground = 1;
	else if (strcmp(n, "-d") == 0)
		o->o_foreground = o->o_debug = 1;
	else if (strcmp(n, "-pidfile") == 0)
		o->o_pidfile = val;
	else if (strcmp(n, "-control") == 0)
		o->o_control = val;
	else if (strcmp(n, "-stayalive") == 0)
		o->o_stayalive = 1;
	else if (strcmp(n, "-filelog") == 0)
		o->o_filelog = val;
	else if (strcmp(n, "-syslog") == 0) {
		if ((o->o_facility = accesslog_facility(val)) == -1) {
			fprintf(stderr, "portgate: -syslog: unknown facility "
			    "'%s'\n", val);
			exit(2);
		}
	} else if (strcmp(n, "-limit") == 0)
		o->o_limit = option_number(n, val, 1);
	else if (strcmp(n, "-logprocs") == 0)
		o->o_logprocs = option_number(n, val, 0);
	else if (strcmp(n, "-version") == 0 || strcmp(n, "-V") == 0) {
		version_print();
		exit(0);
	} else if (strcmp(n, "-h") == 0) {
		usage(stdout);
		exit(0);
	}
}

/* Parse argv into <o>; exits with status 2 on a usage error. */
static void
options_parse(struct options *o, int argc, char **argv)
{
	const struct optdef	*od;
	int			 i;

	memset(o, 0, sizeof(*o));
	o->o_config = PORTGATE_CONF;
	o->o_facility = LOG_DAEMON;
	o->o_logprocs = -1;
	for (i = 1; i < argc; i++) {
		if ((od = optdef_find(argv[i])) == NULL) {
			fprintf(stderr, "portgate: unknown option '%s'\n",
			    argv[i]);
			usage(stderr);
			exit(2);
		}
		if (i + od->od_arg >= argc) {
			fprintf(stderr, "portgate: %s needs %s\n", argv[i],
			    od->od_arg > 1 ? "more values" : "a value");
			exit(2);
		}
		if (strcmp(od->od_name, "--explain") == 0) {
			o->o_explain[0] = argv[i + 1];
			o->o_explain[1] = argv[i + 2];
			i += 2 + option_explain_time(o, argc, argv, i + 3);
			continue;
		}
		if (strcmp(od->od_name, "--import") == 0) {
			o->o_import[0] = argv[i + 1];
			o->o_import[1] = argv[i + 2];
			i += 2;
			continue;
		}
		option_apply(o, od, od->od_arg ? argv[i + 1] : NULL);
		i += od->od_arg;
	}
	if (o->o_filelog != NULL && o->o_facility != LOG_DAEMON) {
		fprintf(stderr, "portgate: -filelog and -syslog exclude each "
		    "other\n");
		exit(2);
	}
}

/* Read the configuration, printing every finding; NULL when invalid. */
static struct config *
load(const struct options *o, int flags)
{
	struct conf_diag	 cd;
	struct config		*cf;
	int			 i;

	conf_diag_init(&cd);
	cf = config_load(o->o_config, flags, &cd);
	conf_diag_sort(&cd);
	for (i = 0; i < cd.cd_nmsgs; i++)
		fprintf(stderr, "%s%s\n", log_journal_prefix(
		    cd.cd_msgs[i].dm_level != DIAG_WARNING ? LOG_ERR :
		    LOG_WARNING), cd.cd_msgs[i].dm_text);
	if (cf == NULL)
		fprintf(stderr, "%sportgate: %s: %d error%s, %d warning%s\n",
		    log_journal_prefix(LOG_ERR), o->o_config, cd.cd_errors, cd.cd_errors == 1 ? "" : "s",
		    cd.cd_warnings, cd.cd_warnings == 1 ? "" : "s");
	conf_diag_clear(&cd);
	return cf;
}

/* The ids of the services <cf> left out, as "a, b, c" in <buf>. */
static const char *
off_names(const struct config *cf, char *buf, size_t len)
{
	int	i;

	buf[0] = '\0';
	for (i = 0; i < cf->cf_noff; i++) {
		if (i > 0)
			(void)strlcat(buf, ", ", len);
		(void)strlcat(buf, cf->cf_off[i], len);
	}
	return buf;
}

/*
 * The daemon's log says which services were left out and why: in the
 * foreground the findings went to standard error already, which is that
 * log, unless -filelog is given.
 */
static void
report_off(const struct options *o, const struct config *cf)
{
	char	names[1024];
	int	i;

	if (cf->cf_noff == 0)
		return;
	if (!o->o_foreground || o->o_filelog != NULL)
		for (i = 0; i < cf->cf_noffmsgs; i++)
			log_warnx("%s", cf->cf_offmsgs[i]);
	log_warnx("%d service%s not started, the others run: %s",
	    cf->cf_noff, cf->cf_noff == 1 ? "" : "s",
	    off_names(cf, names, sizeof(names)));
}

/* The command line, for the master's title in ps(1). */
static char	main_cmdline[256];

static void
main_args(int argc, char **argv)
{
	size_t	len = 0;
	int	i, n;

	for (i = 1; i < argc && len < sizeof(main_cmdline); i++) {
		n = snprintf(main_cmdline + len, sizeof(main_cmdline) - len,
		    "%s%s", i > 1 ? " " : "", argv[i]);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

/*
 * The control socket: -control, else control_socket, else
 * $PORTGATE_CONTROL_SOCKET, else the default.
 */
static const char *
main_control(const struct options *o, const struct config *cf)
{
	const char	*env = getenv("PORTGATE_CONTROL_SOCKET");

	if (o->o_control != NULL)
		return o->o_control;
	if (cf->cf_control_socket != NULL)
		return cf->cf_control_socket;
	if (env != NULL && *env != '\0')
		return env;
	return PORTGATE_CONTROL;
}

/* Bind the services and run the loop until told to stop. */
static int
run(const struct options *o, struct config *cf)
{
	struct event_base	*base;
	int			 failed, nworkers;

	if (!o->o_foreground && daemon_detach() == -1)
		fatal("cannot detach");
	if (log_init(o->o_foreground, o->o_facility, o->o_filelog) == -1)
		fatal("cannot open %s", o->o_filelog);
	if (shared_init() == -1 || metrics_share() == -1 ||
	    quota_deny_share() == -1)
		fatal("cannot share counters with the workers");
	if ((base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	if (spawn_init(o->o_limit) == -1)
		fatal("spawn_init");
	if (o->o_logprocs != -1)
		admit_set_ident_max(o->o_logprocs);
	daemon_wire(base);
	/* The master reads no client byte: workers serve (master.c). */
	service_set_role(SERVICE_MASTER, 0);
	nworkers = master_count(cf);
	service_set_workers(nworkers);
	report_off(o, cf);
	if ((failed = service_reconcile(cf)) == -1)
		fatalx("cannot start the services");
	sdlisten_unused();
	if (failed > 0 && !o->o_stayalive) {
		log_warnx("%d service%s could not start; exiting (use "
		    "-stayalive to run anyway)", failed, failed == 1 ? "" : "s");
		daemon_ready(1);
		return 1;
	}
	/* Signals first: the pid file tells the world it may send them. */
	if (daemon_signals(base, o->o_config, cf) == -1)
		fatal("cannot install signal events");
	/*
	 * Without it the daemon serves on: portgatectl just cannot ask.
	 * Before the pid file, which tells the world that the daemon
	 * answers: portgatectl too.
	 */
	(void)ctl_open(base, main_control(o, cf));
	if (o->o_pidfile != NULL && daemon_pidfile_write(o->o_pidfile) == -1)
		fatal("cannot write pid file %s", o->o_pidfile);
	bans_start(base, cf);
	master_init(base, nworkers, daemon_forget);
	(void)master_generation(cf, NULL);
	if (master_run_pending() != nworkers || master_workers() != nworkers)
		fatalx("cannot start the workers");
	setproctitle("master%s%s", main_cmdline[0] != '\0' ? " " : "",
	    main_cmdline);
	log_info("portgate %s started with %d service%s", PACKAGE_VERSION,
	    service_count(), service_count() == 1 ? "" : "s");
	daemon_ready(0);
	upgrade_ready();
	sdnotify_ready();
	do {
		if (event_base_dispatch(base) == -1) {
			log_warnx("event loop failed");
			break;
		}
	} while (master_run_pending() > 0);
	bans_stop();
	daemon_cleanup();
	master_cleanup();
	event_base_free(base);
	log_info("portgate stopped");
	return 0;
}

/*
 * --import: the translation on standard output, the findings on standard
 * error; 0 when it holds no error, 1 (and no output) when it does.
 */
static int
import_run(const struct options *o)
{
	struct import_result	ir;
	int			rc;

	import_result_init(&ir);
	rc = import_file(o->o_import[0], o->o_import[1], &ir);
	if (ir.ir_msgs.ib_len > 0)
		fputs(ir.ir_msgs.ib_data, stderr);
	if (rc == 0 && ir.ir_out.ib_len > 0)
		fputs(ir.ir_out.ib_data, stdout);
	if (rc != 0)
		fprintf(stderr, "portgate: %s: %d error%s, nothing printed\n",
		    o->o_import[1], ir.ir_errors, ir.ir_errors == 1 ? "" : "s");
	import_result_free(&ir);
	if (fflush(stdout) == EOF)
		return 1;
	return rc == 0 ? 0 : 1;
}

/*
 * -t: 0 when the configuration is valid, 1 when errors stop the load (and
 * nothing would run), 3 when it is valid but leaves services out on this
 * machine (the others would run).
 */
static int
check(const struct options *o)
{
	struct config	*cf;
	char		 names[1024];
	int		 rc;

	if ((cf = load(o, CONF_CHECK_ONLY | (o->o_dump ? CONF_DUMP : 0))) ==
	    NULL)
		return 1;
	if (o->o_dump && cf->cf_dump != NULL)
		printf("# portgate -T: %s as read\n%s\n", o->o_config,
		    cf->cf_dump);
	printf("%s: configuration OK, %d service%s enabled", o->o_config,
	    cf->cf_nservices, cf->cf_nservices == 1 ? "" : "s");
	if (cf->cf_noff > 0)
		printf("; %d left out on this machine: %s", cf->cf_noff,
		    off_names(cf, names, sizeof(names)));
	printf("\n");
	rc = cf->cf_noff > 0 ? 3 : 0;
	config_unref(cf);
	return rc;
}

int
main(int argc, char **argv)
{
	struct options	 o;
	struct config	*cf;
	int		 ok;

	main_args(argc, argv);
	upgrade_init(argc, argv);
	setproctitle_init(argc, argv, environ);
	options_parse(&o, argc, argv);
	/* As xinetd: servers inherit at least 022 unless `umask` says. */
	(void)umask(umask(0) | 022);
	config_set_root(geteuid() == 0);
	(void)log_init(1, o.o_facility, NULL);
	log_setverbose(o.o_debug);
	if (o.o_import[0] != NULL)
		return import_run(&o);
	accesslog_set_foreground(o.o_foreground);
	if (o.o_explain[0] != NULL) {
		if ((cf = load(&o, CONF_CHECK_ONLY)) == NULL)
			return 2;
		ok = explain_run(cf, o.o_explain[0], o.o_explain[1],
		    o.o_explain[2]);
		config_unref(cf);
		return ok;
	}
	if (o.o_check)
		return check(&o);
	/*
	 * Before the load, which takes the environment of spawned servers,
	 * and before the fork: LISTEN_PID names this process.
	 */
	sdlisten_init();
	sdnotify_init();
	if ((cf = load(&o, 0)) == NULL)
		return 1;
	return run(&o, cf);
}
