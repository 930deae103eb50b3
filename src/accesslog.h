/*
 * Access records: the START, EXIT, FAIL and TRAFFIC lines that
 * log_on_success and log_on_failure ask for, in xinetd's format, written to
 * syslog or to a log_type FILE with soft and hard size limits.
 */
#ifndef PORTGATE_ACCESSLOG_H
#define PORTGATE_ACCESSLOG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* log_on_success fields. */
#define ALOG_PID	0x0001
#define ALOG_HOST	0x0002
#define ALOG_USERID	0x0004
#define ALOG_EXIT	0x0008
#define ALOG_DURATION	0x0010
#define ALOG_TRAFFIC	0x0020
#define ALOG_ATTEMPT	0x0040	/* log_on_failure only */
#define ALOG_COUNTRY	0x0080	/* extension: country=CC */
#define ALOG_PORT	0x0100	/* extension: port=N after from= */
#define ALOG_TLS	0x0200	/* extension: tls=PROTOCOL/CIPHER */
#define ALOG_WORKER	0x0400	/* extension: worker=N that served it */

/*
 * Parse a log_on_success (<failure> == 0) or log_on_failure list of words
 * into an ALOG_* mask.  Returns 0, or -1 with the offending word's index in
 * *<bad>.
 */
int	accesslog_parse_fields(char **words, int nwords, int failure,
	    unsigned *mask, int *bad);
/*
 * The name of one ALOG_* bit ("PID", "HOST", ...), for dumps and docs;
 * NULL unless <bit> is exactly one known field.
 */
const char *accesslog_field_name(unsigned bit);

enum logtype_kind {
	LOGTYPE_NONE = 0,	/* not set: default destination */
	LOGTYPE_SYSLOG,
	LOGTYPE_FILE
};

/* A parsed log_type value. */
struct logtype {
	enum logtype_kind	 lt_kind;
	int			 lt_facility;	/* LOG_DAEMON ... */
	int			 lt_level;	/* LOG_INFO ... */
	char			*lt_path;	/* FILE */
	uint64_t		 lt_soft;	/* 0: none */
	uint64_t		 lt_hard;	/* 0: none */
};

/*
 * Parse log_type words ("SYSLOG daemon info", "FILE /path 10K 20K").
 * Returns 0, or -1 with a message in <err>.  Frees nothing: call
 * logtype_clear() on the result.
 */
int	logtype_parse(struct logtype *lt, char **words, int nwords,
	    char *err, size_t errlen);
void	logtype_clear(struct logtype *lt);
/* Parse a syslog facility name ("daemon", "local4"); -1 if unknown. */
int	accesslog_facility(const char *name);

/*
 * A destination.  Sinks are shared: opening the same FILE path twice gives
 * the same sink with one more reference.
 */
struct accesslog;

/*
 * Open the sink for <lt> (LOGTYPE_NONE: the default sink, syslog daemon
 * info, or standard error when accesslog_set_foreground(1) was called).
 * Returns NULL with a message in <err> when a FILE cannot be opened.
 */
struct accesslog *accesslog_open(const struct logtype *lt, char *err,
	    size_t errlen);
void	accesslog_ref(struct accesslog *);
void	accesslog_unref(struct accesslog *);
void	accesslog_set_foreground(int);
/* This process is worker <n> (1..N): its records may say so. */
void	accesslog_set_worker(int n);
/* Reopen every open FILE sink (SIGHUP, after logrotate). */
void	accesslog_reopen_all(void);
/*
 * A worker writes no record itself: each goes to <fn> with the number of
 * its sink, and the master writes it (accesslog_write_id()).  Closes the
 * sinks' files in this process.
 */
typedef void	(*accesslog_forward_fn)(unsigned id, const char *line);
void	accesslog_set_forward(accesslog_forward_fn fn);
/* Write <line> (one record, no timestamp) to the sink numbered <id>. */
void	accesslog_write_id(unsigned id, const char *line);

/* What one record says; fields not asked for by the mask are ignored. */
struct access_rec {
	const char	*ar_id;		/* service id */
	pid_t		 ar_pid;	/* 0 for in-process sessions */
	const char	*ar_addr;	/* numeric client address or NULL */
	int		 ar_port;	/* client port, 0 if none */
	const char	*ar_country;	/* ISO code, "--", or NULL */
	const char	*ar_reason;	/* FAIL reason */
	int		 ar_exited;	/* 1: ar_status is an exit status */
	int		 ar_signaled;	/* 1: ar_status is a signal number */
	int		 ar_status;
	time_t		 ar_duration;	/* seconds */
	uint64_t	 ar_in;		/* bytes from the client */
	uint64_t	 ar_out;	/* bytes to the client */
	const char	*ar_tls;	/* "TLSv1.3/TLS_AES_256_GCM_SHA384" */
	const char	*ar_ident;	/* USERID: the ident reply; NOID: why */
	int		 ar_worker;	/* 1..N; 0: the master (hand-offs) */
};

enum access_kind {
	ACCESS_START,
	ACCESS_EXIT,
	ACCESS_FAIL,
	ACCESS_TRAFFIC,
	ACCESS_USERID,		/* "USERID: id OS : user", an ident reply */
	ACCESS_NOID		/* "NOID: id addr why", no ident reply */
};

/*
 * Format one record without timestamp ("START: echo pid=0 from=::1") into
 * <buf>, truncated to <len> - 1 bytes and always terminated.  Pure: used by
 * the writers below and by the unit tests.  Returns the length of the
 * formatted line (as snprintf).
 */
int	accesslog_format(char *buf, size_t len, enum access_kind kind,
	    unsigned mask, const struct access_rec *rec);

/*
 * Write a record to <al> if <mask> asks for it, following xinetd's rules:
 * START if any success field is set; EXIT only with EXIT or DURATION; FAIL
 * with any failure field; TRAFFIC with ALOG_TRAFFIC.
 */
void	accesslog_start(struct accesslog *al, unsigned mask,
	    const struct access_rec *rec);
void	accesslog_exit(struct accesslog *al, unsigned mask,
	    const struct access_rec *rec);
void	accesslog_fail(struct accesslog *al, unsigned mask,
	    const struct access_rec *rec);
/* Write a USERID record (an ident reply) or a NOID record (none). */
void	accesslog_ident(struct accesslog *al, enum access_kind kind,
	    const struct access_rec *rec);

#endif
