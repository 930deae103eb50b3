/*
 * Build a struct config from the parsed files: merge (config_merge.c), run
 * every attribute's setter in the order the table declares, check
 * (config_check.c, config_audit.c, config_compat.c), build the TLS
 * contexts, open the logs, and refuse the whole configuration if anything
 * is wrong, except findings about this machine and duplicates (DIAG_DISABLE)
 * that leave out their service only, as xinetd does; then share it by
 * reference counting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accesslog.h"
#include "addrlist.h"
#include "config_audit.h"
#include "config_compat.h"
#include "config_int.h"
#include "geoip.h"
#include "spawn.h"
#include "timewin.h"
#include "tls.h"
#include "xmalloc.h"

/*
 * A fresh service: the values of unset attributes come from the table
 * (attr_init_service()).
 */
static struct service_conf *
config_service_new(const struct conf_entry *ce, struct conf_diag *cd)
{
	struct service_conf	*sc;

	sc = xcalloc(1, sizeof(*sc));
	sc->sc_name = xstrdup(ce->ce_name);
	sc->sc_file = ce->ce_file;
	sc->sc_line = ce->ce_line;
	attr_init_service(sc, ce->ce_file, ce->ce_line, cd);
	return sc;
}

static void
config_bans_clear(struct bans_conf *bc)
{
	free(bc->bc_state_file);
	free(bc->bc_redis);
	free(bc->bc_redis_password_file);
	free(bc->bc_redis_prefix);
	memset(bc, 0, sizeof(*bc));
}

static void
config_service_free(struct service_conf *sc)
{
	int	i;

	if (sc == NULL)
		return;
	free(sc->sc_name);
	free(sc->sc_id);
	free(sc->sc_protoname);
	free(sc->sc_bind);
	free(sc->sc_server);
	wordlist_clear(&sc->sc_server_args);
	free(sc->sc_user);
	free(sc->sc_group);
	free(sc->sc_worker_user);
	free(sc->sc_control_socket);
	config_bans_clear(&sc->sc_bans);
	wordlist_clear(&sc->sc_env);
	wordlist_clear(&sc->sc_passenv);
	free(sc->sc_spawn_env);
	for (i = 0; i < sc->sc_nredirect; i++) {
		free(sc->sc_redirect[i].rt_host);
		free(sc->sc_redirect[i].rt_port);
	}
	free(sc->sc_redirect);
	addrlist_free(sc->sc_only_from);
	addrlist_free(sc->sc_no_access);
	addrlist_free(sc->sc_proxy_from);
	timewin_free(sc->sc_access_times);
	free(sc->sc_access_tz);
	free(sc->sc_geoip_db);
	if (sc->sc_geoip != NULL)
		geoip_unref(sc->sc_geoip);
	wordlist_clear(&sc->sc_only_from_country);
	wordlist_clear(&sc->sc_no_access_country);
	banner_clear(&sc->sc_banner);
	banner_clear(&sc->sc_banner_success);
	banner_clear(&sc->sc_banner_fail);
	wordlist_clear(&sc->sc_tls_cert);
	wordlist_clear(&sc->sc_tls_key);
	free(sc->sc_tls_ca);
	wordlist_clear(&sc->sc_tls_protocols);
	free(sc->sc_tls_ciphers);
	free(sc->sc_tls_ciphersuites);
	tls_ctx_free(sc->sc_tlsctx);
	wordlist_clear(&sc->sc_tls_alpn);
	logtype_clear(&sc->sc_logtype);
	if (sc->sc_log != NULL)
		accesslog_unref(sc->sc_log);
	free(sc);
}

/*
 * Run the setter of every value, each after the one its row names in
 * .after (attr_setter_order()).  Returns the number of values that failed,
 * those inherited from a bad defaults value included (the diagnostics do
 * not count them: a message is recorded once).
 */
