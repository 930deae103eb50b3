/*
 * The ban list as text, and the state file; see banstate.h.  The file is
 * the master's (root's, in a root-owned directory): it is opened without
 * following a symbolic link, and replaced by rename(2) so that a crash
 * leaves the old list or the new one, never half of one.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banstate.h"
#include "log.h"

#define BANSTATE_HEADER	"# portgate bans: ADDRESS EXPIRY (seconds since " \
			    "the epoch, 0: forever)\n"

const char *
banstate_addr(const struct srckey *key, char *buf, size_t len)
{
	static const uint8_t	mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (memcmp(key->sk_addr, mapped, sizeof(mapped)) == 0) {
		if (inet_ntop(AF_INET, &key->sk_addr[12], buf,
		    (socklen_t)len) == NULL)
			(void)snprintf(buf, len, "?");
	} else if (inet_ntop(AF_INET6, key->sk_addr, buf,
	    (socklen_t)len) == NULL)
		(void)snprintf(buf, len, "?");
	return buf;
}

int
banstate_addr_parse(const char *s, struct srckey *key)
{
	struct in_addr	in;

	memset(key, 0, sizeof(*key));
	if (inet_pton(AF_INET, s, &in) == 1) {
		key->sk_addr[10] = key->sk_addr[11] = 0xff;
		memcpy(&key->sk_addr[12], &in, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, key->sk_addr) == 1)
		return 0;
	return -1;
}

/* Is <c> a separator of words? */
static int
banstate_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Decimal <s> of <n> digits into <v>, at most BANSTATE_EXPIRY_MAX. */
static int
banstate_expiry(const char *s, size_t n, time_t *v)
{
	long long	x = 0;
	size_t		i;

	if (n == 0 || n > 12)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	if (x > BANSTATE_EXPIRY_MAX)
		return -1;
	*v = (time_t)x;
	return 0;
}

int
banstate_parse(const char *line, size_t len, struct srckey *key,
    time_t *until, const char **why)
{
	char	addr[BANSTATE_ADDR_MAX];
	size_t	i = 0, a, alen, e, elen;

	*why = NULL;
	if (len > BANSTATE_LINE_MAX) {
		*why = "a line longer than 128 bytes";
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		*why = "a NUL byte";
		return -1;
	}
	while (i < len && banstate_blank(line[i]))
		i++;
	if (i == len || line[i] == '#')
		return 0;
	for (a = i; i < len && !banstate_blank(line[i]); i++)
		;
	alen = i - a;
	while (i < len && banstate_blank(line[i]))
		i++;
	for (e = i; i < len && !banstate_blank(line[i]); i++)
		;
	elen = i - e;
	while (i < len && banstate_blank(line[i]))
		i++;
	if (i != len || elen == 0) {
		*why = "expected ADDRESS EXPIRY (two words)";
		return -1;
	}
	if (alen >= sizeof(addr)) {
		*why = "expected a numeric IPv4 or IPv6 address";
		return -1;
	}
	memcpy(addr, line + a, alen);
	addr[alen] = '\0';
	if (banstate_addr_parse(addr, key) == -1) {
		*why = "expected a numeric IPv4 or IPv6 address";
		return -1;
	}
	if (banstate_expiry(line + e, elen, until) == -1) {
		*why = "expected an expiry in seconds since the epoch "
		    "(0: forever)";
		return -1;
	}
	return 1;
}

