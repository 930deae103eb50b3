/*
 * UDP forwarding: one flow per client address and port, each with its own
 * connected socket to the target so that replies go back to the right
 * client; flows expire after idle_timeout.
 */
#ifndef PORTGATE_RELAY_UDP_H
#define PORTGATE_RELAY_UDP_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define RELAY_UDP_MAXFLOWS	65536	/* per service, whatever the limits */

struct dgram_dst;
struct event_base;
struct service_conf;
struct udp_flow;
struct udp_flows;

/* Called once when a flow ends (idle, error, or the table's end). */
typedef void	(*udp_flow_done_cb)(void *arg, const char *why, uint64_t in,
		    uint64_t out);

struct udp_flows	*relay_udp_table_new(void);
/* End every flow (its done callback runs), then free the table. */
void			 relay_udp_table_free(struct udp_flows *);
/* Flows in the table. */
int			 relay_udp_count(const struct udp_flows *);

/* The flow of client <from>, or NULL. */
struct udp_flow	*relay_udp_find(struct udp_flows *, const struct sockaddr *from);
/*
 * Open a flow for client <from> of service <sc>, that sent to <local>
 * (for the PROXY header), whose replies go out of <listenfd> from the
 * address of <dst> (see dgram.h).  Returns NULL (with errno) when no
 * socket can be had or the table is full.
 */
struct udp_flow	*relay_udp_open(struct udp_flows *, struct event_base *base,
		    const struct service_conf *sc, int listenfd,
		    const struct sockaddr *from, socklen_t fromlen,
		    const struct sockaddr *local, const struct dgram_dst *dst,
		    udp_flow_done_cb done, void *arg);
/* Forward one datagram from the client. */
void		 relay_udp_send(struct udp_flow *, const void *data, size_t len);
/* End a flow without calling done (the session goes first). */
void		 relay_udp_close(struct udp_flow *);
void		 relay_udp_counts(const struct udp_flow *, uint64_t *in,
		    uint64_t *out);

#endif
