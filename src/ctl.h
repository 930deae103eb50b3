/*
 * The control socket that portgatectl(8) talks to (ctl.c): the master's,
 * set up once at start.
 */
#ifndef PORTGATE_CTL_H
#define PORTGATE_CTL_H

struct event_base;

/*
 * Listen on <path> (NULL or "none": no control socket).  Returns 0, or -1
 * after logging why (the daemon runs on without one).
 */
int	ctl_open(struct event_base *base, const char *path);
/* Stop: drop the clients, close the socket and remove it if it is ours. */
void	ctl_close(void);
/* In a new worker: close what the master had, remove nothing. */
void	ctl_forget(void);

#endif
