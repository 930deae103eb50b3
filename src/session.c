/*
 * Sessions.  session_accept() takes a client from its listener to a back
 * end; session_close() is the one way a session ends, whatever ends it: it
 * writes the EXIT record, releases the counts and frees everything, once.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "accesslog.h"
#include "builtin.h"
#include "config.h"
#include "log.h"
#include "service.h"
#include "session.h"
#include "sockaddr.h"

struct session {
	TAILQ_ENTRY(session)	 se_entry;
	struct service		*se_service;
	struct config		*se_cf;		/* holds se_conf */
	const struct service_conf *se_conf;
	int			 se_fd;		/* until a bufferevent owns it */
	struct sockaddr_storage	 se_peer;
	socklen_t		 se_peerlen;
	char			 se_addr[SOCKADDR_STRLEN];
	time_t			 se_start;
	struct bufferevent	*se_bev;
	struct builtin_session	*se_builtin;
	uint64_t		 se_in;
	uint64_t		 se_out;
};

static TAILQ_HEAD(, session)	sessions = TAILQ_HEAD_INITIALIZER(sessions);
static int			nsessions;

static void	session_close(struct session *, const char *, int);

/* The access record of <s>, as far as it is known. */
static void
session_rec(const struct session *s, struct access_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->ar_id = s->se_conf->sc_id;
	rec->ar_addr = s->se_addr;
	rec->ar_port = sockaddr_port((const struct sockaddr *)&s->se_peer);
	rec->ar_in = s->se_in;
	rec->ar_out = s->se_out;
}

/* A stream built-in finished. */
static void
session_builtin_done(void *arg, int error, uint64_t in, uint64_t out)
{
	struct session	*s = arg;

	s->se_builtin = NULL;
	s->se_in = in;
	s->se_out = out;
	session_close(s, error ? "error" : "done", error);
}

/* Start the back end of an admitted stream session. */
static void
session_start_backend(struct session *s)
{
	const struct service_conf	*sc = s->se_conf;

	if (sc->sc_builtin != BUILTIN_NONE) {
		s->se_bev = bufferevent_socket_new(service_base(), s->se_fd,
		    BEV_OPT_CLOSE_ON_FREE);
		if (s->se_bev == NULL) {
			session_close(s, "out of memory", 1);
			return;
		}
		s->se_fd = -1;
		s->se_builtin = builtin_stream_start(s->se_bev, sc->sc_builtin,
		    session_builtin_done, s);
		if (s->se_builtin == NULL)
			session_close(s, "out of memory", 1);
		return;
	}
	log_warnx("service %s: this kind of service is not served yet",
	    sc->sc_id);
	session_close(s, "no back end", 1);
}

void
session_accept(struct service *sv, int fd, struct sockaddr *sa,
    socklen_t salen)
{
	struct session		*s;
	struct access_rec	 rec;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("service %s: session", sv->sv_conf->sc_id);
		(void)close(fd);
		return;
	}
	s->se_fd = fd;
	s->se_service = sv;
	service_ref(sv);
	s->se_cf = sv->sv_cf;
	config_ref(s->se_cf);
	s->se_conf = sv->sv_conf;
	s->se_start = time(NULL);
	if (salen > sizeof(s->se_peer))
		salen = sizeof(s->se_peer);
	memcpy(&s->se_peer, sa, salen);
	s->se_peerlen = salen;
	sockaddr_unmap(&s->se_peer, &s->se_peerlen);
	(void)sockaddr_ntop((struct sockaddr *)&s->se_peer, s->se_addr,
	    sizeof(s->se_addr));
	TAILQ_INSERT_TAIL(&sessions, s, se_entry);
	nsessions++;
	sv->sv_accepted++;
	sv->sv_running++;
	session_rec(s, &rec);
	accesslog_start(s->se_conf->sc_log, s->se_conf->sc_log_success, &rec);
	session_start_backend(s);
}

void
session_dgram(struct service *sv, const void *data, size_t len,
    struct sockaddr *from, socklen_t fromlen)
{
	const struct service_conf	*sc = sv->sv_conf;
	struct sockaddr_storage		 peer;
	socklen_t			 peerlen = fromlen;
	struct access_rec		 rec;
	char				 addr[SOCKADDR_STRLEN];

	if (sc->sc_builtin == BUILTIN_NONE)
		return;
	if (peerlen > sizeof(peer))
		peerlen = sizeof(peer);
	memcpy(&peer, from, peerlen);
	sockaddr_unmap(&peer, &peerlen);
	memset(&rec, 0, sizeof(rec));
	rec.ar_id = sc->sc_id;
	rec.ar_addr = sockaddr_ntop((struct sockaddr *)&peer, addr,
	    sizeof(addr));
	rec.ar_port = sockaddr_port((struct sockaddr *)&peer);
	sv->sv_accepted++;
	accesslog_start(sc->sc_log, sc->sc_log_success, &rec);
	(void)builtin_dgram(sv->sv_fd, sc->sc_builtin, from, fromlen, data,
	    len);
}

/*
 * End <s>: log, release, free.  <reason> says why, for debugging; <error>
 * is non-zero when the session ended abnormally.
 */
static void
session_close(struct session *s, const char *reason, int error)
{
	struct service		*sv = s->se_service;
	struct access_rec	 rec;

	log_debug("session %s from %s closed: %s", s->se_conf->sc_id,
	    s->se_addr, reason);
	if (s->se_builtin != NULL)
		builtin_stream_free(s->se_builtin);
	if (s->se_bev != NULL)
		bufferevent_free(s->se_bev);
	if (s->se_fd != -1)
		(void)close(s->se_fd);
	session_rec(s, &rec);
	rec.ar_exited = 1;
	rec.ar_status = error ? 1 : 0;
	rec.ar_duration = time(NULL) - s->se_start;
	accesslog_exit(s->se_conf->sc_log, s->se_conf->sc_log_success, &rec);
	sv->sv_running--;
	TAILQ_REMOVE(&sessions, s, se_entry);
	nsessions--;
	config_unref(s->se_cf);
	service_unref(sv);
	free(s);
}

void
session_close_all(void)
{
	struct session	*s;

	while ((s = TAILQ_FIRST(&sessions)) != NULL)
		session_close(s, "shutdown", 0);
}

void
session_dump(void)
{
	struct session	*s;
	time_t		 now = time(NULL);

	TAILQ_FOREACH(s, &sessions, se_entry)
		log_info("dump: session %s from %s port %d, %lld s, "
		    "in %llu out %llu", s->se_conf->sc_id, s->se_addr,
		    sockaddr_port((struct sockaddr *)&s->se_peer),
		    (long long)(now - s->se_start),
		    (unsigned long long)s->se_in,
		    (unsigned long long)s->se_out);
}

int
session_count(void)
{
	return nsessions;
}
