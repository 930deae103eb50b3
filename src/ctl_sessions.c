/*
 * portgatectl sessions and explain: both need the sessions of every
 * worker, which only the workers know.  The master asks each over its
 * channel (master_ctl.c) and answers when all have, or after
 * CTL_ASK_TIMEOUT with what came and how many workers did not answer.
 * The table of questions in flight is bounded by the control socket's
 * clients (each asks one); the sessions kept per question by
 * CTL_SESSIONS_MAX.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "config.h"
#include "ctl_int.h"
#include "explain.h"
#include "log.h"
#include "master.h"
#include "privsep_msg.h"
#include "quota.h"
#include "service.h"
#include "session.h"
#include "sockaddr.h"

#define CTL_ASK_TIMEOUT		3	/* seconds for the workers to answer */
#define CTL_SESSIONS_MAX	100000	/* listed in one answer */
#define CTL_EXPLAIN_ARGS	4

struct ctl_ask {
	TAILQ_ENTRY(ctl_ask)	 ca_entry;
	uint64_t		 ca_id;		/* the request's */
	int			 ca_waiting;	/* workers yet to answer */
	struct event		*ca_timer;
	struct json_object	*ca_list;	/* sessions: NULL for explain */
	unsigned long		 ca_more;	/* not listed */
	char			*ca_service;	/* only these, or NULL */
	/* explain: the source's sessions are counted, not listed. */
	int			 ca_explain;
	char			*ca_args[CTL_EXPLAIN_ARGS];
	int			 ca_argc;
	struct srckey		 ca_key;
	int			 ca_source_now;
};

static TAILQ_HEAD(, ctl_ask)	ctl_asks = TAILQ_HEAD_INITIALIZER(ctl_asks);

static void	ctl_ask_cb(uint64_t, int, const struct privsep_session *,
		    unsigned);

static void
ctl_ask_free(struct ctl_ask *ca)
{
	int	i;

	TAILQ_REMOVE(&ctl_asks, ca, ca_entry);
	if (ca->ca_timer != NULL)
		event_free(ca->ca_timer);
	json_object_put(ca->ca_list);
	free(ca->ca_service);
	for (i = 0; i < ca->ca_argc; i++)
		free(ca->ca_args[i]);
	free(ca);
}

void
ctl_sessions_init(void)
{
	master_ctl_init(ctl_ask_cb);
}

void
ctl_verbs_forget(void)
{
	struct ctl_ask	*ca;

	while ((ca = TAILQ_FIRST(&ctl_asks)) != NULL)
		ctl_ask_free(ca);
}

/* The explain answer: the verdict with the live counts. */
static struct json_object *
ctl_explain_answer(struct ctl_ask *ca)
{
	const struct service_conf	*sc;
	struct explain_live		 live;
	struct json_object		*o;
	struct service			*sv;
	char				*out = NULL, *err = NULL;
	size_t				 outlen, errlen;
	FILE				*fo, *fe;
	int				 rc;

	for (sv = service_next(NULL); sv != NULL; sv = service_next(sv))
		if (explain_find(service_config(sv), ca->ca_args[0]) ==
		    service_conf(sv))
			break;
	if (sv == NULL)
		return ctl_error("no service %s", ca->ca_args[0]);
	sc = service_conf(sv);
	live.el_quota = service_quota(sv);
	live.el_source_now = ca->ca_source_now;
	if ((fo = open_memstream(&out, &outlen)) == NULL)
		return NULL;
	if ((fe = open_memstream(&err, &errlen)) == NULL) {
		(void)fclose(fo);
		free(out);
		return NULL;
	}
	rc = explain_write(fo, fe, service_config(sv), sc->sc_id,
	    ca->ca_args[1], ca->ca_argc > 2 ? ca->ca_args[2] : NULL, &live);
	(void)fclose(fo);
	(void)fclose(fe);
	if (rc == 2)
		o = ctl_error("%s", err != NULL && err[0] != '\0' ?
		    err : "bad arguments");
	else if ((o = ctl_ok()) != NULL &&
	    (ctl_add(o, "admitted", json_object_new_boolean(rc == 0)) ||
	    ctl_add(o, "text", json_object_new_string(out != NULL ? out :
	    "")))) {
		json_object_put(o);
		o = NULL;
	}
	free(out);
	free(err);
	return o;
}

