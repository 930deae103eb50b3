/*
 * libFuzzer target for ident (RFC 1413) replies: ident_parse() and the
 * USERID record the reply ends up in.  The first input byte chooses the
 * ports of the query (bit 0: the ports the line itself names, else 113
 * and 80; bits 1 and 2: one more than that for the client's or our port,
 * so that a reply about other ports is refused); the rest, up to the
 * first NUL or CR LF, is the reply line as ident.c reads it.
 *
 * Oracles: a reference reading of "rport , lport : USERID : OS : user"
 * (blanks around each part, ports in decimal, "USERID" in capitals) must
 * find the same text after "USERID :" (a pointer into the line, not empty,
 * not starting with a blank), or refuse the same lines; and the record
 * written to a log_type FILE for an accepted reply must be one line,
 * "TIMESTAMP: USERID: fz REPLY" cut to xinetd's 1023 bytes, with every
 * control character of the reply shown as '?'.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accesslog.h"
#include "ident.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FZ_RECMAX	1023		/* accesslog.c's record, without NUL */
#define FZ_PREFIX	"USERID: fz "

static char		 fz_dir[] = "/tmp/fuzz_ident.XXXXXX";
static char		 fz_path[sizeof(fz_dir) + 16];
static struct accesslog	*fz_log;

/* Remove the scratch files when the fuzzer exits. */
static void
fz_cleanup(void)
{
	accesslog_unref(fz_log);
	(void)unlink(fz_path);
	(void)rmdir(fz_dir);
}

/* Make the scratch directory and open the log file once. */
static void
fz_init(void)
{
	struct logtype	 lt;
	char		 err[256];

	if (fz_log != NULL)
		return;
	if (mkdtemp(fz_dir) == NULL)
		abort();
	(void)snprintf(fz_path, sizeof(fz_path), "%s/access.log", fz_dir);
	memset(&lt, 0, sizeof(lt));
	lt.lt_kind = LOGTYPE_FILE;
	lt.lt_path = fz_path;
	if ((fz_log = accesslog_open(&lt, err, sizeof(err))) == NULL)
		abort();
	(void)atexit(fz_cleanup);
}

/* Skip blanks as RFC 1413 allows them around each part. */
static const char *
ref_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return (p);
}

/* A decimal port at <p> (after blanks) into *<port>, 65536 if larger. */
static const char *
ref_port(const char *p, long *port)
{
	p = ref_blanks(p);
	if (*p < '0' || *p > '9')
		return (NULL);
	for (*port = 0; *p >= '0' && *p <= '9'; p++)
		if ((*port = *port * 10 + (*p - '0')) > 65535)
			*port = 65536;
	return (ref_blanks(p));
}

/*
 * The ports a reply names (*<rp>, *<lp>, -1 if it names none) and the
 * offset of the text after "USERID :", or -1.
 */
static long
ref_parse(const char *line, long *rp, long *lp)
{
	const char	*p;

	*rp = *lp = -1;
	if ((p = ref_port(line, rp)) == NULL || *p != ',' ||
	    (p = ref_port(p + 1, lp)) == NULL || *p != ':') {
		*rp = *lp = -1;
		return (-1);
	}
	p = ref_blanks(p + 1);
	if (strncmp(p, "USERID", 6) != 0)
		return (-1);
	p = ref_blanks(p + 6);
	if (*p != ':')
		return (-1);
	p = ref_blanks(p + 1);
	return (*p == '\0' ? -1 : (long)(p - line));
}

/* Check the record the log file holds for <reply>. */
static void
fz_check_record(const char *reply)
{
	char	 want[FZ_RECMAX + 1], got[FZ_RECMAX + 256], *p, *rec;
	size_t	 n, i;
	FILE	*fp;

	n = (size_t)snprintf(want, sizeof(want), FZ_PREFIX "%s", reply);
	if (n > FZ_RECMAX)
		n = FZ_RECMAX;
	for (i = 0; i < n; i++)
		if ((unsigned char)want[i] < 0x20 ||
		    (unsigned char)want[i] == 0x7f)
			want[i] = '?';
	if ((fp = fopen(fz_path, "r")) == NULL)
		abort();
	n = fread(got, 1, sizeof(got) - 1, fp);
	if (ferror(fp) || fclose(fp) == EOF)
		abort();
	got[n] = '\0';
	/* One line: "TIMESTAMP: record\n", the time stamp made of digits. */
	if (n == 0 || got[n - 1] != '\n' || strchr(got, '\n') != got + n - 1)
		abort();
	got[n - 1] = '\0';
	if ((rec = strstr(got, ": " FZ_PREFIX)) == NULL)
		abort();
	for (p = got; p < rec; p++)
		if (strchr("0123456789/@:", *p) == NULL)
			abort();
	if (strcmp(rec + 2, want) != 0)
		abort();
	if (truncate(fz_path, 0) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct access_rec	 rec;
	const char		*reply;
	char			*line, *eol;
	long			 named_r, named_l, rp = 113, lp = 80, off;

	if (size < 1 || size > IDENT_LINEMAX + 1)
		return (0);
	fz_init();
	/* Exactly the line, so that a read past its NUL is caught. */
	if ((line = malloc(size)) == NULL)
		return (0);
	memcpy(line, data + 1, size - 1);
	line[size - 1] = '\0';
	if ((eol = strstr(line, "\r\n")) != NULL)
		*eol = '\0';
	off = ref_parse(line, &named_r, &named_l);
	if ((data[0] & 1) && named_r >= 0 && named_r <= 65535 &&
	    named_l <= 65535) {
		rp = named_r;
		lp = named_l;
	}
	rp = (rp + ((data[0] >> 1) & 1)) % 65536;
	lp = (lp + ((data[0] >> 2) & 1)) % 65536;
	if (named_r != rp || named_l != lp)
		off = -1;
	reply = ident_parse(line, (int)rp, (int)lp);
	if (off < 0) {
		if (reply != NULL)
			abort();
		free(line);
		return (0);
	}
	if (reply != line + off || *reply == '\0' || *reply == ' ' ||
	    *reply == '\t')
		abort();
	memset(&rec, 0, sizeof(rec));
	rec.ar_id = "fz";
	rec.ar_ident = reply;
	accesslog_ident(fz_log, ACCESS_USERID, &rec);
	fz_check_record(reply);
	free(line);
	return (0);
}
