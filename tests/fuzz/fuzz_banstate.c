/*
 * libFuzzer target for the ban list's text form (banstate.c): the state
 * file and the Redis messages.  The input is a file; each of its lines
 * goes through banstate_parse(), and the whole file through
 * banstate_load().
 *
 * The oracle is a plain reading of banstate.h: a line longer than 128
 * bytes or holding a NUL is malformed; a blank line or one whose first
 * non-blank byte is '#' is nothing; else it must be exactly two words
 * separated by spaces or tabs, a numeric address that inet_pton(3) takes
 * as IPv4 (then the key is IPv4-mapped) or IPv6, and 1 to 12 decimal
 * digits no greater than BANSTATE_EXPIRY_MAX.  What the parser accepts it
 * must give back as the reference read it, banstate_format() must write
 * a line that parses to the same ban, and banstate_load() must put on the
 * deny list exactly the accepted bans not yet expired.
 */
#include <sys/types.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "banstate.h"
#include "log.h"
#include "quota.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FZ_MAXINPUT	8192

/* The reference: 1, 0 or -1 as banstate_parse() must answer. */
static int
ref_parse(const char *line, size_t len, struct srckey *key, time_t *until)
{
	char		 w[2][BANSTATE_LINE_MAX + 1];
	struct in_addr	 in;
	size_t		 i = 0, n, wl;
	long long	 v = 0;

	if (len > BANSTATE_LINE_MAX || memchr(line, '\0', len) != NULL)
		return -1;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] == '#')
		return 0;
	for (n = 0; i < len; n++) {
		if (n == 2)
			return -1;
		for (wl = 0; i < len && line[i] != ' ' && line[i] != '\t';
		    i++)
			w[n][wl++] = line[i];
		w[n][wl] = '\0';
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
	}
	if (n != 2)
		return -1;
	memset(key, 0, sizeof(*key));
	if (inet_pton(AF_INET, w[0], &in) == 1) {
		key->sk_addr[10] = key->sk_addr[11] = 0xff;
		memcpy(&key->sk_addr[12], &in, 4);
	} else if (inet_pton(AF_INET6, w[0], key->sk_addr) != 1)
		return -1;
	wl = strlen(w[1]);
	if (wl < 1 || wl > 12 || strspn(w[1], "0123456789") != wl)
		return -1;
	for (i = 0; i < wl; i++)
		v = v * 10 + (w[1][i] - '0');
	if (v > BANSTATE_EXPIRY_MAX)
		return -1;
	*until = (time_t)v;
	return 1;
}

/* Check one line; returns 1 when it is a ban alive at <now>. */
static int
check_line(const char *line, size_t len, time_t now)
{
	struct srckey	 k, rk, k2;
	time_t		 u = 0, ru = 0, u2 = 0;
	const char	*why;
	char		 out[BANSTATE_LINE_MAX + 1];
	int		 rc, ref, n;

	rc = banstate_parse(line, len, &k, &u, &why);
	ref = ref_parse(line, len, &rk, &ru);
	if (rc != ref)
		abort();
	if (rc == -1 && why == NULL)
		abort();
	if (rc != 1)
		return 0;
	if (memcmp(&k, &rk, sizeof(k)) != 0 || u != ru)
		abort();
	if ((n = banstate_format(&k, u, out, sizeof(out))) <= 0 ||
	    out[n - 1] != '\n' ||
	    banstate_parse(out, (size_t)n - 1, &k2, &u2, &why) != 1 ||
	    memcmp(&k, &k2, sizeof(k)) != 0 || u != u2)
		abort();
	return u == 0 || u > now;
}

static int
count_cb(const struct srckey *key, time_t until, void *arg)
{
	(void)key;
	(void)until;
	(*(int *)arg)++;
	return 0;
}

/* tmpfs where there is one: rewriting a file on ext4 waits for the disk. */
static char	fz_shm[] = "/dev/shm/fuzz_banstate.XXXXXX";
static char	fz_tmp[] = "/tmp/fuzz_banstate.XXXXXX";
static char	*fz_path;

static void
fz_cleanup(void)
{
	if (fz_path != NULL)
		(void)unlink(fz_path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end, *nl;
	time_t		 now = time(NULL);
	int		 alive = 0, loaded, walked = 0, fd;
	FILE		*fp;

	if (fz_path == NULL) {
		if ((fd = mkstemp(fz_shm)) != -1)
			fz_path = fz_shm;
		else if ((fd = mkstemp(fz_tmp)) != -1)
			fz_path = fz_tmp;
		else
			abort();
		(void)close(fd);
		(void)atexit(fz_cleanup);
		/* The load's findings are no news here. */
		if (log_init(1, 0, "/dev/null") == -1)
			abort();
	}
	if (size > FZ_MAXINPUT)
		return 0;
	for (end = p + size; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		alive += check_line(p, (size_t)(nl - p), now);
	}
	/* A new file each time: no truncation to wait for. */
	(void)unlink(fz_path);
	if ((fp = fopen(fz_path, "w")) == NULL ||
	    fwrite(data, 1, size, fp) != size || fclose(fp) != 0)
		abort();
	if (alive > 0)
		quota_deny_clear();
	loaded = banstate_load(fz_path, now);
	/* Each accepted line alive is one quota_deny_until() that held. */
	if (loaded != alive)
		abort();
	/* The walk copies the whole list: only when there is something. */
	if (alive > 0 && (quota_deny_walk(now, count_cb, &walked) < 0 ||
	    walked > alive))
		abort();
	return 0;
}
