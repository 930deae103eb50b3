/*
 * End-to-end tests of portgatectl against a live daemon with two workers:
 * every verb, in text and in JSON (-j, parsed with json-c), its exit
 * status, and what it changes (a ban refuses, a disabled service accepts
 * nothing until enabled, a reload answers with its outcome or the
 * file:line of every error).  The control socket itself is attacked: a
 * line too long, control characters, a client that is not root, and a
 * second daemon that would take the socket of the first.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "harness.h"

#define CONF		"portgate.conf"

struct ctl_fix {
	struct pg_conf	cf;
	int		echo;		/* ports */
	int		fwd;
	int		target;		/* the forward's: echo */
	int		line_echo;	/* of "service echo" in the file */
};

/* Echo (only_from 127.0.0.0/29, per_source 2) and a forward to it. */
static void
fix_conf(struct pg_ctx *c, struct ctl_fix *f, const char *extra)
{
	pg_conf_begin(&f->cf, c, PG_ACCESS_LOG, "HOST", "HOST");
	pg_conf_workers(&f->cf, 2);
	pg_conf_add(&f->cf, "service echo\n{\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n"
	    "\tport\t\t= %d\n\tonly_from\t= 127.0.0.0/29\n"
	    "\tper_source\t= 2\n}\n", f->echo);
	pg_conf_add(&f->cf, "service fwd\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n"
	    "\tport\t\t= %d\n\tredirect\t= 127.0.0.1 %d\n}\n", f->fwd,
	    f->echo);
	if (extra != NULL)
		pg_conf_add(&f->cf, "%s", extra);
	f->line_echo = pg_conf_line(&f->cf, "service echo");
}

static void
fix_start(struct pg_ctx *c, struct ctl_fix *f)
{
	f->echo = pg_fresh_port();
	f->fwd = pg_fresh_port();
	fix_conf(c, f, NULL);
	pg_conf_start(c, &f->cf, CONF);
}

/* portgatectl -j ARGS...: the parsed answer (the test fails otherwise). */
static struct json_object *
ctl_json(struct pg_ctx *c, int want_rc, const char *verb, const char *a1,
    const char *a2)
{
	struct pg_result	 r;
	struct json_object	*o;

	(void)pg_ctl(c, &r, "-j", verb, a1, a2, (char *)NULL);
	if (r.pr_code != want_rc)
		fail_msg("portgatectl -j %s: exit %d, not %d\nout: %s\nerr: %s",
		    verb, r.pr_code, want_rc, r.pr_out, r.pr_err);
	if ((o = json_tokener_parse(r.pr_out)) == NULL ||
	    !json_object_is_type(o, json_type_object))
		fail_msg("portgatectl -j %s: not JSON: %s", verb, r.pr_out);
	pg_result_clear(&r);
	return o;
}

static int64_t
jnum(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no %s in %s", key, json_object_to_json_string(o));
	return json_object_get_int64(v);
}

static const char *
jstr(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		fail_msg("no string %s in %s", key,
		    json_object_to_json_string(o));
	return json_object_get_string(v);
}

static struct json_object *
jget(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no %s in %s", key, json_object_to_json_string(o));
	return v;
}

/* The element of array <a> whose <key> is <val>, or NULL. */
static struct json_object *
jfind(struct json_object *a, const char *key, const char *val)
{
	struct json_object	*e, *v;
	size_t			 i;

	for (i = 0; i < json_object_array_length(a); i++) {
		e = json_object_array_get_idx(a, i);
		if (json_object_object_get_ex(e, key, &v) &&
		    strcmp(json_object_get_string(v), val) == 0)
			return e;
	}
	return NULL;
}

/* Text output of portgatectl ARGS, with the exit status <want_rc>. */
static void
ctl_text(struct pg_ctx *c, struct pg_result *r, int want_rc, const char *verb,
    const char *a1, const char *a2)
{
	(void)pg_ctl(c, r, verb, a1, a2, (char *)NULL);
	if (r->pr_code != want_rc)
		fail_msg("portgatectl %s: exit %d, not %d\nout: %s\nerr: %s",
		    verb, r->pr_code, want_rc, r->pr_out, r->pr_err);
}

