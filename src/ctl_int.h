/*
 * Between the control socket (ctl.c) and its verbs (ctl_status.c,
 * ctl_sessions.c, ctl_bans.c).  Not for other modules.
 */
#ifndef PORTGATE_CTL_INT_H
#define PORTGATE_CTL_INT_H

#include <stdint.h>
#include <time.h>

struct json_object;

/*
 * A verb of request <id> with its <argc> arguments: the answer, or NULL
 * when it comes later through ctl_reply(<id>, ...).
 */
typedef struct json_object *(*ctl_verb_fn)(uint64_t id, int argc,
		    char **argv);

struct ctl_verb {
	const char	*cv_name;
	int		 cv_min;	/* arguments */
	int		 cv_max;
	ctl_verb_fn	 cv_fn;
};

/* The loop of the control socket. */
struct event_base *ctl_evbase(void);
/* Answer request <id> with <o> (taken); dropped if the client is gone. */
void	ctl_reply(uint64_t id, struct json_object *o);
/* {"ok": true}, and {"ok": false, "error": "..."}; NULL without memory. */
struct json_object *ctl_ok(void);
struct json_object *ctl_error(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Add <v> (taken, freed on failure) to object <o> as <key>; 0 or -1. */
int	ctl_add(struct json_object *o, const char *key, struct json_object *v);

/* ctl_status.c */
struct json_object *ctl_status(uint64_t, int, char **);
struct json_object *ctl_disable(uint64_t, int, char **);
struct json_object *ctl_enable(uint64_t, int, char **);
struct json_object *ctl_reload(uint64_t, int, char **);
/* ctl_sessions.c */
struct json_object *ctl_sessions(uint64_t, int, char **);
struct json_object *ctl_explain(uint64_t, int, char **);
/* Take the workers' answers (ctl_open()). */
void	ctl_sessions_init(void);
/* In a worker: drop what waits for the workers' answers. */
void	ctl_verbs_forget(void);
/* ctl_bans.c */
struct json_object *ctl_bans(uint64_t, int, char **);
struct json_object *ctl_ban(uint64_t, int, char **);
struct json_object *ctl_unban(uint64_t, int, char **);
/* Addresses on the deny list at <now>. */
int	ctl_ban_count(time_t now);

#endif
