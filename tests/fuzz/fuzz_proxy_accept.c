/*
 * libFuzzer target for the PROXY header reader (src/proxyproto_accept.c), the
 * state machine around the decoder: the input is written in chunks into
 * one end of a socketpair whose other end is handed to
 * proxyproto_accept_start(), and the event loop runs between chunks; after the
 * last chunk the writer shuts down.  The first input byte gives the
 * number of chunks (1 to 4, its two low bits), the next ones the lengths
 * of all chunks but the last; the rest is the stream.
 *
 * Oracle: the callback is called exactly once, with an address and no
 * error exactly when the whole stream decodes as a header
 * (proxyproto_decode), and then with the header's source (the peer's own
 * address for a header without one); the bytes after the header that were
 * written are still unread in the socket, in order.
 *
 * Built by tests/fuzz/build.sh, or with --enable-fuzzing (tests/fuzz/fuzz.am).
 * Seeds: tests/fuzz/corpus/proxy_accept/.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "proxyproto_accept.h"
#include "proxyproto.h"

#define MAX_CHUNKS	4
#define MAX_STREAM	4096
#define MAX_LOOPS	64

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What the callback saw. */
struct seen {
	int			 calls;
	int			 fd;
	int			 ok;
	struct sockaddr_storage	 client;
	socklen_t		 len;
};

static void
fuzz_cb(void *arg, int fd, const struct sockaddr *client, socklen_t len,
    const char *err)
{
	struct seen	*s = arg;

	s->calls++;
	s->fd = fd;
	/* Exactly one of an address and a reason. */
	if ((client == NULL) == (err == NULL))
		abort();
	if (client != NULL) {
		if (len == 0 || len > sizeof(s->client))
			abort();
		s->ok = 1;
		memcpy(&s->client, client, len);
		s->len = len;
	} else if (err[0] == '\0')
		abort();
}

/* Write all of <buf> to the blocking socket <fd>. */
static void
put(int fd, const uint8_t *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			abort();
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* The bytes left in <fd> must be <want> (<wlen> bytes), then nothing. */
static void
check_rest(int fd, const uint8_t *want, size_t wlen)
{
	uint8_t	buf[MAX_STREAM + 1];
	size_t	got = 0;
	ssize_t	n;

	while ((n = recv(fd, buf + got, sizeof(buf) - got, MSG_DONTWAIT)) > 0)
		got += (size_t)n;
	if (got != wlen || memcmp(buf, want, wlen) != 0)
		abort();
}

/* The client the callback reported must be what the header says. */
static void
check_client(const struct seen *s, const struct proxy_hdr *hdr,
    const struct sockaddr_in *peer)
{
	if (hdr->ph_local) {
		if (s->len != sizeof(*peer) || memcmp(&s->client, peer,
		    sizeof(*peer)) != 0)
			abort();
	} else if (s->len != hdr->ph_srclen || memcmp(&s->client,
	    &hdr->ph_src, hdr->ph_srclen) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_base	*base;
	struct sockaddr_in	 peer;
	struct proxy_hdr	 hdr;
	struct seen		 s;
	const uint8_t		*stream;
	size_t			 chunk[MAX_CHUNKS], nchunks, slen, off, i;
	ssize_t			 hlen;
	char			 err[128];
	int			 sv[2], loops;

	if (size < 1)
		return 0;
	nchunks = (size_t)(data[0] & 3) + 1;
	if (size < nchunks)
		return 0;
	stream = data + nchunks;
	slen = size - nchunks;
	if (slen > MAX_STREAM)
		return 0;
	for (i = 0, off = 0; i + 1 < nchunks; i++) {
		chunk[i] = data[1 + i];
		if (chunk[i] > slen - off)
			chunk[i] = slen - off;
		off += chunk[i];
	}
	chunk[nchunks - 1] = slen - off;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1 ||
	    (base = event_base_new()) == NULL)
		abort();
	memset(&peer, 0, sizeof(peer));
	peer.sin_family = AF_INET;
	peer.sin_port = htons(4000);
	peer.sin_addr.s_addr = htonl(0x7f000002);
	memset(&s, 0, sizeof(s));
	s.fd = -1;

	put(sv[0], stream, chunk[0]);
	off = chunk[0];
	if (proxyproto_accept_start(base, sv[1], (struct sockaddr *)&peer,
	    sizeof(peer), fuzz_cb, &s) != PROXYPROTO_ACCEPT_STARTED)
		abort();
	for (i = 1, loops = 0; s.calls == 0 && loops < MAX_LOOPS; loops++) {
		if (i < nchunks) {
			put(sv[0], stream + off, chunk[i]);
			off += chunk[i++];
		} else if (i == nchunks) {
			(void)shutdown(sv[0], SHUT_WR);
			i++;
		}
		(void)event_base_loop(base, EVLOOP_NONBLOCK);
	}
	if (s.calls != 1 || s.fd != sv[1] || proxyproto_accept_pending() != 0)
		abort();

	/* Decoded whole, the stream says whether and where a header ends. */
	hlen = proxyproto_decode(stream, slen, &hdr, err, sizeof(err));
	if (s.ok != (hlen > 0))
		abort();
	if (s.ok) {
		if ((size_t)hlen > off)
			abort();
		check_client(&s, &hdr, &peer);
		check_rest(sv[1], stream + hlen, off - (size_t)hlen);
	}
	proxyproto_accept_abort_all();
	event_base_free(base);
	(void)close(sv[0]);
	(void)close(sv[1]);
	return 0;
}
