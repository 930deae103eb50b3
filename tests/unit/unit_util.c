/* Helpers shared by the unit test programs; see unit_util.h. */
#include <sys/types.h>
#include <sys/stat.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "unit_util.h"

/* nftw() callback: remove one entry, the deepest first. */
static int
unit_rm_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
unit_rm_tree(const char *path)
{
	return nftw(path, unit_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

struct unit_fx *
unit_fx_new(void)
{
	struct unit_fx	*fx;

	if ((fx = calloc(1, sizeof(*fx))) == NULL)
		return NULL;
	fx->sc.sc_instances = LIMIT_UNLIMITED;
	fx->sc.sc_per_source = LIMIT_UNLIMITED;
	fx->sc.sc_per_source_prefix6 = 64;
	if ((fx->li = quota_new()) == NULL) {
		free(fx);
		return NULL;
	}
	quota_deny_clear();
	return fx;
}
