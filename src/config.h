/*
 * The configuration: everything read from the files, checked and turned
 * into typed values.  A struct config is immutable once built and is
 * shared by reference counting; a reload builds a new one and swaps it in
 * only if it is valid.
 */
#ifndef PORTGATE_CONFIG_H
#define PORTGATE_CONFIG_H

#define CONF_WORKERS_MAX	32	/* worker processes of a generation */
#define CONF_CPU_MAX		1023	/* highest CPU number of worker_cpus */
#define CONF_STR_(x)		#x
#define CONF_STR(x)		CONF_STR_(x)

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <stdint.h>

#include "accesslog.h"
#include "banner.h"
#include "builtin.h"
#include "conf_diag.h"
#include "conf_value.h"

/* type = ... */
#define STYPE_RPC		0x01
#define STYPE_INTERNAL		0x02
#define STYPE_UNLISTED		0x04
#define STYPE_TCPMUX		0x08
#define STYPE_TCPMUXPLUS	0x10
#define STYPE_SPECIAL		0x20

/* flags = ... */
#define SFLAG_REUSE		0x0001
#define SFLAG_INTERCEPT		0x0002
#define SFLAG_NORETRY		0x0004
#define SFLAG_IDONLY		0x0008
#define SFLAG_NAMEINARGS	0x0010
#define SFLAG_NODELAY		0x0020
#define SFLAG_KEEPALIVE		0x0040
#define SFLAG_NOLIBWRAP		0x0080
#define SFLAG_SENSOR		0x0100
#define SFLAG_IPV4		0x0200
#define SFLAG_IPV6		0x0400
#define SFLAG_LABELED		0x0800

/* Longest libwrap daemon name + 1: libwrap's own buffer (tcpd.h). */
#define SC_LIBWRAP_MAX		128

#define LIMIT_UNLIMITED		(-1)
#define DENY_FOREVER		(-1)

/* The rlimit_* attributes, in this order. */
enum conf_rlimit {
	CRL_AS,
	CRL_CPU,
	CRL_DATA,
	CRL_RSS,
	CRL_STACK,
	CRL_FILES,
	CRL_COUNT
};

/* One redirect target, resolved when the configuration is loaded. */
struct redirect_target {
	char			*rt_host;
	char			*rt_port;
	struct sockaddr_storage	 rt_addr;
	socklen_t		 rt_addrlen;
};

enum proxy_proto {
	PROXY_NONE = 0,
	PROXY_V1,
	PROXY_V2
};

struct addrlist;
struct geoip;
struct timewin;
struct tls_ctx;

/*
 * The ban list's state file and its sharing through Redis: set in
 * defaults only, read by the master at start (bans.c).
 */
struct bans_conf {
	char		*bc_state_file;	/* NULL: the built-in default; "none" */
	char		*bc_redis;	/* HOST:PORT or /PATH; NULL: none */
	char		*bc_redis_password_file;
	char		*bc_redis_prefix;	/* NULL: "portgate" */
};

/* One configured service, defaults merged in. */
struct service_conf {
	char			*sc_name;	/* service NAME */
	char			*sc_id;		/* id, default the name */
	const char		*sc_file;	/* where the entry starts */
	int			 sc_line;

	unsigned		 sc_type;	/* STYPE_* */
	unsigned		 sc_flags;	/* SFLAG_* */
	int			 sc_socktype;	/* SOCK_STREAM, SOCK_DGRAM */
	int			 sc_protocol;	/* IPPROTO_TCP, IPPROTO_UDP */
	char			*sc_protoname;	/* "tcp", "udp" */
	int			 sc_wait;
	int			 sc_port;	/* -1 until known */
	enum builtin_kind	 sc_builtin;	/* INTERNAL services */

	/* Where to listen. */
	char			*sc_bind;	/* as written, or NULL */
	struct sockaddr_storage	 sc_bindaddr;	/* ss_family 0: wildcard */
	socklen_t		 sc_bindaddrlen;
	int			 sc_v6only;	/* -1: not set */
	int			 sc_freebind;	/* bind before the address is here */

	/* Spawned servers. */
	char			*sc_server;
	struct wordlist		 sc_server_args;
	char			*sc_user;
	uid_t			 sc_uid;
	char			*sc_group;
	char			*sc_worker_user; /* the setter's: see cf_ */
	char			*sc_control_socket; /* the setter's: see cf_ */
	int			 sc_workers;	/* the setter's: see cf_ */
	struct bans_conf	 sc_bans;	/* the setter's: see cf_ */
	int			 sc_worker_cpus[CONF_WORKERS_MAX];
	int			 sc_nworker_cpus;
	gid_t			 sc_gid;
	int			 sc_has_uid;
	int			 sc_has_gid;
	int			 sc_groups;	/* groups = yes */
	int			 sc_umask;	/* -1: not set */
	int			 sc_nice;
	int			 sc_has_nice;
	struct wordlist		 sc_env;
	struct wordlist		 sc_passenv;
	int			 sc_has_passenv;
	char			**sc_spawn_env;	/* spawn_env_base(), servers only */
	rlim_t			 sc_rlimit[CRL_COUNT];
	unsigned		 sc_rlimit_set;	/* bit per enum conf_rlimit */