static int
config_run_setters(struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	const struct attr_def	*ad;
	const int		*order = attr_setter_order();
	int			 k, i, failed = 0;

	for (k = 0; k < attr_count; k++) {
		i = order[k];
		ad = &attr_table[i];
		if (!vals[i].av_set)
			continue;
		/* A bad value of defaults is reported once, there. */
		if (vals[i].av_inherited && vals[i].av_bad) {
			failed++;
			continue;
		}
		/* So is the warning of an ignored one. */
		if (vals[i].av_inherited && (ad->flags & ATTR_IGNORED))
			continue;
		if (ad->set(ad, sc, &vals[i], cd) == -1)
			failed++;
	}
	return failed;
}

/* Same words in the same order? */
static int
wordlist_equal(const struct wordlist *a, const struct wordlist *b)
{
	int	i;

	if (a->wl_n != b->wl_n)
		return 0;
	for (i = 0; i < a->wl_n; i++)
		if (strcmp(a->wl_words[i], b->wl_words[i]) != 0)
			return 0;
	return 1;
}

/* NULL-safe string equality. */
static int
config_streq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Would <a> and <b> build the same TLS context? */
static int
config_same_tls(const struct service_conf *a, const struct service_conf *b)
{
	return wordlist_equal(&a->sc_tls_cert, &b->sc_tls_cert) &&
	    wordlist_equal(&a->sc_tls_key, &b->sc_tls_key) &&
	    wordlist_equal(&a->sc_tls_protocols, &b->sc_tls_protocols) &&
	    wordlist_equal(&a->sc_tls_alpn, &b->sc_tls_alpn) &&
	    config_streq(a->sc_tls_ca, b->sc_tls_ca) &&
	    config_streq(a->sc_tls_ciphers, b->sc_tls_ciphers) &&
	    config_streq(a->sc_tls_ciphersuites, b->sc_tls_ciphersuites);
}

/*
 * The TLS context of <sc>, whose files and settings are checked here; one
 * context serves every service of <cf> with the same settings.
 */
static void
config_build_tls(struct config *cf, struct service_conf *sc,
    struct attr_val *vals, struct conf_diag *cd)
{
	struct attr_val	*av = config_val(vals, "tls_cert");
	char		 err[512], name[32];
	int		 idx, i;

	for (i = 0; i < cf->cf_nservices; i++) {
		if (cf->cf_services[i]->sc_tlsctx != NULL &&
		    config_same_tls(cf->cf_services[i], sc)) {
			sc->sc_tlsctx = tls_ctx_ref(
			    cf->cf_services[i]->sc_tlsctx);
			return;
		}
	}
	if ((sc->sc_tlsctx = tls_ctx_new(sc, err, sizeof(err))) != NULL)
		return;
	/* The message starts with the attribute at fault: point at it. */
	(void)snprintf(name, sizeof(name), "%.*s", (int)strcspn(err, " :"),
	    err);
	if ((idx = attr_lookup(name)) != -1 && vals[idx].av_set)
		av = &vals[idx];
	conf_error(cd, av->av_file, av->av_line, "service %s: %s",
	    sc->sc_name, err);
}

/*
 * Build one enabled service; NULL after errors, or after findings that
 * disable it alone (then *<off> is set).
 */
static struct service_conf *
config_build_service(struct config *cf, const struct conf_entry *ce,
    struct attr_val *vals, struct conf_diag *cd, int *off)
{
	struct service_conf	*sc;
	int			 before = cd->cd_errors, bad;

	sc = config_service_new(ce, cd);
	bad = config_run_setters(sc, vals, cd);
	if (sc->sc_id == NULL)
		sc->sc_id = xstrdup(sc->sc_name);
	bad += config_check_service(sc, vals, cd);
	config_audit(sc, vals, cd);
	config_compat(sc, vals, cd);
	if (cd->cd_errors == before && bad == 0 && sc->sc_tls)
		config_build_tls(cf, sc, vals, cd);
	if (cd->cd_errors == before && bad == 0 &&
	    config_check_duplicate(cf, sc, cd))
		bad++;
	if (sc->sc_server != NULL)
		sc->sc_spawn_env = spawn_env_base(sc);
	/*
	 * A setter that failed without an error of its own found something
	 * missing on this machine (or inherited a bad value of defaults,
	 * whose error stops the load anyway).
	 */
	*off = cd->cd_errors == before && bad > 0;
	if (cd->cd_errors != before || bad > 0) {
		config_service_free(sc);
		return NULL;
	}
	return sc;
}

