/*
 * The attribute table, the one place an attribute is described, and what
 * is read from it as a whole: look-up by name, the order of the setters,
 * the values of a service before any attribute is set.  Generic code in
 * config_merge.c handles scope, operators, value counts and the merge of
 * defaults; the setters, one file per family, check and store one value.
 */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "conf_attr_int.h"

static const char *const type_names[] = {
	"RPC", "INTERNAL", "UNLISTED", "TCPMUX", "TCPMUXPLUS", "SPECIAL", NULL
};

static const char *const flag_names[] = {
	"REUSE", "INTERCEPT", "NORETRY", "IDONLY", "NAMEINARGS", "NODELAY",
	"KEEPALIVE", "NOLIBWRAP", "SENSOR", "IPv4", "IPv6", "LABELED", NULL
};

/*
 * The order of the rows is the order of the diagnostics of one service;
 * the order of the setters is that of .after (attr_order()).
 */
const struct attr_def attr_table[] = {
	{ .name = "id", .scope = ATTR_SERVICE, .min_values = 1, .max_values = 1,
	  .set = attr_set_string, .offset = ATTR_OFF(sc_id),
	  .values = "NAME",
	  .summary = "The identifier of the service" },
	{ .name = "type", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = -1, .set = attr_set_mask,
	  .offset = ATTR_OFF(sc_type), .keywords = type_names,
	  .values = "RPC INTERNAL UNLISTED TCPMUX TCPMUXPLUS SPECIAL",
	  .summary = "A set of words, on one line" },
	{ .name = "flags", .scope = ATTR_SERVICE,
	  .min_values = 0, .max_values = -1, .set = attr_set_mask,
	  .offset = ATTR_OFF(sc_flags), .keywords = flag_names,
	  .values =
	      "REUSE INTERCEPT NORETRY IDONLY NAMEINARGS NODELAY KEEPALIVE "
	      "NOLIBWRAP SENSOR IPv4 IPv6 LABELED",
	  .summary = "A set of flags, on one line" },
	{ .name = "disable", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_none,
	  .values = "yes | no",
	  .summary = "the service is not started" },
	{ .name = "socket_type", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_socktype,
	  .values = "stream | dgram",
	  .summary = "stream for a TCP service, dgram for a UDP service" },
	{ .name = "protocol", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_protocol,
	  .values = "tcp | udp",
	  .summary = "The transport protocol" },
	{ .name = "wait", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_bool,
	  .offset = ATTR_OFF(sc_wait),
	  .values = "yes | no",
	  .summary = "each client is served on its own" },
	{ .name = "group", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_group,
	  .values = "NAME | GID",
	  .summary = "The group a spawned server runs as" },
	{ .name = "user", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_user,
	  .after = "group",
	  .values = "NAME | UID",
	  .summary = "The user a spawned server runs as" },
	{ .name = "groups", .scope = ATTR_BOTH,
	  .min_values = 1, .max_values = 1, .set = attr_set_bool,
	  .offset = ATTR_OFF(sc_groups),
	  .values = "yes | no",
	  .summary =
	      "a spawned server gets the supplementary groups of its user" },
	{ .name = "instances", .scope = ATTR_BOTH,
	  .min_values = 1, .max_values = 1, .set = attr_set_limit,
	  .offset = ATTR_OFF(sc_instances), .minimum = 0, .maximum = INT_MAX,
	  .default_text = "UNLIMITED",
	  .values = "N | UNLIMITED",
	  .summary =
	      "The most sessions of the service that may be open at the same "
	      "time" },
	{ .name = "per_source", .scope = ATTR_BOTH,
	  .min_values = 1, .max_values = 1, .set = attr_set_limit,
	  .offset = ATTR_OFF(sc_per_source), .minimum = 0, .maximum = INT_MAX,
	  .default_text = "UNLIMITED",
	  .values = "N | UNLIMITED",
	  .summary =
	      "The most sessions of the service that one client source may "
	      "have open" },
	{ .name = "nice", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_nice,
	  .offset = ATTR_OFF(sc_nice), .minimum = -20, .maximum = 19,
	  .values = "-20..19",
	  .summary =
	      "The niceness increment, from -20 to 19, of a spawned server" },
	{ .name = "server", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_server,
	  .offset = ATTR_OFF(sc_server),
	  .values = "PATH",
	  .summary = "The program a spawned server runs" },
	{ .name = "server_args", .scope = ATTR_SERVICE,
	  .min_values = 0, .max_values = -1, .set = attr_set_words,
	  .offset = ATTR_OFF(sc_server_args),
	  .values = "WORD ...",
	  .summary = "The arguments of the program, from argument 1 on" },
	{ .name = "only_from", .scope = ATTR_BOTH, .flags = ATTR_LIST,
	  .min_values = 0, .max_values = -1, .set = attr_set_addrlist,
	  .offset = ATTR_OFF(sc_only_from),
	  .values = "ADDRESS ...",
	  .summary = "only clients matching this list are admitted" },
	{ .name = "no_access", .scope = ATTR_BOTH, .flags = ATTR_LIST,
	  .min_values = 0, .max_values = -1, .set = attr_set_addrlist,
	  .offset = ATTR_OFF(sc_no_access),
	  .values = "ADDRESS ...",
	  .summary = "Clients matching this list are refused" },
	{ .name = "access_times", .scope = ATTR_SERVICE, .flags = ATTR_LIST,
	  .min_values = 1, .max_values = -1, .set = attr_set_access_times,
	  .after = "access_tz",
	  .values = "[DAYS] HH:MM-HH:MM ...",
	  .summary =
	      "The service admits clients only inside one of these time "
	      "windows" },
	{ .name = "log_type", .scope = ATTR_BOTH,
	  .min_values = 2, .max_values = 4, .set = attr_set_logtype,
	  .values = "SYSLOG FACILITY [LEVEL] | FILE PATH [SOFT [HARD]]",
	  .summary = "Where the access records of the service go" },
	{ .name = "log_on_success", .scope = ATTR_BOTH, .flags = ATTR_LIST,
	  .min_values = 0, .max_values = -1, .set = attr_set_logfields,
	  .offset = ATTR_OFF(sc_log_success),
	  .default_text = "PID HOST EXIT DURATION",
	  .values = "PID HOST USERID EXIT DURATION TRAFFIC COUNTRY PORT TLS",
	  .summary = "What the records of an admitted client say" },
	{ .name = "log_on_failure", .scope = ATTR_BOTH, .flags = ATTR_LIST,
	  .min_values = 0, .max_values = -1, .set = attr_set_logfields,
	  .offset = ATTR_OFF(sc_log_failure), .default_text = "HOST",
	  .values = "HOST USERID ATTEMPT COUNTRY PORT",
	  .summary = "What a FAIL record of a refused client says" },
	{ .name = "rpc_version", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_rpc_version,
	  .values = "N | N-M",
	  .summary =
	      "Checked and otherwise unused: portgate starts no RPC service" },
	{ .name = "rpc_number", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_rpc_number,
	  .values = "N",
	  .summary =
	      "Checked and otherwise unused: portgate starts no RPC service" },
	{ .name = "env", .scope = ATTR_SERVICE, .flags = ATTR_LIST | ATTR_NODEL,
	  .min_values = 1, .max_values = -1, .set = attr_set_env,
	  .offset = ATTR_OFF(sc_env),
	  .values = "NAME=VALUE ...",
	  .summary = "Variables added to the environment of a spawned server" },
	{ .name = "passenv", .scope = ATTR_BOTH, .flags = ATTR_LIST,
	  .min_values = 0, .max_values = -1, .set = attr_set_passenv,
	  .offset = ATTR_OFF(sc_passenv),
	  .values = "NAME ...",
	  .summary =
	      "a spawned server receives only these variables of portgate's "
	      "own environment" },
	{ .name = "port", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_port,
	  .offset = ATTR_OFF(sc_port), .minimum = 0, .maximum = 65535,
	  .unset = -1,
	  .values = "0..65535",
	  .summary = "The port to listen on, 0 to 65535" },
	{ .name = "redirect", .scope = ATTR_SERVICE,
	  .flags = ATTR_LIST | ATTR_NODEL, .min_values = 2, .max_values = -1,
	  .set = attr_set_redirect,
	  .values = "HOST PORT",
	  .summary =
	      "Forward clients to host and port instead of serving them" },
	{ .name = "bind", .alias = "interface", .scope = ATTR_BOTH,
	  .min_values = 1, .max_values = 1, .set = attr_set_string,
	  .offset = ATTR_OFF(sc_bind),
	  .values = "ADDRESS | HOST | INTERFACE",
	  .summary = "Listen on address only" },
	{ .name = "banner", .scope = ATTR_BOTH,
	  .min_values = 1, .max_values = 1, .set = attr_set_banner,
	  .offset = ATTR_OFF(sc_banner),
	  .values = "PATH",
	  .summary =
	      "A file whose contents are sent, as they are, to every client "
	      "of a stream service" },
	{ .name = "banner_success", .scope = ATTR_BOTH,
	  .min_values = 1, .max_values = 1, .set = attr_set_banner,
	  .offset = ATTR_OFF(sc_banner_success),
	  .values = "PATH",
	  .summary = "A file sent to a client that the gate admits" },
	{ .name = "banner_fail", .scope = ATTR_BOTH,
	  .min_values = 1, .max_values = 1, .set = attr_set_banner,
	  .offset = ATTR_OFF(sc_banner_fail),
	  .values = "PATH",
	  .summary = "A file sent to a client that the gate refuses" },
	{ .name = "umask", .scope = ATTR_BOTH, .min_values = 1, .max_values = 1,
	  .set = attr_set_umask, .offset = ATTR_OFF(sc_umask), .unset = -1,
	  .values = "OCTAL",
	  .summary = "The file mode creation mask of a spawned server" },
	{ .name = "workers", .scope = ATTR_DEFAULTS,
	  .min_values = 1, .max_values = 1, .set = attr_set_workers,
	  .values = "auto | N",
	  .summary = "How many worker processes serve the clients" },
	{ .name = "worker_cpus", .scope = ATTR_DEFAULTS,
	  .min_values = 1, .max_values = -1, .set = attr_set_worker_cpus,
	  .values = "CPU ...",
	  .summary = "Pin the workers to these CPUs" },
	{ .name = "worker_user", .scope = ATTR_DEFAULTS,
	  .min_values = 1, .max_values = 1, .set = attr_set_worker_user,
	  .offset = ATTR_OFF(sc_worker_user), .values = "USER",
	  .summary = "The user the worker processes run as" },
	{ .name = "control_socket", .scope = ATTR_DEFAULTS,
	  .min_values = 1, .max_values = 1, .set = attr_set_control_socket,
	  .values = "PATH | none",
	  .summary = "The UNIX socket portgatectl talks to" },
	{ .name = "ban_state_file", .scope = ATTR_DEFAULTS,
	  .flags = ATTR_EXTENSION, .min_values = 1, .max_values = 1,
	  .set = attr_set_ban_state_file,
	  .offset = ATTR_OFF(sc_bans.bc_state_file), .values = "PATH | none",
	  .summary = "The file that keeps the deny list over a restart" },
	{ .name = "redis", .scope = ATTR_DEFAULTS, .flags = ATTR_EXTENSION,
	  .min_values = 1, .max_values = 1, .set = attr_set_redis,
	  .offset = ATTR_OFF(sc_bans.bc_redis),
	  .values = "ADDRESS:PORT | [ADDRESS]:PORT | /PATH",
	  .summary = "Share the deny list with other gates through this Redis "
	      "server" },
	{ .name = "redis_password_file", .scope = ATTR_DEFAULTS,
	  .flags = ATTR_EXTENSION, .min_values = 1, .max_values = 1,
	  .set = attr_set_redis_password_file,
	  .offset = ATTR_OFF(sc_bans.bc_redis_password_file),
	  .values = "PATH",
	  .summary = "A file holding the password portgate gives Redis" },
	{ .name = "redis_prefix", .scope = ATTR_DEFAULTS,
	  .flags = ATTR_EXTENSION, .min_values = 1, .max_values = 1,
	  .set = attr_set_redis_prefix,
	  .offset = ATTR_OFF(sc_bans.bc_redis_prefix), .values = "WORD",
	  .summary = "The start of every Redis key and channel portgate "
	      "uses" },
	{ .name = "enabled", .scope = ATTR_DEFAULTS, .flags = ATTR_LIST,
	  .min_values = 0, .max_values = -1, .set = attr_set_none,
	  .values = "ID ...",
	  .summary = "only services whose id is listed are started" },
	{ .name = "disabled", .scope = ATTR_DEFAULTS, .flags = ATTR_LIST,
	  .min_values = 0, .max_values = -1, .set = attr_set_none,
	  .values = "ID ...",
	  .summary = "Services with these ids are not started" },
	{ .name = "cps", .scope = ATTR_BOTH, .min_values = 2, .max_values = 2,
	  .set = attr_set_cps, .default_text = "50 10",
	  .values = "RATE SECONDS",
	  .summary = "Connection rate limit of the whole service" },
	{ .name = "max_load", .scope = ATTR_BOTH,
	  .min_values = 1, .max_values = 1, .set = attr_set_max_load,
	  .values = "LOAD",
	  .summary =
	      "Refuse clients while the one-minute load average of the "
	      "system" },
	{ .name = "rlimit_as", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_rlimit,
	  .rlimit = CRL_AS, .size_suffix = 1,
	  .values = "BYTES[K|M] | UNLIMITED",
	  .summary = "The address-space limit RLIMIT_AS of a spawned server" },
	{ .name = "rlimit_cpu", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_rlimit,
	  .rlimit = CRL_CPU, .size_suffix = 0,
	  .values = "SECONDS | UNLIMITED",
	  .summary = "The CPU time limit RLIMIT_CPU of a spawned server" },
	{ .name = "rlimit_data", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_rlimit,
	  .rlimit = CRL_DATA, .size_suffix = 1,
	  .values = "BYTES[K|M] | UNLIMITED",
	  .summary = "The data segment limit RLIMIT_DATA of a spawned server" },
	{ .name = "rlimit_rss", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_rlimit,
	  .rlimit = CRL_RSS, .size_suffix = 1,
	  .values = "BYTES[K|M] | UNLIMITED",
	  .summary =
	      "The resident set size limit RLIMIT_RSS of a spawned server" },
	{ .name = "rlimit_stack", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_rlimit,
	  .rlimit = CRL_STACK, .size_suffix = 1,
	  .values = "BYTES[K|M] | UNLIMITED",
	  .summary = "The stack size limit RLIMIT_STACK of a spawned server" },
	{ .name = "rlimit_files", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_rlimit,
	  .rlimit = CRL_FILES, .size_suffix = 1,
	  .values = "N[K|M] | UNLIMITED",
	  .summary = "The open file limit RLIMIT_NOFILE of a spawned server" },
	{ .name = "deny_time", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_deny_time,
	  .offset = ATTR_OFF(sc_deny_time),
	  .minimum = 0, .maximum = INT_MAX / 60,
	  .values = "MINUTES | FOREVER | NEVER",
	  .summary =
	      "for how many minutes an address that contacted it is refused "
	      "by every service" },
	{ .name = "v6only", .scope = ATTR_BOTH,
	  .min_values = 1, .max_values = 1, .set = attr_set_bool,
	  .offset = ATTR_OFF(sc_v6only), .unset = -1,
	  .values = "yes | no",
	  .summary =
	      "For an IPv6 listening socket: yes accepts IPv6 clients only" },
	{ .name = "freebind", .scope = ATTR_BOTH, .flags = ATTR_EXTENSION,
	  .min_values = 1, .max_values = 1, .set = attr_set_bool,
	  .offset = ATTR_OFF(sc_freebind), .default_text = "no",
	  .values = "yes | no",
	  .summary =
	      "bind is allowed to an address this machine does not hold yet, "
	      "such as a virtual address a standby gate will get" },
	{ .name = "mdns", .scope = ATTR_BOTH, .flags = ATTR_IGNORED,
	  .min_values = 1, .max_values = 1, .set = attr_set_ignored,
	  .values = "yes | no",
	  .summary = "Accepted with a warning and ignored" },
	{ .name = "libwrap", .scope = ATTR_SERVICE,
	  .min_values = 1, .max_values = 1, .set = attr_set_libwrap,
	  .offset = ATTR_OFF(sc_libwrap),
	  .values = "NAME",
	  .summary =
	      "The daemon name under which the rules of /etc/hosts.allow and "
	      "/etc/hosts.deny apply to the service" },
	{ .name = "connect_timeout", .scope = ATTR_BOTH,
	  .flags = ATTR_EXTENSION, .min_values = 1, .max_values = 1,
	  .set = attr_set_int, .offset = ATTR_OFF(sc_connect_timeout),
	  .minimum = 1, .maximum = 3600, .default_text = "10",
	  .values = "SECONDS",
	  .summary = "How long to wait for a connection to a redirect target" },
	{ .name = "idle_timeout", .scope = ATTR_BOTH, .flags = ATTR_EXTENSION,
	  .min_values = 1, .max_values = 1, .set = attr_set_int,
	  .offset = ATTR_OFF(sc_idle_timeout),
	  .minimum = 0, .maximum = INT_MAX / 1000, .unset = -1,
	  .values = "SECONDS",
	  .summary =
	      "Close a session that portgate relays after this many seconds "
	      "with no traffic" },
	{ .name = "proxy_protocol", .scope = ATTR_SERVICE,
	  .flags = ATTR_EXTENSION, .min_values = 1, .max_values = 1,
	  .set = attr_set_proxy_protocol,
	  .values = "v1 | v2 | none",
	  .summary =
	      "Send a PROXY protocol header of version 1 (text) or 2 "
	      "(binary) to the redirect target" },
	{ .name = "accept_proxy", .scope = ATTR_BOTH, .flags = ATTR_EXTENSION,
	  .min_values = 1, .max_values = 1, .set = attr_set_bool,
	  .offset = ATTR_OFF(sc_accept_proxy),
	  .values = "yes | no",
	  .summary =
	      "every client connection must begin with a PROXY protocol "
	      "header" },
	{ .name = "proxy_from", .scope = ATTR_BOTH,
	  .flags = ATTR_LIST | ATTR_EXTENSION,
	  .min_values = 0, .max_values = -1, .set = attr_set_addrlist,
	  .offset = ATTR_OFF(sc_proxy_from),
	  .values = "ADDRESS ...",
	  .summary =
	      "The front ends (load balancers) whose PROXY header "
	      "accept_proxy believes" },
	{ .name = "tls", .scope = ATTR_SERVICE, .flags = ATTR_EXTENSION,
	  .min_values = 1, .max_values = 1, .set = attr_set_bool,
	  .offset = ATTR_OFF(sc_tls),
	  .values = "yes | no",
	  .summary =
	      "clients speak TLS, which portgate terminates before the back "
	      "end" },
	{ .name = "tls_cert", .scope = ATTR_BOTH,
	  .flags = ATTR_LIST | ATTR_EXTENSION,
	  .min_values = 1, .max_values = -1, .set = attr_set_file,
	  .offset = ATTR_OFF(sc_tls_cert),
	  .values = "PEM ...",
	  .summary =
	      "PEM files, each with a certificate chain, the server "
	      "certificate first" },
	{ .name = "tls_key", .scope = ATTR_BOTH,
	  .flags = ATTR_LIST | ATTR_EXTENSION,
	  .min_values = 1, .max_values = -1, .set = attr_set_file,
	  .offset = ATTR_OFF(sc_tls_key),
	  .values = "PEM ...",
	  .summary =
	      "PEM files with the private keys of the tls_cert certificates" },
	{ .name = "tls_ca", .scope = ATTR_BOTH, .flags = ATTR_EXTENSION,
	  .min_values = 1, .max_values = 1, .set = attr_set_file,
	  .offset = ATTR_OFF(sc_tls_ca),
	  .values = "PEM",
	  .summary = "A PEM file of certificate authorities" },
	{ .name = "tls_protocols", .scope = ATTR_BOTH,
	  .flags = ATTR_LIST | ATTR_EXTENSION,
	  .min_values = 1, .max_values = -1, .set = attr_set_tls_protocols,
	  .offset = ATTR_OFF(sc_tls_protocols),
	  .values = "TLSv1.2 TLSv1.3 ...",
	  .summary = "The TLS versions allowed" },
	{ .name = "tls_ciphers", .scope = ATTR_BOTH, .flags = ATTR_EXTENSION,
	  .min_values = 1, .max_values = 1, .set = attr_set_string,
	  .offset = ATTR_OFF(sc_tls_ciphers),
	  .values = "OPENSSL-CIPHER-LIST",
	  .summary = "The OpenSSL cipher list for TLS 1.2 and below" },
	{ .name = "tls_ciphersuites", .scope = ATTR_BOTH,
	  .flags = ATTR_EXTENSION, .min_values = 1, .max_values = 1,
	  .set = attr_set_string, .offset = ATTR_OFF(sc_tls_ciphersuites),
	  .values = "TLS1.3-CIPHERSUITES",
	  .summary = "The TLS 1.3 cipher suites" },
	{ .name = "tls_alpn", .scope = ATTR_SERVICE,
	  .flags = ATTR_LIST | ATTR_EXTENSION,
	  .min_values = 1, .max_values = -1, .set = attr_set_words,
	  .offset = ATTR_OFF(sc_tls_alpn),
	  .values = "PROTOCOL ...",
	  .summary =
	      "The application protocol names (ALPN, RFC 7301) that portgate "
	      "accepts from TLS clients" },
	{ .name = "tls_handshake_timeout", .scope = ATTR_BOTH,
	  .flags = ATTR_EXTENSION, .min_values = 1, .max_values = 1,
	  .set = attr_set_int, .offset = ATTR_OFF(sc_tls_handshake_timeout),
	  .minimum = 1, .maximum = 3600, .default_text = "10",
	  .values = "SECONDS",
	  .summary =
	      "How long a client may take to complete the TLS handshake" },
	{ .name = "geoip_db", .scope = ATTR_BOTH, .flags = ATTR_EXTENSION,
	  .min_values = 1, .max_values = 1, .set = attr_set_geoip,
	  .offset = ATTR_OFF(sc_geoip_db),
	  .values = "PATH",
	  .summary = "The absolute path of a MaxMind database" },
	{ .name = "only_from_country", .scope = ATTR_BOTH,
	  .flags = ATTR_LIST | ATTR_EXTENSION,
	  .min_values = 0, .max_values = -1, .set = attr_set_countries,
	  .offset = ATTR_OFF(sc_only_from_country),
	  .values = "CC ...",
	  .summary = "only clients whose country is listed are admitted" },
	{ .name = "no_access_country", .scope = ATTR_BOTH,
	  .flags = ATTR_LIST | ATTR_EXTENSION,
	  .min_values = 0, .max_values = -1, .set = attr_set_countries,
	  .offset = ATTR_OFF(sc_no_access_country),
	  .values = "CC ...",
	  .summary = "Clients whose country is in this list are refused" },
	{ .name = "access_tz", .scope = ATTR_BOTH, .flags = ATTR_EXTENSION,
	  .min_values = 1, .max_values = 1, .set = attr_set_tz,
	  .offset = ATTR_OFF(sc_access_tz),
	  .values = "AREA/CITY",
	  .summary = "Evaluate access_times in the time zone" },
	{ .name = "per_source_cps", .scope = ATTR_BOTH, .flags = ATTR_EXTENSION,
	  .min_values = 1, .max_values = 2, .set = attr_set_per_source_cps,
	  .values = "RATE [BURST]",
	  .summary =
	      "Connection rate limit per client source, as a token bucket" },
	{ .name = "per_source_prefix6", .scope = ATTR_BOTH,
	  .flags = ATTR_EXTENSION, .min_values = 1, .max_values = 1,
	  .set = attr_set_int, .offset = ATTR_OFF(sc_per_source_prefix6),
	  .minimum = 0, .maximum = 128, .default_text = "64",
	  .values = "0..128",
	  .summary =
	      "The prefix length, from 0 to 128, by which IPv6 clients are "
	      "grouped" },
};

