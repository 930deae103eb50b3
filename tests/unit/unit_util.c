/* Helpers shared by the unit test programs; see unit_util.h. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

struct sockaddr *
unit_sockaddr(struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)ss;
	int			 ok;

	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':') != NULL) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		ok = inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1;
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		ok = inet_pton(AF_INET, addr, &sin->sin_addr) == 1;
	}
	if (!ok)
		fail_msg("bad address %s", addr);
	return (struct sockaddr *)ss;
}

const char *
unit_path(const char *dir, const char *name)
{
	static char	 bufs[8][PATH_MAX];
	static int	 next;
	char		*b = bufs[next++ % 8];
	int		 n;

	n = snprintf(b, PATH_MAX, "%s/%s", dir, name);
	assert_true(n > 0 && n < PATH_MAX);
	return b;
}

void
unit_expand(const char *dir, const char *pat, char *out, size_t len)
{
	size_t	 o = 0, dl = strlen(dir);

	for (; *pat != '\0'; pat++) {
		if (*pat == '@') {
			assert_true(o + dl < len);
			memcpy(out + o, dir, dl);
			o += dl;
		} else {
			assert_true(o + 1 < len);
			out[o++] = *pat;
		}
	}
	out[o] = '\0';
}

void
unit_dump_diags(const struct conf_diag *cd)
{
	int	i;

	print_message("diagnostics (%d):\n", cd->cd_nmsgs);
	for (i = 0; i < cd->cd_nmsgs; i++)
		print_message("  %s\n", cd->cd_msgs[i].dm_text);
}