/* A connection from <src> to <port> that has been echoed once. */
static int
echo_conn(const char *src, int port)
{
	char	buf[8];
	int	fd;

	if ((fd = pg_tcp_connect(src, "127.0.0.1", port)) == -1)
		fail_msg("connect from %s: %s", src, strerror(errno));
	assert_int_equal(pg_send_all(fd, "ping", 4), 0);
	assert_int_equal(pg_recv_n(fd, buf, 4), 4);
	assert_memory_equal(buf, "ping", 4);
	return fd;
}

/* A client from <src> gets no echo: closed (refused) within the deadline. */
static void
echo_refused(const char *src, int port)
{
	char	buf[8];
	int	fd;

	if ((fd = pg_tcp_connect(src, "127.0.0.1", port)) == -1)
		return;		/* refused at once is refused too */
	(void)pg_send_all(fd, "ping", 4);
	assert_true(pg_recv_eof(fd, buf, sizeof(buf)) <= 0);
	(void)close(fd);
}

/* status: services, states, counts and refusals by reason; text and JSON. */
static void
ctl_status(void **state)
{
	struct pg_ctx		*c = *state;
	struct ctl_fix		 f;
	struct pg_result	 r;
	struct json_object	*o, *sv;
	int			 fd;

	fix_start(c, &f);
	fd = echo_conn("127.0.0.1", f.echo);
	echo_refused("127.0.0.9", f.echo);
	pg_log_wait(c, 1, "FAIL: echo address from=127.0.0.9");
	o = ctl_json(c, 0, "status", NULL, NULL);
	assert_true(json_object_get_boolean(jget(o, "ok")));
	assert_int_equal(jnum(o, "workers"), 2);
	assert_int_equal(jnum(o, "pid"), c->pc_pid);
	assert_int_equal(jnum(o, "sessions"), 1);
	assert_non_null(sv = jfind(jget(o, "services"), "id", "echo"));
	assert_string_equal(jstr(sv, "state"), "enabled");
	assert_int_equal(jnum(sv, "accepted"), 1);
	assert_int_equal(jnum(sv, "refused"), 1);
	assert_int_equal(jnum(sv, "sessions"), 1);
	assert_int_equal(jnum(jget(sv, "refused_by"), "only_from"), 1);
	assert_non_null(strstr(jstr(sv, "listen"), "127.0.0.1"));
	assert_non_null(jfind(jget(o, "services"), "id", "fwd"));
	json_object_put(o);
	ctl_text(c, &r, 0, "status", NULL, NULL);
	assert_int_equal(pg_count_lines(r.pr_out, "^echo +enabled +1 +1 +1 "),
	    1);
	assert_int_equal(pg_count_lines(r.pr_out, "refused: only_from 1$"), 1);
	assert_int_equal(pg_count_lines(r.pr_out, "^fwd +enabled "), 1);
	pg_result_clear(&r);
	(void)close(fd);
	pg_stop_ok(c);
}

/* sessions: every worker's, with client, back end, bytes and worker. */
static void
ctl_sessions(void **state)
{
	static const char *const srcs[] = { "127.0.0.1", "127.0.0.2",
	    "127.0.0.3", "127.0.0.4" };
	struct pg_ctx		*c = *state;
	struct ctl_fix		 f;
	struct pg_result	 r;
	struct json_object	*o, *ss, *s;
	int			 fds[4], fwdfd, i, w;

	fix_start(c, &f);
	for (i = 0; i < 4; i++)
		fds[i] = echo_conn(srcs[i], f.echo);
	fwdfd = echo_conn("127.0.0.5", f.fwd);
	o = ctl_json(c, 0, "sessions", NULL, NULL);
	ss = jget(o, "sessions");
	if (json_object_array_length(ss) != 6)
		fail_msg("sessions: %s", json_object_to_json_string(o));
	/* Four on echo, the forward's two (its client, its own to echo). */
	assert_int_equal(json_object_array_length(ss), 6);
	assert_int_equal(jnum(o, "workers_silent"), 0);
	for (i = 0; i < 4; i++) {
		assert_non_null(s = jfind(ss, "client", srcs[i]));
		assert_string_equal(jstr(s, "service"), "echo");
		assert_string_equal(jstr(s, "backend"), "built-in echo");
		assert_int_equal(jnum(s, "bytes_in"), 4);
		assert_int_equal(jnum(s, "bytes_out"), 4);
		assert_string_equal(jstr(s, "tls"), "");
		w = (int)jnum(s, "worker");
		assert_true(w == 1 || w == 2);
	}
	assert_non_null(s = jfind(ss, "client", "127.0.0.5"));
	assert_string_equal(jstr(s, "service"), "fwd");
	json_object_put(o);
	/* One service only. */
	o = ctl_json(c, 0, "sessions", "fwd", NULL);
	assert_int_equal(json_object_array_length(jget(o, "sessions")), 1);
	json_object_put(o);
	ctl_text(c, &r, 0, "sessions", "echo", NULL);
	assert_int_equal(pg_count_lines(r.pr_out, "^echo +127\\.0\\.0\\.[1-4] "
	    "port [0-9]+ +built-in echo +[12] "), 5);
	pg_result_clear(&r);
	ctl_text(c, &r, 1, "sessions", "nosuch", NULL);
	assert_non_null(strstr(r.pr_err, "no service nosuch"));
	pg_result_clear(&r);
	for (i = 0; i < 4; i++)
		(void)close(fds[i]);
	(void)close(fwdfd);
	pg_stop_ok(c);
}