#define ATTR_NROWS	((int)(sizeof(attr_table) / sizeof(attr_table[0])))

const int attr_count = ATTR_NROWS;

/* The index of the row of <table> called <name> or its alias, or -1. */
static int
attr_find(const struct attr_def *table, int n, const char *name)
{
	int	i;

	for (i = 0; i < n; i++)
		if (strcasecmp(table[i].name, name) == 0 ||
		    (table[i].alias != NULL &&
		    strcasecmp(table[i].alias, name) == 0))
			return i;
	return -1;
}

int
attr_lookup(const char *name)
{
	return attr_find(attr_table, attr_count, name);
}

/* Is row <i> among the first <k> of <order>? */
static int
attr_placed(const int *order, int k, int i)
{
	int	j;

	for (j = 0; j < k; j++)
		if (order[j] == i)
			return 1;
	return 0;
}

/*
 * Append row <i> to <order>, after the rows it depends on; <depth> bounds
 * the walk so that a cycle ends.
 */
static void
attr_place(const struct attr_def *table, int n, int i, int depth,
    int *order, int *k)
{
	int	dep;

	if (attr_placed(order, *k, i))
		return;
	if (table[i].after != NULL && depth < n &&
	    (dep = attr_find(table, n, table[i].after)) != -1)
		attr_place(table, n, dep, depth + 1, order, k);
	if (!attr_placed(order, *k, i))
		order[(*k)++] = i;
}