/* Every worker answered, or the time is up: answer the client. */
static void
ctl_ask_done(struct ctl_ask *ca)
{
	struct json_object	*o;

	if (ca->ca_explain)
		o = ctl_explain_answer(ca);
	else if ((o = ctl_ok()) != NULL) {
		if (ctl_add(o, "sessions", ca->ca_list) ||
		    ctl_add(o, "not_listed", json_object_new_uint64(
		    ca->ca_more)) ||
		    ctl_add(o, "workers_silent", json_object_new_int(
		    ca->ca_waiting))) {
			json_object_put(o);
			o = NULL;
		}
		ca->ca_list = NULL;	/* the answer has it */
	}
	if (ca->ca_waiting > 0)
		log_warnx("control: %d worker%s did not answer in %d s",
		    ca->ca_waiting, ca->ca_waiting == 1 ? "" : "s",
		    CTL_ASK_TIMEOUT);
	ctl_reply(ca->ca_id, o);
	ctl_ask_free(ca);
}

static void
ctl_ask_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ctl_ask_done(arg);
}

/* One session, as JSON. */
static struct json_object *
ctl_session_json(const struct privsep_session *ss, int worker)
{
	struct json_object	*o;
	char			 addr[SOCKADDR_STRLEN];

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	(void)sockaddr_ntop((const struct sockaddr *)&ss->ss_peer, addr,
	    sizeof(addr));
	if (ctl_add(o, "service", json_object_new_string(ss->ss_service)) ||
	    ctl_add(o, "client", json_object_new_string(addr)) ||
	    ctl_add(o, "port", json_object_new_int(sockaddr_port(
	    (const struct sockaddr *)&ss->ss_peer))) ||
	    ctl_add(o, "backend", json_object_new_string(ss->ss_backend)) ||
	    ctl_add(o, "pid", json_object_new_int64(ss->ss_pid)) ||
	    ctl_add(o, "tls", json_object_new_string(ss->ss_tls)) ||
	    ctl_add(o, "age", json_object_new_uint64(ss->ss_age)) ||
	    ctl_add(o, "bytes_in", json_object_new_uint64(ss->ss_in)) ||
	    ctl_add(o, "bytes_out", json_object_new_uint64(ss->ss_out)) ||
	    ctl_add(o, "worker", json_object_new_int(worker))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* A session of <ca>: listed, or counted for explain. */
static void
ctl_ask_add(struct ctl_ask *ca, const struct privsep_session *ss, int worker)
{
	const struct service_conf	*sc;
	struct service			*sv;
	struct srckey			 key;

	if (ca->ca_service != NULL &&
	    strcmp(ca->ca_service, ss->ss_service) != 0)
		return;
	if (ca->ca_explain) {
		if ((sv = service_find_id(ss->ss_service)) == NULL)
			return;
		sc = service_conf(sv);
		quota_key(sc, (const struct sockaddr *)&ss->ss_peer, &key);
		if (memcmp(&key, &ca->ca_key, sizeof(key)) == 0)
			ca->ca_source_now++;
		return;
	}
	if (json_object_array_length(ca->ca_list) >= CTL_SESSIONS_MAX ||
	    json_object_array_add(ca->ca_list, ctl_session_json(ss,
	    worker)) != 0)
		ca->ca_more++;
}

static void
ctl_ask_cb(uint64_t req, int worker, const struct privsep_session *ss,
    unsigned more)
{
	struct ctl_ask	*ca;

	TAILQ_FOREACH(ca, &ctl_asks, ca_entry)
		if (ca->ca_id == req)
			break;
	if (ca == NULL)
		return;		/* answered already: late */
	if (ss != NULL) {
		ctl_ask_add(ca, ss, worker);
		return;
	}
	ca->ca_more += more;
	if (--ca->ca_waiting <= 0)
		ctl_ask_done(ca);
}

/*
 * The master's own sessions, as worker 0: hand-offs (wait = yes), whose
 * server took the listening socket, so that no client address is known
 * ("<no address>", as in the access log).
 */
static int
ctl_own_session(const struct session_info *sn, void *arg)
{
	struct privsep_session	 ss;

	memset(&ss, 0, sizeof(ss));
	if (sn->sn_peer->sa_family == AF_INET)
		memcpy(&ss.ss_peer, sn->sn_peer, sizeof(struct sockaddr_in));
	else if (sn->sn_peer->sa_family == AF_INET6)
		memcpy(&ss.ss_peer, sn->sn_peer, sizeof(struct sockaddr_in6));
	(void)strlcpy(ss.ss_service, sn->sn_service, sizeof(ss.ss_service));
	(void)strlcpy(ss.ss_backend, sn->sn_backend, sizeof(ss.ss_backend));
	(void)strlcpy(ss.ss_tls, sn->sn_tls, sizeof(ss.ss_tls));
	ss.ss_pid = sn->sn_pid > 0 ? (uint32_t)sn->sn_pid : 0;
	ss.ss_age = sn->sn_age > 0 ? (uint64_t)sn->sn_age : 0;
	ss.ss_in = sn->sn_in;
	ss.ss_out = sn->sn_out;
	ctl_ask_add(arg, &ss, 0);
	return 0;
}

/* Ask the workers for <ca>; NULL (the answer comes later) or an error. */
static struct json_object *
ctl_ask_start(struct ctl_ask *ca)
{
	struct timeval	tv = { CTL_ASK_TIMEOUT, 0 };

	TAILQ_INSERT_TAIL(&ctl_asks, ca, ca_entry);
	(void)session_walk(ctl_own_session, ca);
	if ((ca->ca_timer = evtimer_new(ctl_evbase(), ctl_ask_timeout_cb,
	    ca)) == NULL || evtimer_add(ca->ca_timer, &tv) == -1) {
		ctl_ask_free(ca);
		return ctl_error("out of memory");
	}
	if ((ca->ca_waiting = master_ctl_sessions(ca->ca_id)) == 0)
		ctl_ask_done(ca);
	return NULL;
}

struct json_object *
ctl_sessions(uint64_t id, int argc, char **argv)
{
	struct ctl_ask	*ca;

	if (argc == 1 && service_find_id(argv[0]) == NULL)
		return ctl_error("no service %s", argv[0]);
	if ((ca = calloc(1, sizeof(*ca))) == NULL ||
	    (ca->ca_list = json_object_new_array()) == NULL ||
	    (argc == 1 && (ca->ca_service = strdup(argv[0])) == NULL)) {
		if (ca != NULL)
			json_object_put(ca->ca_list);
		free(ca);
		return ctl_error("out of memory");
	}
	ca->ca_id = id;
	return ctl_ask_start(ca);
}

struct json_object *
ctl_explain(uint64_t id, int argc, char **argv)
{
	struct addrinfo			 hints, *res;
	const struct service_conf	*sc = NULL;
	struct service			*sv;
	struct ctl_ask			*ca;
	int				 i;

	for (sv = service_next(NULL); sv != NULL && sc == NULL;
	    sv = service_next(sv))
		if (explain_find(service_config(sv), argv[0]) ==
		    service_conf(sv))
			sc = service_conf(sv);
	if (sc == NULL)
		return ctl_error("no service %s", argv[0]);
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(argv[1], NULL, &hints, &res) != 0)
		return ctl_error("'%s' is not a numeric address", argv[1]);
	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		freeaddrinfo(res);
		return ctl_error("out of memory");
	}
	quota_key(sc, res->ai_addr, &ca->ca_key);
	freeaddrinfo(res);
	ca->ca_id = id;
	ca->ca_explain = 1;
	if ((ca->ca_service = strdup(sc->sc_id)) == NULL)
		goto nomem;
	/* "explain S A DAY HH:MM": the time is one argument of explain. */
	ca->ca_argc = argc > 2 ? 3 : 2;
	for (i = 0; i < 2; i++)
		if ((ca->ca_args[i] = strdup(argv[i])) == NULL)
			goto nomem;
	if (argc == 3 && (ca->ca_args[2] = strdup(argv[2])) == NULL)
		goto nomem;
	if (argc == 4 && asprintf(&ca->ca_args[2], "%s %s", argv[2],
	    argv[3]) == -1) {
		ca->ca_args[2] = NULL;
		goto nomem;
	}
	return ctl_ask_start(ca);
nomem:
	for (i = 0; i < CTL_EXPLAIN_ARGS; i++)
		free(ca->ca_args[i]);
	free(ca->ca_service);
	free(ca);
	return ctl_error("out of memory");
}
