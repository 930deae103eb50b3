/*
 * A worker process: everything that touches a client's bytes, confined
 * (sandbox.c), with the master at the other end of one channel.  It asks
 * the master to spawn servers and hands it every log line.
 */
#ifndef PORTGATE_WORKER_H
#define PORTGATE_WORKER_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>

struct config;
struct event_base;
struct service_conf;

enum worker_spawn_event {
	WORKER_SPAWNED,		/* the master started it: pid */
	WORKER_SPAWN_FAILED,	/* it did not: why (a FAIL reason) */
	WORKER_EXITED		/* it was reaped: pid, waitpid() status */
};

typedef void	(*worker_spawn_cb)(void *arg, enum worker_spawn_event ev,
		    pid_t pid, int status, const char *why);

/* A request to spawn the server of a session. */
struct worker_spawn {
	const struct config	*ws_cf;		/* holds ws_conf */
	const struct service_conf *ws_conf;
	int			 ws_fd;		/* the server's socket */
	struct sockaddr_storage	 ws_peer;
	struct sockaddr_storage	 ws_local;
	const char		*ws_country;	/* "" or NULL: none */
	int			 ws_tls;
	const char		*ws_subject;	/* verified: its names */
	const char		*ws_issuer;
	worker_spawn_cb		 ws_cb;		/* until WORKER_EXITED */
	void			*ws_arg;
};

/* Is this process a worker?  1 or 0. */
int	worker_active(void);
/*
 * Ask the master to spawn; <ws->ws_fd> stays the caller's to close.  The
 * callback is called later: SPAWNED then EXITED, or SPAWN_FAILED.
 * Returns 0, or -1 when the request could not be sent (nothing called).
 */
int	worker_spawn(const struct worker_spawn *ws);
/* Who a new worker is. */
struct worker_args {
	int		 wa_chanfd;	/* its end of the channel */
	int		 wa_row;	/* of the shared counters */
	uint32_t	 wa_gen;	/* the generation of its config */
	int		 wa_index;	/* its socket of each reuseport group */
	pid_t		 wa_master;	/* it dies with the master */
	const char	*wa_root;	/* its chroot (the master's copies) */
};

/*
 * The worker's life, in the child the master just forked: confine it,
 * serve the clients of <cf>'s services on <base> (which holds the
 * master's events, re-made for this process), talk to the master.  Never
 * returns.
 */
void	worker_main(struct event_base *base, struct config *cf,
	    const struct worker_args *wa) __attribute__((noreturn));

#endif
