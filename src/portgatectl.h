/*
 * portgatectl's two files: the question (portgatectl.c) and the answer as
 * text (portgatectl_text.c).
 */
#ifndef PORTGATE_PORTGATECTL_H
#define PORTGATE_PORTGATECTL_H

struct json_object;

/* Print the answer <ans> to <verb> as text; the exit status. */
int	pgctl_print(const char *verb, struct json_object *ans);
/* explain's exit status: 0 admitted, 1 refused. */
int	pgctl_explain_rc(struct json_object *ans);
/* reload's exit status: 1 when services could not start. */
int	pgctl_reload_rc(struct json_object *ans);

#endif
