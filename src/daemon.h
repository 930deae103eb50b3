/*
 * The daemon's life: detaching, the pid file, and the signal events that
 * reload (SIGHUP), stop (SIGTERM, SIGINT) and dump state (SIGUSR1).
 */
#ifndef PORTGATE_DAEMON_H
#define PORTGATE_DAEMON_H

struct config;
struct event_base;

/*
 * Fork into the background.  Returns in the child; the parent copies the
 * child's error messages to its standard error until daemon_ready(), and
 * exits with the status given there, or 1 if the child died first (so
 * that an init system, and the admin, see a failure to start and why).
 * Returns -1 if fork fails.
 */
int	daemon_detach(void);
/* Tell the waiting parent (if any) how start-up went; detach stdio. */
void	daemon_ready(int status);
/* Write the pid file (xinetd: unlink, O_EXCL, mode 0644); 0 or -1. */
int	daemon_pidfile_write(const char *path);
void	daemon_pidfile_remove(void);
/*
 * Wire the modules together on <base>: the services call the admission
 * through hooks, the admission makes sessions (start-up; fatal() on
 * failure).
 */
void	daemon_wire(struct event_base *base);
/*
 * Install the signal events on <base>; <cf> is the running configuration
 * (the daemon takes the reference), read from <path> on reload.
 */
int	daemon_signals(struct event_base *base, const char *path,
	    struct config *cf);
/*
 * In a new worker: drop the signal events, the start-up pipe and the pid
 * file that are the master's.
 */
void	daemon_forget(void);
/* What a reload asked for by portgatectl came to. */
struct reload_outcome {
	int		 ro_ok;		/* applied */
	int		 ro_services;	/* running now */
	int		 ro_added;
	int		 ro_kept;
	int		 ro_removed;
	int		 ro_failed;	/* could not start */
	char		**ro_msgs;	/* "file:line: error: ..." */
	int		 ro_nmsgs;
};
/*
 * Reload as SIGHUP does and call <cb> with the outcome once it is known:
 * at once when the configuration is refused, once the workers of the
 * previous generation accept no more when it is applied.  -1 when a
 * reload for portgatectl is under way or the daemon is stopping.
 */
int	daemon_reload_request(void (*cb)(void *, const struct reload_outcome *),
	    void *arg);
/* The configuration file the daemon reads. */
const char *daemon_config_path(void);
/* Stop everything after the loop ended; releases the configuration. */
void	daemon_cleanup(void);

#endif
