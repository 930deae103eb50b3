/*
 * Shared by the table (conf_attr.c) and the setters, one file per family:
 * conf_attr_generic.c (values the row parametrises: strings, words,
 * yes/no, integers, keyword masks), conf_attr_net.c (sockets, forwarding,
 * PROXY, TLS versions, RPC), conf_attr_spawn.c (user, group, server,
 * environment, limits of spawned servers), conf_attr_gate.c (the gate's
 * rules and banners) and conf_attr_log.c (access records).
 */
#ifndef PORTGATE_CONF_ATTR_INT_H
#define PORTGATE_CONF_ATTR_INT_H

#include "conf_attr.h"

/* The field of <sc> at offset <off>, as a <type>. */
#define ATTR_FIELD(sc, off, type) \
	((type *)(void *)((char *)(sc) + (off)))
#define ATTR_OFF(member)		offsetof(struct service_conf, member)

/* Record a bad value of <ad> at the line of word <i> (-1: the statement). */
int	attr_bad(const struct attr_def *ad, const struct attr_val *av, int i,
	    struct conf_diag *cd, const char *expected);
/* The index of <w> in the NULL-terminated <names> (any case), or -1. */
int	attr_keyword(const char *w, const char *const *names);

/* conf_attr_generic.c */
int	attr_set_string(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_path(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_words(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_file(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_bool(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_int(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_limit(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_ignored(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_none(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_mask(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);

/* conf_attr_net.c */
int	attr_set_socktype(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_protocol(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_addrlist(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_port(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_redirect(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_proxy_protocol(const struct attr_def *,
	    struct service_conf *, const struct attr_val *, struct conf_diag *);
int	attr_set_tls_protocols(const struct attr_def *,
	    struct service_conf *, const struct attr_val *, struct conf_diag *);
int	attr_set_rpc_version(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_rpc_number(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);

/* conf_attr_bans.c */
int	attr_set_ban_state_file(const struct attr_def *,
	    struct service_conf *, const struct attr_val *, struct conf_diag *);
int	attr_set_redis(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_redis_password_file(const struct attr_def *,
	    struct service_conf *, const struct attr_val *, struct conf_diag *);
int	attr_set_redis_prefix(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);

/* conf_attr_spawn.c */
int	attr_set_workers(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_worker_cpus(const struct attr_def *,
	    struct service_conf *, const struct attr_val *, struct conf_diag *);
int	attr_set_worker_user(const struct attr_def *,
	    struct service_conf *, const struct attr_val *, struct conf_diag *);
int	attr_set_control_socket(const struct attr_def *,
	    struct service_conf *, const struct attr_val *, struct conf_diag *);
int	attr_set_user(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_group(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_server(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_env(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_passenv(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_umask(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_nice(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_rlimit(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);

/* conf_attr_gate.c */
int	attr_set_access_times(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_tz(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_geoip(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_countries(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_cps(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_max_load(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_per_source_cps(const struct attr_def *,
	    struct service_conf *, const struct attr_val *, struct conf_diag *);
int	attr_set_deny_time(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_banner(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_libwrap(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);

/* conf_attr_log.c */
int	attr_set_logtype(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);
int	attr_set_logfields(const struct attr_def *, struct service_conf *,
	    const struct attr_val *, struct conf_diag *);

#endif