/*
 * Check every value of defaults once, on a scratch service, so that a bad
 * one is reported once (and even when no service uses it); services that
 * inherit it then skip it.  The values only defaults may set go to <cf>.
 */
static void
config_check_defaults(struct config *cf, struct attr_val *defs,
    struct conf_diag *cd)
{
	static char		 name[] = "defaults";
	struct conf_entry	 ce;
	struct service_conf	*sc;
	const struct attr_def	*ad;
	const int		*order = attr_setter_order();
	int			 k, i;

	memset(&ce, 0, sizeof(ce));
	ce.ce_name = name;
	sc = config_service_new(&ce, cd);
	for (k = 0; k < attr_count; k++) {
		i = order[k];
		ad = &attr_table[i];
		if (!defs[i].av_set)
			continue;
		defs[i].av_bad = ad->set(ad, sc, &defs[i], cd) == -1;
	}
	/* What only defaults sets is the daemon's, not a service's. */
	cf->cf_worker_user = sc->sc_worker_user;
	sc->sc_worker_user = NULL;
	cf->cf_control_socket = sc->sc_control_socket;
	sc->sc_control_socket = NULL;
	cf->cf_workers = sc->sc_workers;
	memcpy(cf->cf_worker_cpus, sc->sc_worker_cpus,
	    sizeof(cf->cf_worker_cpus));
	cf->cf_nworker_cpus = sc->sc_nworker_cpus;
	cf->cf_bans = sc->sc_bans;
	memset(&sc->sc_bans, 0, sizeof(sc->sc_bans));
	config_service_free(sc);
}

/*
 * -T: service <ce> as merged; <nmsgs> is where its findings start, -1
 * when it is switched off.
 */
static void
config_dump_service(struct config *cf, const struct conf_entry *ce,
    struct attr_val *vals, struct attr_val *defs, struct conf_diag *cd,
    int nmsgs)
{
	const char	*id = config_val(vals, "id")->av_set ?
	    config_val(vals, "id")->av_words[0] : ce->ce_name;
	char		 head[512], why[1024];
	const char	*state = NULL;
	int		 i;

	(void)snprintf(head, sizeof(head), "service %s", ce->ce_name);
	if (nmsgs == -1)
		state = config_dump_off_reason(vals, defs, id, why,
		    sizeof(why));
	else if (config_is_rpc(vals))
		state = "not started: RPC services are not supported";
	else
		for (i = nmsgs; i < cd->cd_nmsgs; i++)
			if (cd->cd_msgs[i].dm_level == DIAG_DISABLE) {
				(void)snprintf(why, sizeof(why), "left out on "
				    "this machine: %s", cd->cd_msgs[i].dm_text);
				state = why;
				break;
			}
	config_dump_entry(cf, head, ce->ce_file, ce->ce_line, vals, state);
}

/* Merge defaults into a service entry and build it if enabled. */
static void
config_add_service(struct config *cf, const struct conf_entry *ce,
    struct attr_val *defs, struct conf_diag *cd, int flags)
{
	struct attr_val		*vals;
	struct service_conf	*sc;
	int			 off, nmsgs;

	vals = config_vals_new();
	config_merge_service(vals, defs, ce, cd);
	nmsgs = cd->cd_nmsgs;
	if (config_is_disabled(vals, defs, ce->ce_name, cd)) {
		cf->cf_ndisabled++;
		if (flags & CONF_DUMP)
			config_dump_service(cf, ce, vals, defs, cd, -1);
		config_vals_free(vals);
		return;
	}
	if (config_is_rpc(vals)) {
		conf_warn(cd, ce->ce_file, ce->ce_line, "service %s: RPC "
		    "services are not supported; it is not started",
		    ce->ce_name);
		cf->cf_ndisabled++;
	} else if ((sc = config_build_service(cf, ce, vals, cd, &off)) !=
	    NULL) {
		cf->cf_services = xreallocarray(cf->cf_services,
		    cf->cf_nservices + 1, sizeof(sc));
		cf->cf_services[cf->cf_nservices++] = sc;
	} else if (off) {
		cf->cf_off = xreallocarray(cf->cf_off, cf->cf_noff + 1,
		    sizeof(*cf->cf_off));
		cf->cf_off[cf->cf_noff++] = xstrdup(
		    config_val(vals, "id")->av_set ?
		    config_val(vals, "id")->av_words[0] : ce->ce_name);
	}
	if (flags & CONF_DUMP)
		config_dump_service(cf, ce, vals, defs, cd, nmsgs);
	config_vals_free(vals);
}

