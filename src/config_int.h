/*
 * Shared by the files that build a configuration: config_merge.c
 * (statements and defaults into merged values), config_check.c (what
 * attributes require of each other, once the setters ran) and config.c
 * (build, load, free).  config.c calls the other two; they call neither
 * config.c nor each other.
 */
#ifndef PORTGATE_CONFIG_INT_H
#define PORTGATE_CONFIG_INT_H

#include "conf_attr.h"
#include "conf_diag.h"
#include "conf_parse.h"
#include "config.h"

/* config_merge.c */

/* A merged value per row of attr_table, all unset; config_vals_free(). */
struct attr_val	*config_vals_new(void);
void		 config_vals_free(struct attr_val *);
/* The merged value of attribute <name> (which must exist). */
struct attr_val	*config_val(struct attr_val *vals, const char *name);
/* Apply every statement of the defaults entries of <tree> to <defs>. */
void		 config_merge_defaults(struct attr_val *defs,
		    const struct conf_tree *tree, struct conf_diag *cd);
/* Merge <defs> and the statements of service entry <ce> into <vals>. */
void		 config_merge_service(struct attr_val *vals,
		    struct attr_val *defs, const struct conf_entry *ce,
		    struct conf_diag *cd);
/* Is service <name> switched off by disable, enabled or disabled? */
int		 config_is_disabled(struct attr_val *vals,
		    struct attr_val *defs, const char *name,
		    struct conf_diag *cd);
/* Does `type` say RPC? */
int		 config_is_rpc(struct attr_val *vals);

/* config_dump.c (-T) */

void		 config_dump_printf(struct config *, const char *, ...)
		    LOG_PRINTF(2, 3);
/* One entry <head> of <file>:<line>, its <vals>, why it does not run. */
void		 config_dump_entry(struct config *, const char *head,
		    const char *file, int line, const struct attr_val *vals,
		    const char *state);
/* Why service <id> is disabled, in <buf>. */
const char	*config_dump_off_reason(struct attr_val *vals,
		    struct attr_val *defs, const char *id, char *buf,
		    size_t len);

/* config_check.c */

/*
 * Check what the attributes of <sc>, whose setters ran on <vals>, require
 * of each other, and complete what they imply (port, bind address,
 * protocol, built-in); problems go to <cd>.  Returns the number of
 * findings that disable the service only (DIAG_DISABLE).
 */
int	config_check_service(struct service_conf *sc, struct attr_val *vals,
	    struct conf_diag *cd);
/*
 * Would <sc> listen on the socket of a service already in <cf>?  Then, as
 * xinetd, the later one is disabled: 1 (with a DIAG_DISABLE finding), or 0.
 */
int	config_check_duplicate(const struct config *cf,
	    const struct service_conf *sc, struct conf_diag *cd);
/*
 * Names reached through tcpmux are matched without case: two services of
 * <cf> that differ only in case are an error; with no tcpmux service, none
 * can be reached (a warning).
 */
void	config_check_tcpmux_names(struct config *cf, struct conf_diag *cd);

#endif
