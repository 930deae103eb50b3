/*
 * The HTTP side of the metrics built-in: one HTTP/1.1 request, answered
 * with the exposition text of metrics.c and closed.
 */
#ifndef PORTGATE_METRICS_HTTP_H
#define PORTGATE_METRICS_HTTP_H

struct evbuffer;

/* The most a request line and its headers may take. */
#define METRICS_HTTP_MAX	8192
/* Seconds a client has to send its request and read the answer. */
#define METRICS_HTTP_TIMEOUT	10

/*
 * Answer the request in <in>, if whole, into <out>: 200 with the metrics
 * for "GET /metrics", 404 for another path, 405 for another method, 400
 * for a malformed request, 431 for headers longer than METRICS_HTTP_MAX.
 * Returns 1 once an answer is queued (the connection is then closed once
 * it has left), 0 while the headers are not all in, -1 when <out> could
 * not grow.
 */
int	metrics_http_answer(struct evbuffer *in, struct evbuffer *out);

#endif