void
attr_order(const struct attr_def *table, int n, int *order)
{
	int	i, k = 0;

	for (i = 0; i < n; i++)
		attr_place(table, n, i, 0, order, &k);
}

const int *
attr_setter_order(void)
{
	static int	order[ATTR_NROWS];
	static int	done;

	if (!done) {
		attr_order(attr_table, attr_count, order);
		done = 1;
	}
	return order;
}

int
attr_default_words(const struct attr_def *ad, char *buf, size_t len,
    char **words, int max)
{
	char	*w, *save;
	int	 n = 0;

	if (ad->default_text == NULL ||
	    strlcpy(buf, ad->default_text, len) >= len)
		return 0;
	for (w = strtok_r(buf, " ", &save); w != NULL && n < max;
	    w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	return n;
}

void
attr_init_service(struct service_conf *sc, const char *file, int line,
    struct conf_diag *cd)
{
	const struct attr_def	*ad;
	struct attr_val		 av;
	const char		*files[ATTR_DEFAULT_MAX];
	int			 lines[ATTR_DEFAULT_MAX];
	char			 buf[64], *words[ATTR_DEFAULT_MAX + 1];
	int			 i, j;

	for (i = 0; i < attr_count; i++) {
		ad = &attr_table[i];
		if (ad->unset != 0)
			*ATTR_FIELD(sc, ad->offset, int) = ad->unset;
		if (ad->flags & ATTR_LIST)
			continue;
		memset(&av, 0, sizeof(av));
		if ((av.av_n = attr_default_words(ad, buf, sizeof(buf), words,
		    ATTR_DEFAULT_MAX)) == 0)
			continue;
		words[av.av_n] = NULL;
		for (j = 0; j < av.av_n; j++) {
			files[j] = file;
			lines[j] = line;
		}
		av.av_words = words;
		av.av_files = files;
		av.av_lines = lines;
		av.av_file = file;
		av.av_line = line;
		av.av_set = 1;
		(void)ad->set(ad, sc, &av, cd);
	}
}
