/*
 * The control socket (portgatectl(8)): a UNIX stream socket of the master,
 * mode 0600, on which root (or the daemon's own user) asks one question
 * a connection: a line "VERB ARG ...", answered by one JSON object and
 * the end of the connection.  Who asks is checked with SO_PEERCRED as
 * well as by the mode; a client is bounded in what it may send (one line
 * of CTL_LINE_MAX bytes), in time and in number, so that a stuck or
 * hostile one costs nothing but its descriptor for CTL_TIMEOUT seconds.
 * The verbs are in ctl_status.c, ctl_sessions.c and ctl_bans.c.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "ctl.h"
#include "ctl_int.h"
#include "ctl_parse.h"
#include "log.h"
#include "upgrade.h"

#define CTL_CLIENTS_MAX	16	/* at once; more wait in the backlog */
#define CTL_LINE_MAX	1024	/* a request */
#define CTL_ARGS_MAX	8	/* words of a request */
#define CTL_TIMEOUT	10	/* seconds to ask, and to take the answer */
#define CTL_DEADLINE	60	/* seconds a client may stay in all */

struct ctl_client {
	TAILQ_ENTRY(ctl_client)	 cc_entry;
	uint64_t		 cc_id;
	struct bufferevent	*cc_bev;
	struct event		*cc_deadline;
	int			 cc_asked;	/* a request was read */
	int			 cc_answered;	/* closing once written */
	int			 cc_shut;	/* the answer is all sent */
};

static TAILQ_HEAD(, ctl_client)	 ctl_clients =
				    TAILQ_HEAD_INITIALIZER(ctl_clients);
static struct event_base	*ctl_base;
static struct event		*ctl_ev;
static int			 ctl_fd = -1;
static int			 ctl_nclients;
static uint64_t			 ctl_next_id = 1;
static char			 ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static ino_t			 ctl_ino;	/* of our socket file */
static dev_t			 ctl_dev;

static const struct ctl_verb	 ctl_verbs[] = {
	{ "status", 0, 0, ctl_status },
	{ "sessions", 0, 1, ctl_sessions },
	{ "bans", 0, 0, ctl_bans },
	{ "ban", 1, 2, ctl_ban },
	{ "unban", 1, 1, ctl_unban },
	{ "disable", 1, 1, ctl_disable },
	{ "enable", 1, 1, ctl_enable },
	{ "reload", 0, 0, ctl_reload },
	{ "explain", 2, 4, ctl_explain },
};

static void	ctl_accept_cb(evutil_socket_t, short, void *);

struct event_base *
ctl_evbase(void)
{
	return ctl_base;
}