/* ban refuses in every worker, bans lists it, unban lets it in again. */
static void
ctl_bans(void **state)
{
	struct pg_ctx		*c = *state;
	struct ctl_fix		 f;
	struct pg_result	 r;
	struct json_object	*o, *b;
	int			 fd;

	fix_start(c, &f);
	o = ctl_json(c, 0, "ban", "127.0.0.3", "600");
	assert_string_equal(jstr(o, "address"), "127.0.0.3");
	json_object_put(o);
	ctl_text(c, &r, 0, "ban", "127.0.0.4", NULL);
	assert_string_equal(r.pr_out, "127.0.0.4 banned for ever\n");
	pg_result_clear(&r);
	o = ctl_json(c, 0, "bans", NULL, NULL);
	assert_non_null(b = jfind(jget(o, "bans"), "address", "127.0.0.3"));
	assert_true(jnum(b, "remaining") > 590 && jnum(b, "remaining") <= 600);
	assert_non_null(b = jfind(jget(o, "bans"), "address", "127.0.0.4"));
	assert_int_equal(jnum(b, "until"), 0);
	json_object_put(o);
	/* Both workers refuse (two sources, hashed to either). */
	echo_refused("127.0.0.3", f.echo);
	echo_refused("127.0.0.4", f.echo);
	pg_log_wait(c, 1, "FAIL: echo address from=127.0.0.3");
	pg_log_wait(c, 1, "FAIL: echo address from=127.0.0.4");
	o = ctl_json(c, 0, "status", NULL, NULL);
	assert_non_null(b = jfind(jget(o, "services"), "id", "echo"));
	assert_int_equal(jnum(jget(b, "refused_by"), "sensor"), 2);
	json_object_put(o);
	ctl_text(c, &r, 0, "unban", "127.0.0.3", NULL);
	assert_string_equal(r.pr_out, "127.0.0.3 unbanned\n");
	pg_result_clear(&r);
	fd = echo_conn("127.0.0.3", f.echo);
	(void)close(fd);
	ctl_text(c, &r, 0, "bans", NULL, NULL);
	assert_int_equal(pg_count_lines(r.pr_out, "^127\\.0\\.0\\.4 +for ever"),
	    1);
	assert_int_equal(pg_count_lines(r.pr_out, "127\\.0\\.0\\.3"), 0);
	pg_result_clear(&r);
	/* Wrong words, said so. */
	ctl_text(c, &r, 1, "unban", "127.0.0.3", NULL);
	assert_non_null(strstr(r.pr_err, "127.0.0.3 is not banned"));
	pg_result_clear(&r);
	ctl_text(c, &r, 1, "ban", "not-an-address", NULL);
	assert_non_null(strstr(r.pr_err, "not a numeric address"));
	pg_result_clear(&r);
	ctl_text(c, &r, 1, "ban", "127.0.0.6", "-5");
	assert_non_null(strstr(r.pr_err, "expected seconds"));
	pg_result_clear(&r);
	o = ctl_json(c, 0, "status", NULL, NULL);
	assert_int_equal(jnum(o, "bans"), 1);
	json_object_put(o);
	pg_stop_ok(c);
}

/*
 * disable: new clients wait in the backlog, sessions go on, a reload
 * keeps it so; enable serves the ones that waited.
 */