	/* Forwarding. */
	struct redirect_target	*sc_redirect;
	int			 sc_nredirect;
	int			 sc_connect_timeout;	/* seconds */
	int			 sc_idle_timeout;	/* seconds, 0: none */
	enum proxy_proto	 sc_proxy_protocol;
	int			 sc_accept_proxy;
	struct addrlist		*sc_proxy_from;	/* fronts whose header is believed */

	/* The gate. */
	struct addrlist		*sc_only_from;	/* NULL: not set */
	struct addrlist		*sc_no_access;
	struct timewin		*sc_access_times;
	char			*sc_access_tz;
	char			*sc_geoip_db;
	struct geoip		*sc_geoip;	/* opened at load */
	struct wordlist		 sc_only_from_country;
	int			 sc_has_only_from_country;
	struct wordlist		 sc_no_access_country;
	int			 sc_instances;	/* LIMIT_UNLIMITED */
	int			 sc_per_source;
	int			 sc_per_source_prefix6;
	double			 sc_per_source_cps_rate;	/* 0: off */
	double			 sc_per_source_cps_burst;
	int			 sc_cps_rate;	/* 0: off */
	int			 sc_cps_wait;
	double			 sc_max_load;	/* 0: off */
	int			 sc_deny_time;	/* minutes, DENY_FOREVER */
	char			 sc_libwrap[SC_LIBWRAP_MAX];	/* "": default */
	struct banner		 sc_banner;	/* read at load time */
	struct banner		 sc_banner_success;
	struct banner		 sc_banner_fail;

	/* TLS. */
	int			 sc_tls;
	struct wordlist		 sc_tls_cert;
	struct wordlist		 sc_tls_key;
	char			*sc_tls_ca;
	struct wordlist		 sc_tls_protocols;
	char			*sc_tls_ciphers;
	char			*sc_tls_ciphersuites;
	struct wordlist		 sc_tls_alpn;
	int			 sc_tls_handshake_timeout;
	struct tls_ctx		*sc_tlsctx;	/* built at load */

	/* Logging. */
	struct logtype		 sc_logtype;
	unsigned		 sc_log_success;	/* ALOG_* */
	unsigned		 sc_log_failure;
	struct accesslog	*sc_log;	/* opened by config_open_logs() */
};

struct config {
	int			  cf_refcnt;
	char			 *cf_path;
	char			**cf_files;	/* every file read */
	struct service_conf	**cf_services;	/* enabled services only */
	int			  cf_nservices;
	int			  cf_ndisabled;	/* services read but disabled */
	/*
	 * Services not started for a DIAG_DISABLE finding (this machine, or
	 * a duplicate), the others run: their ids, and those findings.
	 */
	char			**cf_off;
	int			  cf_noff;
	char			**cf_offmsgs;
	int			  cf_noffmsgs;
	char			 *cf_dump;	/* -T: CONF_DUMP's text */
	char			 *cf_worker_user; /* defaults' worker_user */
	char			 *cf_control_socket; /* NULL: the default */
	int			  cf_workers;	/* 0: auto, one per CPU */
	int			  cf_worker_cpus[CONF_WORKERS_MAX];
	int			  cf_nworker_cpus;
	struct bans_conf	  cf_bans;	/* defaults' ban_state_file, redis */
};

/* config_load() flags. */
#define CONF_CHECK_ONLY		0x01	/* -t: open no log file */
#define CONF_DUMP		0x02	/* -T: keep the merged values as text */

/*
 * Read, check and build the configuration in <path>.  Every error and
 * warning goes to <cd>.  Returns the configuration (one reference) when
 * <cd> has no error, else NULL.  A DIAG_DISABLE finding is no error: its
 * service is left out (listed in cf_off) and the others are built.
 *
 * Allocation failure is not a configuration error: the loader (lexer,
 * parser, merge, setters) allocates with the x* wrappers of xmalloc.h,
 * at reload as at start-up, so running out of memory while reloading
 * ends portgate with fatal() rather than failing the reload.  This is a
 * deliberate exception to STYLE.md rule 6, not an oversight: what is
 * allocated is bounded by the admin's own files, so a failure means the
 * host has no memory left, and turning it into a failed reload would
 * need every allocation of the loader and of the value compilers it
 * calls checked and unwound.  New loader code adds no allocation on that
 * path where it can avoid one (the table's scalar defaults allocate
 * nothing).
 */
struct config	*config_load(const char *path, int flags,
		    struct conf_diag *cd);
void		 config_ref(struct config *);
void		 config_unref(struct config *);
/*
 * Is the process privileged enough that spawned servers need `user` (and
 * that `user` and `group` take effect)?
 */
void		 config_set_root(int);
int		 config_get_root(void);

#endif
