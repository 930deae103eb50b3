/*
 * Reaching a redirect target: non-blocking connects to the targets of a
 * service in order, each under connect_timeout, then the PROXY header.
 */
#ifndef PORTGATE_RELAY_CONNECT_H
#define PORTGATE_RELAY_CONNECT_H

#include <sys/types.h>
#include <sys/socket.h>

struct event_base;
struct metrics_service;
struct service_conf;
struct relay_connector;

/*
 * Called once, from the loop: <fd> is the connected socket (non-blocking,
 * TCP_NODELAY, the PROXY header already sent), or -1 with <why> telling
 * what went wrong with the last target tried.
 */
typedef void	(*relay_connect_cb)(void *arg, int fd, const char *why);

/*
 * Start reaching the targets of <sc> for a client at <client> that came in
 * at <local> (both for the PROXY header); each connect is counted in
 * <ms> (may be NULL).  Returns NULL on allocation failure; <cb> is never
 * called from inside this function.
 */
struct relay_connector *relay_connect_start(struct event_base *base,
	    const struct service_conf *sc, const struct sockaddr *client,
	    const struct sockaddr *local, struct metrics_service *ms,
	    relay_connect_cb cb, void *arg);
/* Give up (the session ends first); <cb> is not called. */
void	relay_connect_cancel(struct relay_connector *);

#endif