static void
ctl_disable(void **state)
{
	struct pg_ctx		*c = *state;
	struct ctl_fix		 f;
	struct pg_result	 r;
	struct json_object	*o, *sv;
	char			 buf[8];
	int			 held, waiting;

	fix_start(c, &f);
	held = echo_conn("127.0.0.1", f.echo);
	o = ctl_json(c, 0, "disable", "echo", NULL);
	assert_string_equal(jstr(o, "state"), "disabled");
	json_object_put(o);
	ctl_text(c, &r, 1, "disable", "echo", NULL);
	assert_non_null(strstr(r.pr_err, "disabled already"));
	pg_result_clear(&r);
	/* The session goes on. */
	assert_int_equal(pg_send_all(held, "more", 4), 0);
	assert_int_equal(pg_recv_n(held, buf, 4), 4);
	assert_memory_equal(buf, "more", 4);
	/* A new client is queued by the kernel, not served. */
	waiting = pg_tcp_connect("127.0.0.2", "127.0.0.1", f.echo);
	assert_true(waiting >= 0);
	assert_int_equal(pg_send_all(waiting, "wait", 4), 0);
	assert_int_equal(pg_poll(waiting, POLLIN, 1000), 0);
	/* A reload keeps it disabled: the new workers do not accept. */
	ctl_text(c, &r, 0, "reload", NULL, NULL);
	pg_result_clear(&r);
	assert_int_equal(pg_poll(waiting, POLLIN, 1000), 0);
	o = ctl_json(c, 0, "status", NULL, NULL);
	assert_non_null(sv = jfind(jget(o, "services"), "id", "echo"));
	assert_string_equal(jstr(sv, "state"), "disabled");
	json_object_put(o);
	ctl_text(c, &r, 0, "enable", "echo", NULL);
	assert_string_equal(r.pr_out, "service echo enabled\n");
	pg_result_clear(&r);
	assert_int_equal(pg_recv_n(waiting, buf, 4), 4);
	assert_memory_equal(buf, "wait", 4);
	ctl_text(c, &r, 1, "enable", "nosuch", NULL);
	assert_non_null(strstr(r.pr_err, "no service nosuch"));
	pg_result_clear(&r);
	(void)close(waiting);
	(void)close(held);
	pg_stop_ok(c);
}

/* reload: the outcome once applied; every error with file:line when not. */
static void
ctl_reload(void **state)
{
	struct pg_ctx		*c = *state;
	struct ctl_fix		 f;
	struct pg_result	 r;
	struct json_object	*o;
	char			 extra[512], want[128];
	int			 port = pg_fresh_port(), fd, line;

	fix_start(c, &f);
	(void)snprintf(extra, sizeof(extra), "service echo\n{\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tid\t\t= more\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n"
	    "\tport\t\t= %d%s\n}\n", port, "000000");
	/* A port out of range: the error, at its line. */
	fix_conf(c, &f, extra);
	pg_conf_write(&f.cf, c, CONF);
	(void)snprintf(want, sizeof(want), "%d000000", port);
	line = pg_conf_line(&f.cf, want);
	ctl_text(c, &r, 1, "reload", NULL, NULL);
	(void)snprintf(want, sizeof(want), "%s:%d: error", CONF, line);
	if (strstr(r.pr_err, want) == NULL)
		fail_msg("no error at %s: %s", want, r.pr_err);
	assert_non_null(strstr(r.pr_err, "reload failed: the running "
	    "configuration is kept"));
	pg_result_clear(&r);
	o = ctl_json(c, 1, "reload", NULL, NULL);
	assert_false(json_object_get_boolean(jget(o, "ok")));
	assert_true(json_object_array_length(jget(o, "messages")) >= 1);
	json_object_put(o);
	/* The running configuration serves on. */
	fd = echo_conn("127.0.0.1", f.echo);
	(void)close(fd);
	/*
	 * Good now: a third service, and one left out with a warning that
	 * the answer carries.
	 */
	(void)snprintf(extra, sizeof(extra), "service echo\n{\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tid\t\t= more\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n"
	    "\tport\t\t= %d\n}\nservice frobnicate\n{\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tport\t\t= %d\n}\n", port, pg_fresh_port());
	fix_conf(c, &f, extra);
	pg_conf_write(&f.cf, c, CONF);
	line = pg_conf_line(&f.cf, "service frobnicate");
	ctl_text(c, &r, 0, "reload", NULL, NULL);
	(void)snprintf(want, sizeof(want), "%s:%d: ", CONF, line);
	if (strstr(r.pr_out, want) == NULL)
		fail_msg("no warning at %s: %s", want, r.pr_out);
	assert_non_null(strstr(r.pr_out, "reloaded: 3 services (1 new, 2 kept, "
	    "0 removed)\n"));
	pg_result_clear(&r);
	fd = echo_conn("127.0.0.1", port);
	(void)close(fd);
	o = ctl_json(c, 0, "reload", NULL, NULL);
	assert_int_equal(jnum(o, "kept"), 3);
	assert_int_equal(jnum(o, "services"), 3);
	json_object_put(o);
	pg_stop_ok(c);
}

