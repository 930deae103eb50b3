/*
 * portgatectl's text: the daemon's JSON answers as lines an admin reads.
 * Every field is looked up with a default, so that an answer of another
 * version prints what it has.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "portgatectl.h"

static const char *
str(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static int64_t
num(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_int64(v);
}

static struct json_object *
list(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

static void
print_status(struct json_object *ans)
{
	struct json_object		*svs, *sv, *by;
	struct json_object_iterator	 it, end;
	size_t				 i, n;

	printf("portgate %s, pid %" PRId64 ", %" PRId64 " worker%s, %" PRId64
	    " session%s, %" PRId64 " banned address%s\nconfiguration %s\n",
	    str(ans, "version"), num(ans, "pid"), num(ans, "workers"),
	    num(ans, "workers") == 1 ? "" : "s", num(ans, "sessions"),
	    num(ans, "sessions") == 1 ? "" : "s", num(ans, "bans"),
	    num(ans, "bans") == 1 ? "" : "es", str(ans, "config"));
	if (str(ans, "redis_status")[0] != '\0')
		printf("%s\n", str(ans, "redis_status"));
	if ((svs = list(ans, "services")) == NULL)
		return;
	n = json_object_array_length(svs);
	printf("%-20s %-22s %8s %10s %10s  %s\n", "SERVICE", "STATE",
	    "SESSIONS", "ACCEPTED", "REFUSED", "LISTEN");
	for (i = 0; i < n; i++) {
		sv = json_object_array_get_idx(svs, i);
		printf("%-20s %-22s %8" PRId64 " %10" PRId64 " %10" PRId64
		    "  %s\n", str(sv, "id"), str(sv, "state"),
		    num(sv, "sessions"), num(sv, "accepted"),
		    num(sv, "refused"), str(sv, "listen"));
		if (!json_object_object_get_ex(sv, "refused_by", &by) ||
		    json_object_object_length(by) == 0)
			continue;
		printf("%-20s refused:", "");
		it = json_object_iter_begin(by);
		end = json_object_iter_end(by);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it))
			printf(" %s %" PRId64, json_object_iter_peek_name(&it),
			    json_object_get_int64(
			    json_object_iter_peek_value(&it)));
		printf("\n");
	}
}

static void
print_sessions(struct json_object *ans)
{
	struct json_object	*ss, *s;
	size_t			 i, n;
	char			 client[80];

	if ((ss = list(ans, "sessions")) == NULL)
		return;
	n = json_object_array_length(ss);
	printf("%-16s %-28s %-28s %-6s %8s %12s %12s  %s\n", "SERVICE",
	    "CLIENT", "BACKEND", "WORKER", "AGE", "IN", "OUT", "TLS");
	for (i = 0; i < n; i++) {
		s = json_object_array_get_idx(ss, i);
		(void)snprintf(client, sizeof(client), "%s port %" PRId64,
		    str(s, "client"), num(s, "port"));
		printf("%-16s %-28s %-28s %-6" PRId64 " %7" PRId64 "s %12"
		    PRId64 " %12" PRId64 "  %s\n", str(s, "service"), client,
		    str(s, "backend"), num(s, "worker"), num(s, "age"),
		    num(s, "bytes_in"), num(s, "bytes_out"),
		    str(s, "tls")[0] != '\0' ? str(s, "tls") : "-");
	}
	if (num(ans, "not_listed") > 0)
		printf("(%" PRId64 " more not listed)\n", num(ans,
		    "not_listed"));
	if (num(ans, "workers_silent") > 0)
		printf("(%" PRId64 " worker%s did not answer)\n",
		    num(ans, "workers_silent"),
		    num(ans, "workers_silent") == 1 ? "" : "s");
}

static void
print_bans(struct json_object *ans)
{
	struct json_object	*bs, *b;
	struct tm		 tm;
	time_t			 until;
	size_t			 i, n;
	char			 when[64];

	if ((bs = list(ans, "bans")) == NULL)
		return;
	n = json_object_array_length(bs);
	printf("%-40s %s\n", "ADDRESS", "UNTIL");
	for (i = 0; i < n; i++) {
		b = json_object_array_get_idx(bs, i);
		until = (time_t)num(b, "until");
		if (until == 0)
			(void)snprintf(when, sizeof(when), "for ever");
		else if (localtime_r(&until, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
			(void)snprintf(when, sizeof(when), "%lld",
			    (long long)until);
		printf("%-40s %s", str(b, "address"), when);
		if (until != 0)
			printf(" (%" PRId64 " s left)", num(b, "remaining"));
		printf("\n");
	}
}

/* reload: the outcome, and every message of the configuration. */
static int
print_reload(struct json_object *ans, int ok)
{
	struct json_object	*ms;
	size_t			 i, n;
	FILE			*fp = ok ? stdout : stderr;

	if ((ms = list(ans, "messages")) != NULL) {
		n = json_object_array_length(ms);
		for (i = 0; i < n; i++)
			fprintf(fp, "%s\n", json_object_get_string(
			    json_object_array_get_idx(ms, i)));
	}
	if (!ok) {
		fprintf(stderr, "portgatectl: %s\n", str(ans, "error"));
		return 1;
	}
	printf("reloaded: %" PRId64 " service%s (%" PRId64 " new, %" PRId64
	    " kept, %" PRId64 " removed)", num(ans, "services"),
	    num(ans, "services") == 1 ? "" : "s", num(ans, "added"),
	    num(ans, "kept"), num(ans, "removed"));
	if (num(ans, "failed") > 0) {
		printf("; %" PRId64 " could not start (see the log)\n",
		    num(ans, "failed"));
		return 1;
	}
	printf("\n");
	return 0;
}

int
pgctl_reload_rc(struct json_object *ans)
{
	return num(ans, "failed") > 0 ? 1 : 0;
}

int
pgctl_explain_rc(struct json_object *ans)
{
	struct json_object	*v;

	return json_object_object_get_ex(ans, "admitted", &v) &&
	    json_object_get_boolean(v) ? 0 : 1;
}

int
pgctl_print(const char *verb, struct json_object *ans)
{
	struct json_object	*v;
	int			 ok;

	ok = json_object_object_get_ex(ans, "ok", &v) &&
	    json_object_get_boolean(v);
	if (strcmp(verb, "reload") == 0)
		return print_reload(ans, ok);
	if (!ok) {
		fprintf(stderr, "portgatectl: %s\n", str(ans, "error"));
		return 1;
	}
	if (strcmp(verb, "status") == 0)
		print_status(ans);
	else if (strcmp(verb, "sessions") == 0)
		print_sessions(ans);
	else if (strcmp(verb, "bans") == 0)
		print_bans(ans);
	else if (strcmp(verb, "ban") == 0)
		printf("%s banned%s\n", str(ans, "address"),
		    num(ans, "until") == 0 ? " for ever" : "");
	else if (strcmp(verb, "unban") == 0)
		printf("%s unbanned\n", str(ans, "address"));
	else if (strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0)
		printf("service %s %s\n", str(ans, "service"),
		    str(ans, "state"));
	else if (strcmp(verb, "explain") == 0) {
		fputs(str(ans, "text"), stdout);
		return pgctl_explain_rc(ans);
	}
	return 0;
}