/* Open the access log of every service; returns -1 after errors. */
static int
config_open_logs(struct config *cf, struct conf_diag *cd)
{
	struct service_conf	*sc;
	char			 err[256];
	int			 i, rc = 0;

	for (i = 0; i < cf->cf_nservices; i++) {
		sc = cf->cf_services[i];
		if ((sc->sc_log = accesslog_open(&sc->sc_logtype, err,
		    sizeof(err))) == NULL) {
			conf_error(cd, sc->sc_file, sc->sc_line,
			    "service %s: log_type: %s", sc->sc_id, err);
			rc = -1;
		}
	}
	return rc;
}

/* Keep the findings that left services out, for the daemon's log. */
static void
config_keep_offmsgs(struct config *cf, const struct conf_diag *cd)
{
	int	i;

	for (i = 0; i < cd->cd_nmsgs; i++) {
		if (cd->cd_msgs[i].dm_level != DIAG_DISABLE)
			continue;
		cf->cf_offmsgs = xreallocarray(cf->cf_offmsgs,
		    cf->cf_noffmsgs + 1, sizeof(*cf->cf_offmsgs));
		cf->cf_offmsgs[cf->cf_noffmsgs++] =
		    xstrdup(cd->cd_msgs[i].dm_text);
	}
}

struct config *
config_load(const char *path, int flags, struct conf_diag *cd)
{
	struct conf_tree	 tree;
	struct config		*cf;
	struct attr_val		*defs;
	int			 i;

	conf_parse(path, &tree, cd);
	cf = xcalloc(1, sizeof(*cf));
	cf->cf_refcnt = 1;
	cf->cf_path = xstrdup(path);
	defs = config_vals_new();
	config_merge_defaults(defs, &tree, cd);
	config_check_defaults(cf, defs, cd);
	if (flags & CONF_DUMP)
		config_dump_entry(cf, "defaults", path, 0, defs, NULL);
	for (i = 0; i < tree.ct_nentries; i++)
		if (tree.ct_entries[i].ce_kind == ENTRY_SERVICE)
			config_add_service(cf, &tree.ct_entries[i], defs, cd,
			    flags);
	config_vals_free(defs);
	config_check_tcpmux_names(cf, cd);
	config_keep_offmsgs(cf, cd);
	/* Statements point into the file names: the config keeps them. */
	cf->cf_files = tree.ct_files;
	tree.ct_files = NULL;
	conf_tree_free(&tree);
	if (cd->cd_errors == 0 && !(flags & CONF_CHECK_ONLY))
		(void)config_open_logs(cf, cd);
	if (cd->cd_errors > 0) {
		config_unref(cf);
		return NULL;
	}
	return cf;
}

void
config_ref(struct config *cf)
{
	cf->cf_refcnt++;
}

void
config_unref(struct config *cf)
{
	int	i;

	if (cf == NULL || --cf->cf_refcnt > 0)
		return;
	for (i = 0; i < cf->cf_nservices; i++)
		config_service_free(cf->cf_services[i]);
	free(cf->cf_services);
	free(cf->cf_worker_user);
	free(cf->cf_control_socket);
	config_bans_clear(&cf->cf_bans);
	for (i = 0; i < cf->cf_noff; i++)
		free(cf->cf_off[i]);
	free(cf->cf_off);
	for (i = 0; i < cf->cf_noffmsgs; i++)
		free(cf->cf_offmsgs[i]);
	free(cf->cf_offmsgs);
	free(cf->cf_dump);
	for (i = 0; cf->cf_files != NULL && cf->cf_files[i] != NULL; i++)
		free(cf->cf_files[i]);
	free(cf->cf_files);
	free(cf->cf_path);
	free(cf);
}