struct json_object *
ctl_error(const char *fmt, ...)
{
	struct json_object	*o;
	va_list			 ap;
	char			 msg[512];

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((o = ctl_ok()) == NULL)
		return NULL;
	if (json_object_object_add(o, "ok", json_object_new_boolean(0)) ||
	    json_object_object_add(o, "error", json_object_new_string(msg))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *
ctl_ok(void)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (json_object_object_add(o, "ok", json_object_new_boolean(1))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int
ctl_add(struct json_object *o, const char *key, struct json_object *v)
{
	if (v == NULL)
		return -1;
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

static struct ctl_client *
ctl_find(uint64_t id)
{
	struct ctl_client	*cc;

	TAILQ_FOREACH(cc, &ctl_clients, cc_entry)
		if (cc->cc_id == id)
			return cc;
	return NULL;
}

static void
ctl_client_free(struct ctl_client *cc)
{
	TAILQ_REMOVE(&ctl_clients, cc, cc_entry);
	bufferevent_free(cc->cc_bev);
	if (cc->cc_deadline != NULL)
		event_free(cc->cc_deadline);
	free(cc);
	/* Room again: take the clients waiting in the backlog. */
	if (ctl_nclients-- == CTL_CLIENTS_MAX && ctl_ev != NULL)
		(void)event_add(ctl_ev, NULL);
}

void
ctl_reply(uint64_t id, struct json_object *o)
{
	struct ctl_client	*cc = ctl_find(id);
	const char		*text;
	struct evbuffer		*out;

	if (o == NULL)
		o = ctl_error("out of memory");
	if (cc == NULL || cc->cc_answered) {
		json_object_put(o);
		return;
	}
	cc->cc_answered = 1;
	out = bufferevent_get_output(cc->cc_bev);
	text = o != NULL ? json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
	if (text == NULL || evbuffer_add(out, text, strlen(text)) == -1 ||
	    evbuffer_add(out, "\n", 1) == -1) {
		json_object_put(o);
		ctl_client_free(cc);
		return;
	}
	json_object_put(o);
	if (bufferevent_enable(cc->cc_bev, EV_READ | EV_WRITE) == -1)
		ctl_client_free(cc);
}

static void
ctl_dispatch(struct ctl_client *cc, char *line)
{
	struct json_object	*o;
	char			*argv[CTL_ARGS_MAX];
	const char		*why;
	size_t			 i;
	int			 argc;

	if ((argc = ctl_parse(line, argv, CTL_ARGS_MAX, &why)) == -1) {
		ctl_reply(cc->cc_id, ctl_error("%s", why));
		return;
	}
	for (i = 0; i < sizeof(ctl_verbs) / sizeof(ctl_verbs[0]); i++) {
		if (strcmp(ctl_verbs[i].cv_name, argv[0]) != 0)
			continue;
		if (argc - 1 < ctl_verbs[i].cv_min ||
		    argc - 1 > ctl_verbs[i].cv_max) {
			ctl_reply(cc->cc_id, ctl_error("%s: wrong number of "
			    "arguments", argv[0]));
			return;
		}
		log_debug("control: %s", argv[0]);
		/* NULL: the verb answers later, with ctl_reply(). */
		if ((o = ctl_verbs[i].cv_fn(cc->cc_id, argc - 1,
		    argv + 1)) != NULL)
			ctl_reply(cc->cc_id, o);
		return;
	}
	ctl_reply(cc->cc_id, ctl_error("unknown verb %s", argv[0]));
}

static void
ctl_read_cb(struct bufferevent *bev, void *arg)
{
	struct timeval		 tv = { CTL_TIMEOUT, 0 };
	struct ctl_client	*cc = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			*line;
	size_t			 len;

	if (cc->cc_asked) {
		/* More than the one line: read and dropped. */
		(void)evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) == NULL) {
		if (evbuffer_get_length(in) > CTL_LINE_MAX) {
			cc->cc_asked = 1;
			ctl_reply(cc->cc_id, ctl_error("request longer than "
			    "%d bytes", CTL_LINE_MAX));
		}
		return;
	}
	cc->cc_asked = 1;
	/* An answer may take a while (reload): the deadline bounds it. */
	(void)bufferevent_set_timeouts(bev, NULL, &tv);
	if (len > CTL_LINE_MAX)
		ctl_reply(cc->cc_id, ctl_error("request longer than %d bytes",
		    CTL_LINE_MAX));
	else
		ctl_dispatch(cc, line);
	free(line);
}

static void
ctl_write_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_client	*cc = arg;

	/*
	 * Answered: end our side and wait for the client's end, reading
	 * what it still sends; closing on unread bytes would reset the
	 * connection, and the client could lose the answer.
	 */
	if (cc->cc_answered && !cc->cc_shut) {
		cc->cc_shut = 1;
		if (shutdown(bufferevent_getfd(bev), SHUT_WR) == -1)
			ctl_client_free(cc);
	}
}

static void
ctl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_client	*cc = arg;

	(void)bev;
	if ((what & BEV_EVENT_EOF) && cc->cc_answered && !cc->cc_shut &&
	    !(what & BEV_EVENT_WRITING)) {
		/* It shut its side; the answer still goes. */
		(void)bufferevent_disable(cc->cc_bev, EV_READ);
		return;
	}
	if ((what & BEV_EVENT_EOF) && cc->cc_asked && !cc->cc_answered &&
	    !(what & BEV_EVENT_WRITING)) {
		/* Asked, then shut its side: the answer still goes. */
		(void)bufferevent_disable(cc->cc_bev, EV_READ);
		return;
	}
	if ((what & BEV_EVENT_EOF) && !cc->cc_asked &&
	    !(what & BEV_EVENT_WRITING)) {
		/* Asked nothing, or a last line without its newline. */
		cc->cc_asked = 1;
		ctl_reply(cc->cc_id, ctl_error("no request"));
		return;
	}
	/* Gone, timed out or failed: an answer to come is dropped. */
	ctl_client_free(cc);
}

static void
ctl_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client	*cc = arg;

	(void)fd;
	(void)what;
	log_warnx("control socket: a client dropped after %d s",
	    CTL_DEADLINE);
	ctl_client_free(cc);
}

/* Who is at <fd>: root, or this daemon's own user. */
static int
ctl_peer_ok(int fd)
{
	struct ucred	uc;
	socklen_t	len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1)
		return 0;
	return uc.uid == 0 || uc.uid == geteuid();
}

static void
ctl_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct timeval		 tv = { CTL_TIMEOUT, 0 };
	struct timeval		 dl = { CTL_DEADLINE, 0 };
	struct ctl_client	*cc;
	int			 fd;

	(void)what;
	(void)arg;
	while (ctl_nclients < CTL_CLIENTS_MAX) {
		if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("control socket: accept");
			return;
		}
		if (!ctl_peer_ok(fd)) {
			log_warnx("control socket: a client that is neither "
			    "root nor uid %ld refused", (long)geteuid());
			(void)close(fd);
			continue;
		}
		if ((cc = calloc(1, sizeof(*cc))) == NULL ||
		    (cc->cc_bev = bufferevent_socket_new(ctl_base, fd,
		    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
			log_warn("control socket");
			free(cc);
			(void)close(fd);
			return;
		}
		cc->cc_id = ctl_next_id++;
		bufferevent_setcb(cc->cc_bev, ctl_read_cb, ctl_write_cb,
		    ctl_event_cb, cc);
		bufferevent_setwatermark(cc->cc_bev, EV_READ, 0,
		    CTL_LINE_MAX + 2);
		(void)bufferevent_set_timeouts(cc->cc_bev, &tv, &tv);
		TAILQ_INSERT_TAIL(&ctl_clients, cc, cc_entry);
		ctl_nclients++;
		if ((cc->cc_deadline = evtimer_new(ctl_base, ctl_deadline_cb,
		    cc)) == NULL || evtimer_add(cc->cc_deadline, &dl) == -1 ||
		    bufferevent_enable(cc->cc_bev, EV_READ) == -1)
			ctl_client_free(cc);
	}
	/* Full: the others wait in the backlog until one is done. */
	(void)event_del(ctl_ev);
}

