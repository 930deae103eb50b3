/*
 * Spawning local servers inetd-style: fork and exec the configured program
 * with a socket on descriptors 0, 1 and 2, under the configured identity,
 * and reap it.
 */
#ifndef PORTGATE_SPAWN_H
#define PORTGATE_SPAWN_H

#include <sys/types.h>

#include "spawn_env.h"	/* spawn_env_base(), for the configuration loader */

struct service_conf;

/* Called once when the child is reaped, with its waitpid() status. */
typedef void	(*spawn_exit_cb)(void *arg, pid_t pid, int status);

struct spawn_req {
	const struct service_conf *sq_conf;
	int			 sq_fd;		/* becomes 0, 1 and 2 */
	const char		*sq_addr;	/* REMOTE_HOST, or NULL */
	int			 sq_port;	/* REMOTE_PORT, 0: none */
	const char		*sq_country;	/* REMOTE_COUNTRY, or NULL */
	char *const		*sq_extra_env;	/* more NAME=value, or NULL */
	spawn_exit_cb		 sq_exited;
	void			*sq_arg;
};

/* Set up reaping and the -limit on running children (0: none). */
int	spawn_init(int limit);
/* Is the -limit reached?  1 or 0. */
int	spawn_full(void);
/* Children running now. */
int	spawn_running(void);
/*
 * Start the server of <rq>.  Returns the child's pid, or -1 if fork failed
 * (logged).  A failure in the child (identity, exec) is logged with its
 * errno when the child is reaped; the child then exits with status 127.
 */
pid_t	spawn_start(const struct spawn_req *rq);
/* Reap every child that exited (SIGCHLD). */
void	spawn_reap(void);
/*
 * Children this module did not start (the workers) are reaped too: their
 * status goes to <cb>.
 */
void	spawn_set_other(spawn_exit_cb cb, void *arg);
/* Send <sig> to every running child's process group. */
void	spawn_signal_all(int sig);

#endif
