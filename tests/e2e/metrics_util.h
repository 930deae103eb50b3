/*
 * What the end-to-end tests of the metrics share: a scrape of the metrics
 * service, a line of its text, its value, and Debian's promtool on it.
 */
#ifndef PORTGATE_E2E_METRICS_UTIL_H
#define PORTGATE_E2E_METRICS_UTIL_H

struct pg_ctx;

#define MU_PROMTOOL	"/usr/bin/promtool"
#define MU_GET		"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n"

/*
 * Send <req> to 127.0.0.1 <port> and read the answer to EOF into a
 * malloc'd string (the caller frees it); fail unless the status line is
 * <status> and Content-Length matches the body.  <body> gets the body.
 */
char	*mu_ask(int port, const char *req, const char *status,
	    const char **body);
/* <body> has the line <line> (without its newline), or fail. */
void	 mu_has_line(const char *body, const char *line);
/* <body> has no line starting with <start>, or fail. */
void	 mu_no_line(const char *body, const char *start);
/*
 * Run promtool check metrics on <text> (written into <c>'s directory);
 * its exit code, or fail the test when it cannot run or does not finish.
 */
int	 mu_promtool(struct pg_ctx *c, const char *text);

#endif