/* explain: the verdict with the live counts of the running daemon. */
static void
ctl_explain(void **state)
{
	struct pg_ctx		*c = *state;
	struct ctl_fix		 f;
	struct pg_result	 r;
	struct json_object	*o;
	int			 a, b;

	fix_start(c, &f);
	ctl_text(c, &r, 0, "explain", "echo", "127.0.0.2");
	assert_non_null(strstr(r.pr_out, "admitted"));
	assert_non_null(strstr(r.pr_out, "0 from this source (per_source 2)"));
	pg_result_clear(&r);
	ctl_text(c, &r, 1, "explain", "echo", "127.0.0.9");
	assert_non_null(strstr(r.pr_out, "refused: only_from"));
	pg_result_clear(&r);
	/* per_source 2: two sessions from 127.0.0.2 make a third refused. */
	a = echo_conn("127.0.0.2", f.echo);
	b = echo_conn("127.0.0.2", f.echo);
	o = ctl_json(c, 1, "explain", "echo", "127.0.0.2");
	assert_false(json_object_get_boolean(jget(o, "admitted")));
	assert_non_null(strstr(jstr(o, "text"), "refused: per_source 2: 2 "
	    "running from this source"));
	json_object_put(o);
	/* A ban shows. */
	ctl_text(c, &r, 0, "ban", "127.0.0.3", NULL);
	pg_result_clear(&r);
	ctl_text(c, &r, 1, "explain", "echo", "127.0.0.3");
	assert_non_null(strstr(r.pr_out, "refused: deny_time"));
	pg_result_clear(&r);
	ctl_text(c, &r, 1, "explain", "echo", "nonsense");
	assert_non_null(strstr(r.pr_err, "not a numeric address"));
	pg_result_clear(&r);
	/* A time as one argument, or as two. */
	assert_int_equal(pg_ctl(c, &r, "explain", "echo", "127.0.0.4",
	    "Mon 10:00", (char *)NULL), 0);
	assert_non_null(strstr(r.pr_out, "Mon 10:00: admitted"));
	pg_result_clear(&r);
	assert_int_equal(pg_ctl(c, &r, "explain", "echo", "127.0.0.4", "Tue",
	    "11:30", (char *)NULL), 0);
	assert_non_null(strstr(r.pr_out, "Tue 11:30: admitted"));
	pg_result_clear(&r);
	/* Asking about another time lifts no ban. */
	ctl_text(c, &r, 0, "ban", "127.0.0.6", "120");
	pg_result_clear(&r);
	assert_int_equal(pg_ctl(c, &r, "explain", "echo", "127.0.0.6", "Mon",
	    "10:00", (char *)NULL) == 2, 0);
	pg_result_clear(&r);
	assert_int_equal(pg_ctl(c, &r, "explain", "echo", "127.0.0.6", "Sun",
	    "23:59", (char *)NULL) == 2, 0);
	pg_result_clear(&r);
	ctl_text(c, &r, 0, "bans", NULL, NULL);
	assert_int_equal(pg_count_lines(r.pr_out, "^127\\.0\\.0\\.6 "), 1);
	pg_result_clear(&r);
	(void)close(a);
	(void)close(b);
	pg_stop_ok(c);
}

/*
 * explain's live service-wide counts: instances across both workers, and
 * a cps block that the clients tripped.
 */
