/*
 * One end of the channel between the master and a worker, in the event
 * loop: privsep_msg.c's messages go out without ever blocking (a message
 * the socket cannot take waits in a bounded queue) and come in one by one
 * to a callback.  Both sides use it; neither can stall the other.
 */
#ifndef PORTGATE_PRIVSEP_CHAN_H
#define PORTGATE_PRIVSEP_CHAN_H

#include "privsep_msg.h"

#define CHAN_QUEUE_MAX	4096	/* messages waiting for the socket */

struct chan;
struct event_base;

/*
 * A message arrived; the callback owns m->pm_fd (or -1).  The callback
 * may free the channel (chan_free()).
 */
typedef void	(*chan_msg_cb)(struct chan *, struct privsep_msg *m, void *arg);
/* The other side closed the channel, or it failed: free it. */
typedef void	(*chan_eof_cb)(struct chan *, void *arg);

/*
 * Watch <fd> (a SOCK_SEQPACKET socket, made non-blocking here, owned by
 * the channel from now on) for messages of the types in <allowed>.
 * Returns NULL without memory or events (errno set).
 */
struct chan	*chan_new(struct event_base *base, int fd, unsigned allowed,
		    chan_msg_cb msg, chan_eof_cb eof, void *arg);
/* Close the socket, drop what waits (closing its descriptors), free. */
void		 chan_free(struct chan *);
/*
 * Send <m> (its descriptor is passed, not taken: the caller still closes
 * its own).  Returns 0 when sent or queued; -1 when the queue is full or
 * the message is invalid (logged once per cause), nothing sent.
 */
int		 chan_send(struct chan *, const struct privsep_msg *m);
/* Messages waiting in the queue. */
int		 chan_queued(const struct chan *);
/*
 * Send what waits, blocking, for at most <msecs> (a worker's last words
 * before it exits).
 */
void		 chan_flush(struct chan *, int msecs);
/*
 * Hand on every message waiting (the other side is dead: what it sent
 * before it died still counts).  The callbacks may free the channel.
 */
void		 chan_read_all(struct chan *);
/* Messages refused as invalid since the channel opened. */
unsigned long	 chan_refused(const struct chan *);

#endif
