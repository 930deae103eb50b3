/*
 * systemd readiness notification (Type=notify): READY, RELOADING,
 * STOPPING and a STATUS line, through libsystemd's sd_notify(3).  Nothing
 * is sent when NOTIFY_SOCKET is unset.
 */
#ifndef PORTGATE_SDNOTIFY_H
#define PORTGATE_SDNOTIFY_H

/*
 * Take NOTIFY_SOCKET out of the environment (spawned servers inherit it
 * otherwise and would speak for portgate); the notifications use the copy.
 */
void	sdnotify_init(void);
/* Every socket is bound: READY=1 with the counts in STATUS. */
void	sdnotify_ready(void);
/* A reload begins: RELOADING=1. */
void	sdnotify_reloading(void);
/* The reload is over: READY=1; STATUS says when it failed (<ok> zero). */
void	sdnotify_reloaded(int ok);
/* A stop begins: STOPPING=1. */
void	sdnotify_stopping(void);

#endif