static void
ctl_explain_cps(void **state)
{
	struct pg_ctx		*c = *state;
	struct ctl_fix		 f;
	struct pg_result	 r;
	char			 extra[512];
	int			 slow = pg_fresh_port(), fds[24], n, i;

	f.echo = pg_fresh_port();
	f.fwd = pg_fresh_port();
	(void)snprintf(extra, sizeof(extra), "service echo\n{\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tid\t\t= slow\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tinstances\t= 10\n\tcps\t\t= 2 60\n}\n", slow);
	fix_conf(c, &f, extra);
	pg_conf_start(c, &f.cf, CONF);
	for (i = 0; i < 2; i++)
		fds[i] = echo_conn(i == 0 ? "127.0.0.2" : "127.0.0.3", slow);
	ctl_text(c, &r, 0, "explain", "slow", "127.0.0.4");
	assert_non_null(strstr(r.pr_out, "now: 2 sessions of this service "
	    "(instances 10)"));
	pg_result_clear(&r);
	/*
	 * More than 2 within a second trip cps for 60 s (on a loaded
	 * machine a second may pass between two: go on until it trips).
	 */
	for (n = 2; n < 24 && pg_log_count(c, "FAIL: slow") == 0; n++) {
		fds[n] = pg_tcp_connect("127.0.0.4", "127.0.0.1", slow);
		pg_sleep_ms(n < 4 ? 0 : 100);
	}
	pg_log_wait(c, 1, "FAIL: slow");
	ctl_text(c, &r, 1, "explain", "slow", "127.0.0.5");
	assert_non_null(strstr(r.pr_out, "disabled by cps for "));
	assert_non_null(strstr(r.pr_out, "refused: cps 2 60"));
	pg_result_clear(&r);
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			(void)close(fds[i]);
	pg_stop_ok(c);
}

/* A raw request on the control socket; the answer, or NULL. */
static char *
raw_ask(struct pg_ctx *c, const void *req, size_t len)
{
	struct sockaddr_un	sun;
	char			path[PG_PATH_MAX], *buf;
	ssize_t			n;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
	    pg_path(c, PG_CTLSOCK, path));
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	assert_int_equal(pg_send_all(fd, req, len), 0);
	assert_non_null(buf = calloc(1, 65536));
	n = pg_recv_eof(fd, buf, 65535);
	(void)close(fd);
	if (n <= 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * In a child of another user: ask "status" on <sock>.  0 when the daemon
 * answers, 1 when it cannot be reached or closes without an answer.
 */
static int
ask_as_other(const char *sock)
{
	struct sockaddr_un	sun;
	char			buf[1];
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, sock, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return 2;
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    pg_send_all(fd, "status\n", 7) == -1)
		return 1;
	/* The first byte of an answer, or the end. */
	return pg_recv_n(fd, buf, 1) == 1 ? 0 : 1;
}

