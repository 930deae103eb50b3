/*
 * The metrics built-in speaks just enough HTTP/1.1 for a Prometheus
 * scraper: it waits for the end of the headers (at most
 * METRICS_HTTP_MAX bytes; builtin.c holds the deadline), looks at the
 * request line only, answers once with Content-Length and
 * Connection: close, and ends the session.  A body is never read.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "build-config.h"

#include "metrics.h"
#include "metrics_http.h"

#define METRICS_CTYPE	"text/plain; version=0.0.4; charset=utf-8"

/* Queue a reply <code> <reason> with body <body> (NULL: a short text). */
static int
metrics_http_reply(struct evbuffer *out, int code, const char *reason,
    struct evbuffer *body, const char *extra)
{
	char	text[64];
	size_t	len;

	if (body == NULL)
		(void)snprintf(text, sizeof(text), "%d %s\n", code, reason);
	len = body != NULL ? evbuffer_get_length(body) : strlen(text);
	if (evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%s"
	    "Connection: close\r\n\r\n", code, reason,
	    body != NULL ? METRICS_CTYPE : "text/plain; charset=utf-8", len,
	    extra != NULL ? extra : "") < 0)
		return -1;
	if (body != NULL)
		return evbuffer_add_buffer(out, body);
	return evbuffer_add(out, text, len);
}

/* Answer request line <line> of <len> bytes (no line end). */
static int
metrics_http_line(struct evbuffer *out, const char *line, size_t len)
{
	const char	*sp1, *sp2, *end = line + len;
	size_t		 plen;
	struct evbuffer	*body;
	int		 rv;

	if ((sp1 = memchr(line, ' ', len)) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1))) == NULL ||
	    (size_t)(end - sp2 - 1) != 8 ||
	    strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp1 == line ||
	    sp1[1] != '/')
		return metrics_http_reply(out, 400, "Bad Request", NULL, NULL);
	if ((size_t)(sp1 - line) != 3 || strncmp(line, "GET", 3) != 0)
		return metrics_http_reply(out, 405, "Method Not Allowed", NULL,
		    "Allow: GET\r\n");
	/* The path, without a query. */
	plen = (size_t)(sp2 - sp1 - 1);
	if (memchr(sp1 + 1, '?', plen) != NULL)
		plen = (size_t)((const char *)memchr(sp1 + 1, '?', plen) -
		    (sp1 + 1));
	if (plen != 8 || strncmp(sp1 + 1, "/metrics", 8) != 0)
		return metrics_http_reply(out, 404, "Not Found", NULL, NULL);
	if ((body = evbuffer_new()) == NULL)
		return -1;
	rv = metrics_format(body, PACKAGE_VERSION);
	if (rv == 0)
		rv = metrics_http_reply(out, 200, "OK", body, NULL);
	evbuffer_free(body);
	return rv;
}

int
metrics_http_answer(struct evbuffer *in, struct evbuffer *out)
{
	size_t		 len = evbuffer_get_length(in), look, eol;
	const char	*p, *hend;

	look = len < METRICS_HTTP_MAX ? len : METRICS_HTTP_MAX;
	if ((p = (const char *)evbuffer_pullup(in, (ssize_t)look)) == NULL &&
	    look > 0)
		return -1;
	/* A bare LF ends lines too (RFC 9112 2.2). */
	hend = memmem(p, look, "\r\n\r\n", 4);
	if (hend == NULL)
		hend = memmem(p, look, "\n\n", 2);
	if (hend == NULL) {
		if (len < METRICS_HTTP_MAX)
			return 0;
		if (metrics_http_reply(out, 431,
		    "Request Header Fields Too Large", NULL, NULL) == -1)
			return -1;
		return 1;
	}
	eol = (size_t)((const char *)memchr(p, '\n', look) - p);
	if (eol > 0 && p[eol - 1] == '\r')
		eol--;
	if (metrics_http_line(out, p, eol) == -1)
		return -1;
	return 1;
}