int
banstate_format(const struct srckey *key, time_t until, char *buf,
    size_t len)
{
	char	addr[BANSTATE_ADDR_MAX];
	int	n;

	n = snprintf(buf, len, "%s %lld\n", banstate_addr(key, addr,
	    sizeof(addr)), (long long)until);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

/* Apply line <lineno> of <path>; counts what it did. */
static void
banstate_line(const char *path, int lineno, const char *line, size_t len,
    time_t now, int *loaded, int *errors)
{
	struct srckey	 key;
	time_t		 until;
	const char	*why;

	switch (banstate_parse(line, len, &key, &until, &why)) {
	case 1:
		if (until != 0 && until <= now)
			break;
		if (quota_deny_until(&key, until) == 0)
			(*loaded)++;
		break;
	case -1:
		if (++(*errors) <= BANSTATE_ERRORS_MAX)
			log_warnx("%s:%d: %s; line ignored", path, lineno,
			    why);
		break;
	}
}

/*
 * The next line of <fp> into <buf> (BANSTATE_LINE_MAX + 2 bytes), without
 * its newline, NUL bytes and all: its length, BANSTATE_LINE_MAX + 1 for a
 * longer line (the rest is skipped), -1 at the end.
 */
static ssize_t
banstate_getline(FILE *fp, char *buf, size_t cap)
{
	size_t	n = 0;
	int	c;

	while ((c = getc(fp)) != EOF && c != '\n')
		if (n < cap - 1)
			buf[n++] = (char)c;
	if (c == EOF && n == 0)
		return -1;
	buf[n] = '\0';
	return n > BANSTATE_LINE_MAX ? BANSTATE_LINE_MAX + 1 : (ssize_t)n;
}

int
banstate_load(const char *path, time_t now)
{
	FILE	*fp;
	char	 line[BANSTATE_LINE_MAX + 2];
	ssize_t	 n;
	int	 fd, lineno = 0, loaded = 0, errors = 0;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT) {
			log_info("ban state file %s: none yet, no ban kept",
			    path);
			return 0;
		}
		log_warn("ban state file %s: cannot read it, no ban kept",
		    path);
		return -1;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		log_warn("ban state file %s", path);
		(void)close(fd);
		return -1;
	}
	/* Twice the list's size in lines is more than a save ever writes. */
	while (lineno < 2 * QUOTA_MAX_DENIED &&
	    (n = banstate_getline(fp, line, sizeof(line))) != -1) {
		lineno++;
		banstate_line(path, lineno, line, (size_t)n, now, &loaded,
		    &errors);
	}
	if (ferror(fp))
		log_warn("ban state file %s: read error after line %d", path,
		    lineno);
	else if (lineno == 2 * QUOTA_MAX_DENIED &&
	    banstate_getline(fp, line, sizeof(line)) != -1)
		log_warnx("%s:%d: more lines than a ban list holds; the rest "
		    "is ignored", path, lineno + 1);
	if (errors > BANSTATE_ERRORS_MAX)
		log_warnx("ban state file %s: %d malformed lines in all",
		    path, errors);
	(void)fclose(fp);
	return loaded;
}

/* quota_deny_walk() callback: one line to the FILE <arg>. */
static int
banstate_write_cb(const struct srckey *key, time_t until, void *arg)
{
	char	buf[BANSTATE_LINE_MAX];

	if (banstate_format(key, until, buf, sizeof(buf)) == -1)
		return 0;
	return fputs(buf, arg) == EOF;
}

/* The directory of <path> into <dir>; 0, or -1 (ENAMETOOLONG). */
static int
banstate_dir(const char *path, char *dir, size_t len)
{
	char	*slash;

	if (strlcpy(dir, path, len) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		(void)strlcpy(dir, ".", len);
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	return 0;
}

/* fsync the directory <dir>, so that a rename in it is on disk. */
static int
banstate_sync_dir(const char *dir)
{
	int	fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	(void)close(fd);
	return rc;
}

int
banstate_save(const char *path, time_t now)
{
	char	 dir[PATH_MAX], tmp[PATH_MAX];
	FILE	*fp;
	int	 fd, saved;

	if (banstate_dir(path, dir, sizeof(dir)) == -1)
		return -1;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return -1;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return -1;
	if ((fp = fdopen(fd, "w")) == NULL) {
		saved = errno;
		(void)close(fd);
		goto fail;
	}
	if (fputs(BANSTATE_HEADER, fp) == EOF ||
	    quota_deny_walk(now, banstate_write_cb, fp) == -1 ||
	    fflush(fp) == EOF || ferror(fp) || fsync(fileno(fp)) == -1) {
		saved = errno != 0 ? errno : EIO;
		(void)fclose(fp);
		goto fail;
	}
	if (fclose(fp) == EOF) {
		saved = errno;
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		saved = errno;
		goto fail;
	}
	(void)banstate_sync_dir(dir);
	return 0;
fail:
	(void)unlink(tmp);
	errno = saved;
	return -1;
}