/* Hostile or wrong requests get an error and cost nothing. */
static void
ctl_errors(void **state)
{
	struct pg_ctx		*c = *state;
	struct ctl_fix		 f;
	struct pg_result	 r;
	struct json_object	*o;
	char			 big[3000], *ans, sock[PG_PATH_MAX];
	pid_t			 pid;
	int			 st, i;

	fix_start(c, &f);
	memset(big, 'a', sizeof(big));
	assert_non_null(ans = raw_ask(c, big, sizeof(big)));
	assert_non_null(strstr(ans, "longer than 1024 bytes"));
	free(ans);
	assert_non_null(ans = raw_ask(c, "status\001\n", 8));
	assert_non_null(strstr(ans, "printable"));
	free(ans);
	assert_non_null(ans = raw_ask(c, "frobnicate\n", 11));
	assert_non_null(strstr(ans, "unknown verb frobnicate"));
	free(ans);
	assert_non_null(ans = raw_ask(c, "ban\n", 4));
	assert_non_null(strstr(ans, "wrong number of arguments"));
	free(ans);
	assert_non_null(ans = raw_ask(c, " \t \n", 4));
	assert_non_null(strstr(ans, "empty request"));
	free(ans);
	assert_non_null(ans = raw_ask(c, "a b c d e f g h i\n", 18));
	assert_non_null(strstr(ans, "too many words"));
	free(ans);
	/* Two lines: the first is answered, the rest read and dropped. */
	assert_non_null(ans = raw_ask(c, "bans\nstatus\nstatus\n", 19));
	assert_non_null(strstr(ans, "\"bans\""));
	free(ans);
	/* The client's own checks: usage and exit 2. */
	ctl_text(c, &r, 2, "frobnicate", NULL, NULL);
	assert_non_null(strstr(r.pr_err, "usage: portgatectl"));
	pg_result_clear(&r);
	ctl_text(c, &r, 2, "ban", NULL, NULL);
	assert_non_null(strstr(r.pr_err, "usage: portgatectl"));
	pg_result_clear(&r);
	ctl_text(c, &r, 2, "ban", "127.0.0.1\n", NULL);
	assert_non_null(strstr(r.pr_err, "control character"));
	pg_result_clear(&r);
	ctl_text(c, &r, 2, "sessions", "two words", NULL);
	assert_non_null(strstr(r.pr_err, "an argument is one word"));
	pg_result_clear(&r);
	(void)pg_ctl(c, &r, "-x", "status", (char *)NULL);
	assert_int_equal(r.pr_code, 2);
	pg_result_clear(&r);
	(void)pg_ctl(c, &r, (char *)NULL);
	assert_int_equal(r.pr_code, 2);
	assert_non_null(strstr(r.pr_err, "explain SERVICE ADDRESS"));
	pg_result_clear(&r);
	/* explain's own errors. */
	ctl_text(c, &r, 1, "explain", "nosuch", "127.0.0.1");
	assert_non_null(strstr(r.pr_err, "no service nosuch"));
	pg_result_clear(&r);
	assert_int_equal(pg_ctl(c, &r, "explain", "echo", "127.0.0.1", "25:00",
	    (char *)NULL), 1);
	assert_non_null(strstr(r.pr_err, "expected [DAY] HH:MM"));
	pg_result_clear(&r);
	/* Still answering. */
	o = ctl_json(c, 0, "status", NULL, NULL);
	json_object_put(o);
	/*
	 * Only root or the daemon's user: the socket is 0600, and when an
	 * admin opens its mode, the daemon still checks who connects.
	 */
	if (geteuid() == 0) {
		(void)pg_path(c, PG_CTLSOCK, sock);
		for (i = 0; i < 2; i++) {
			/* The directory is the test's, 0700. */
			if (i == 1)
				assert_int_equal(chmod(c->pc_dir, 0711) |
				    chmod(sock, 0666), 0);
			/*
			 * Asked in the child itself: the build tree (a
			 * mktemp -d of CI) may be closed to nobody.
			 */
			if ((pid = fork()) == 0) {
				if (setgid(65534) == -1 ||
				    setuid(65534) == -1)
					_exit(3);
				_exit(ask_as_other(sock));
			}
			assert_true(pid > 0);
			assert_int_equal(waitpid(pid, &st, 0), pid);
			assert_true(WIFEXITED(st));
			assert_int_equal(WEXITSTATUS(st), 1);
		}
		assert_int_equal(pg_file_wait(c, PG_ERRLOG, "a client that is "
		    "neither root nor uid 0 refused", 1), 0);
	}
	pg_stop_ok(c);
	/* No daemon: a clear message and exit 1; the socket is gone. */
	ctl_text(c, &r, 1, "status", NULL, NULL);
	assert_non_null(strstr(r.pr_err, "is portgate running?"));
	pg_result_clear(&r);
}

/*
 * A worker that does not answer (stopped) delays sessions by the
 * deadline only, says how many were silent, and stalls nothing else.
 */
static void
ctl_silent(void **state)
{
	struct pg_ctx		*c = *state;
	struct ctl_fix		 f;
	struct json_object	*o;
	pid_t			 w[4];
	int			 fd;

	fix_start(c, &f);
	fd = echo_conn("127.0.0.1", f.echo);
	assert_int_equal(pg_workers(c->pc_pid, w, 4), 2);
	assert_int_equal(kill(w[0], SIGSTOP), 0);
	o = ctl_json(c, 0, "sessions", NULL, NULL);
	assert_int_equal(jnum(o, "workers_silent"), 1);
	json_object_put(o);
	o = ctl_json(c, 0, "status", NULL, NULL);
	assert_int_equal(jnum(o, "workers"), 2);
	json_object_put(o);
	assert_int_equal(kill(w[0], SIGCONT), 0);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, "1 worker did not answer "
	    "in 3 s", 1), 0);
	/* Its late answer is dropped; the next question is answered whole. */
	o = ctl_json(c, 0, "sessions", NULL, NULL);
	assert_int_equal(jnum(o, "workers_silent"), 0);
	assert_int_equal(json_object_array_length(jget(o, "sessions")), 1);
	json_object_put(o);
	(void)close(fd);
	pg_stop_ok(c);
}