/* Is a daemon answering at <sun>?  1, 0 (a stale file), -1 (not a socket). */
static int
ctl_alive(const struct sockaddr_un *sun)
{
	struct stat	st;
	int		fd, rc;

	if (lstat(sun->sun_path, &st) == -1)
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 1;	/* assume the worst: leave it */
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
	    (errno != ECONNREFUSED && errno != ENOENT);
	(void)close(fd);
	return rc;
}

/*
 * Bind a socket at <tmp> with mode 0600 and move it to <path>: who
 * connects never finds a socket of another mode, and the new master of an
 * upgrade takes the name over from the old one without a gap.
 */
static int
ctl_bind(const char *path, const char *tmp)
{
	struct sockaddr_un	sun;
	struct stat		st;
	mode_t			old;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)strlcpy(sun.sun_path, tmp, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	(void)unlink(tmp);
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		(void)umask(old);
		(void)close(fd);
		return -1;
	}
	(void)umask(old);
	if (listen(fd, 16) == -1 || stat(tmp, &st) == -1 ||
	    rename(tmp, path) == -1) {
		(void)unlink(tmp);
		(void)close(fd);
		return -1;
	}
	ctl_ino = st.st_ino;
	ctl_dev = st.st_dev;
	return fd;
}

/*
 * The directories above <path>, made 0755 where missing (the default
 * $runstatedir may not exist on a first start outside a package).
 */
static void
ctl_mkdirs(const char *path)
{
	char	dir[sizeof(((struct sockaddr_un *)0)->sun_path)], *p;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir) ||
	    (p = strrchr(dir, '/')) == NULL || p == dir)
		return;
	*p = '\0';
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			return;
		*p = '/';
	}
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		log_warn("control socket: mkdir %s", dir);
}

int
ctl_open(struct event_base *base, const char *path)
{
	struct sockaddr_un	sun;
	char			tmp[sizeof(sun.sun_path) + 16];
	int			alive;

	ctl_base = base;
	ctl_sessions_init();
	if (path == NULL || strcmp(path, "none") == 0)
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path) || (size_t)snprintf(tmp, sizeof(tmp),
	    "%s.%ld", path, (long)getpid()) >= sizeof(sun.sun_path)) {
		log_warnx("control socket %s: path too long; portgatectl "
		    "cannot reach this daemon", path);
		return -1;
	}
	if ((alive = ctl_alive(&sun)) == -1) {
		log_warnx("control socket %s: something else is there; "
		    "portgatectl cannot reach this daemon", path);
		return -1;
	}
	if (alive && !upgrade_child()) {
		log_warnx("control socket %s: another daemon answers there; "
		    "portgatectl cannot reach this one", path);
		return -1;
	}
	if ((ctl_fd = ctl_bind(path, tmp)) == -1 && errno == ENOENT) {
		ctl_mkdirs(path);
		ctl_fd = ctl_bind(path, tmp);
	}
	if (ctl_fd == -1) {
		log_warn("control socket %s; portgatectl cannot reach this "
		    "daemon", path);
		return -1;
	}
	(void)strlcpy(ctl_path, path, sizeof(ctl_path));
	if ((ctl_ev = event_new(base, ctl_fd, EV_READ | EV_PERSIST,
	    ctl_accept_cb, NULL)) == NULL || event_add(ctl_ev, NULL) == -1) {
		log_warnx("control socket %s: cannot watch it", path);
		ctl_close();
		return -1;
	}
	log_debug("control socket %s", path);
	return 0;
}

/* Close every client and the socket (<unlink>: remove it if ours). */
static void
ctl_shut(int remove)
{
	struct ctl_client	*cc;
	struct stat		 st;

	while ((cc = TAILQ_FIRST(&ctl_clients)) != NULL)
		ctl_client_free(cc);
	if (ctl_ev != NULL)
		event_free(ctl_ev);
	ctl_ev = NULL;
	if (ctl_fd != -1)
		(void)close(ctl_fd);
	ctl_fd = -1;
	/* Not a socket that a new master put there. */
	if (remove && ctl_path[0] != '\0' && stat(ctl_path, &st) == 0 &&
	    st.st_ino == ctl_ino && st.st_dev == ctl_dev &&
	    unlink(ctl_path) == -1)
		log_warn("unlink %s", ctl_path);
	ctl_path[0] = '\0';
}

void
ctl_close(void)
{
	ctl_shut(1);
}

void
ctl_forget(void)
{
	ctl_shut(0);
	ctl_verbs_forget();
}