/*
 * A wait = yes service: its server holds the listening socket, and the
 * master lists the session as worker 0 with the server's pid.
 */
static void
ctl_handoff(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_conf		 cf;
	struct json_object	*o, *s;
	long long		 deadline = pg_now_ms() + PG_TIMEOUT_MS;
	int			 p = pg_fresh_port(), fd;

	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST PID", "HOST");
	pg_conf_add(&cf, "service held\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= yes\n%s"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tserver\t\t= /bin/sleep\n\tserver_args\t= 60\n}\n",
	    geteuid() == 0 ? "\tuser\t\t= nobody\n" : "", p);
	pg_conf_start(c, &cf, CONF);
	assert_true((fd = pg_tcp_connect(NULL, "127.0.0.1", p)) >= 0);
	pg_log_wait(c, 1, "START: held pid=");
	for (;;) {
		o = ctl_json(c, 0, "sessions", NULL, NULL);
		if (json_object_array_length(jget(o, "sessions")) == 1)
			break;
		json_object_put(o);
		if (pg_left(deadline) == 0)
			fail_msg("no session of held");
		pg_sleep_ms(20);
	}
	s = json_object_array_get_idx(jget(o, "sessions"), 0);
	assert_string_equal(jstr(s, "service"), "held");
	assert_string_equal(jstr(s, "client"), "<no address>");
	assert_string_equal(jstr(s, "backend"), "server /bin/sleep");
	assert_int_equal(jnum(s, "worker"), 0);
	assert_true(jnum(s, "pid") > 1);
	json_object_put(o);
	(void)close(fd);
	pg_stop_ok(c);
}

/* A control socket in directories that do not exist yet: they are made. */
static void
ctl_mkdir(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_conf		 cf;
	char			 sock[PG_PATH_MAX];
	pid_t			 pid;
	int			 st;

	(void)pg_path(c, "run/a/b/pg.sock", sock);
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", "HOST");
	pg_conf_add(&cf, "defaults\n{\n\tcontrol_socket\t= %s\n}\n", sock);
	pg_conf_add(&cf, "service echo\n{\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n"
	    "\tport\t\t= %d\n}\n", pg_fresh_port());
	pg_conf_start(c, &cf, CONF);
	if ((pid = fork()) == 0) {
		execl(pg_ctl_bin(), "portgatectl", "-s", sock, "status",
		    (char *)NULL);
		_exit(4);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	pg_stop_ok(c);
}

/* A second daemon does not take the control socket of the first. */
static void
ctl_taken(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_ctx		 c2;
	struct pg_conf		 cf;
	struct ctl_fix		 f;
	struct json_object	*o;
	char			 sock[PG_PATH_MAX];

	fix_start(c, &f);
	assert_int_equal(pg_ctx_init(&c2), 0);
	pg_conf_begin(&cf, &c2, PG_ACCESS_LOG, "HOST", "HOST");
	pg_conf_add(&cf, "defaults\n{\n\tcontrol_socket\t= %s\n}\n",
	    pg_path(c, PG_CTLSOCK, sock));
	pg_conf_add(&cf, "service echo\n{\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n"
	    "\tport\t\t= %d\n}\n", pg_fresh_port());
	pg_conf_start(&c2, &cf, CONF);
	assert_int_equal(pg_file_wait(&c2, PG_ERRLOG, "another daemon answers "
	    "there", 1), 0);
	o = ctl_json(c, 0, "status", NULL, NULL);
	assert_int_equal(jnum(o, "pid"), c->pc_pid);
	json_object_put(o);
	pg_stop_ok(&c2);
	/* The second's stop left the first's socket alone. */
	o = ctl_json(c, 0, "status", NULL, NULL);
	assert_int_equal(jnum(o, "pid"), c->pc_pid);
	json_object_put(o);
	pg_ctx_clear(&c2);
	pg_stop_ok(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(ctl_status, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(ctl_sessions, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(ctl_bans, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(ctl_disable, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(ctl_reload, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(ctl_explain, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(ctl_explain_cps, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(ctl_errors, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(ctl_taken, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(ctl_mkdir, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(ctl_silent, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(ctl_handoff, pg_setup,
		    pg_teardown),
	};

	pg_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
