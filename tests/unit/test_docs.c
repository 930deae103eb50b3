/*
 * The documentation moves with the code: every attribute of the
 * attribute table has its entry in the ATTRIBUTES section of
 * portgate.conf(5) (".It Cm name") and every attribute entry there is one
 * the parser knows; each entry says where the attribute may be written
 * as the table does, holds the row's summary and its default; every
 * option that "portgate --help" names is in portgate(8) ("Fl name");
 * every command and option of portgatectl's usage is in portgatectl(8)
 * (".It Cm command", "Fl j") with its arguments, and both portgate(8) and
 * portgate.conf(5) point at it.  The man pages are read from the source
 * tree (PORTGATE_DATA is its tests/data), the binary is PORTGATE_BIN and
 * portgatectl is beside it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../test_skip.h"

#include "conf_attr.h"

/* All that <fp> gives, NUL-terminated. */
static char *
slurp(FILE *fp)
{
	char	*buf = NULL;
	size_t	 len = 0, cap = 0, n;

	do {
		if (cap - len < 4096) {
			cap += 65536;
			assert_non_null(buf = realloc(buf, cap));
		}
		n = fread(buf + len, 1, cap - len - 1, fp);
		len += n;
	} while (n > 0);
	assert_int_equal(ferror(fp), 0);
	buf[len] = '\0';
	return buf;
}

/* The text of doc/<name> of the source tree. */
static char *
doc_read(const char *name)
{
	char		 path[4096], *buf;
	const char	*data = getenv("PORTGATE_DATA");
	FILE		*fp;

	assert_non_null(data);
	(void)snprintf(path, sizeof(path), "%s/../../doc/%s", data, name);
	if ((fp = fopen(path, "r")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	buf = slurp(fp);
	(void)fclose(fp);
	return buf;
}

/* Does <text> hold <macro><name> followed by a space or a line end? */
static int
doc_has(const char *text, const char *macro, const char *name)
{
	char		 want[128];
	const char	*p;
	size_t		 len;

	len = (size_t)snprintf(want, sizeof(want), "%s%s", macro, name);
	for (p = text; (p = strstr(p, want)) != NULL; p += len)
		if (p[len] == ' ' || p[len] == '\n' || p[len] == '\0')
			return 1;
	return 0;
}

/* The ATTRIBUTES section of portgate.conf(5). */
static char *
attributes_section(void)
{
	char	*buf = doc_read("portgate.conf.5"), *start, *end;

	assert_non_null(start = strstr(buf, "\n.Sh ATTRIBUTES\n"));
	if ((end = strstr(start + 1, "\n.Sh ")) != NULL)
		end[1] = '\0';
	memmove(buf, start, strlen(start) + 1);
	return buf;
}

/* Every attribute of the table is documented. */
static void
test_attributes_documented(void **state)
{
	char	*sec = attributes_section();
	int	 i;

	(void)state;
	assert_true(attr_count > 50);
	for (i = 0; i < attr_count; i++)
		if (!doc_has(sec, "\n.It Cm ", attr_table[i].name))
			fail_msg("portgate.conf(5) has no entry for %s",
			    attr_table[i].name);
	free(sec);
}

/*
 * The entry of attribute <name> in <sec>, from its ".It Cm name" line to
 * the next attribute's (nested lists of values are in upper case).
 */
static char *
attr_entry(const char *sec, const char *name)
{
	char		 want[128], *copy;
	const char	*p, *end;
	size_t		 len;

	len = (size_t)snprintf(want, sizeof(want), "\n.It Cm %s", name);
	for (p = sec; (p = strstr(p, want)) != NULL; p += len)
		if (p[len] == ' ' || p[len] == '\n')
			break;
	if (p == NULL)
		fail_msg("portgate.conf(5) has no entry for %s", name);
	p++;
	for (end = p; (end = strstr(end + 1, "\n.It Cm ")) != NULL; )
		if (islower((unsigned char)end[8]))
			break;
	if (end == NULL)
		end = p + strlen(p);
	assert_non_null(copy = strndup(p, (size_t)(end - p)));
	return copy;
}

/* Is <w> an mdoc macro name ("Cm", "Ql", ...)? */
static int
mdoc_macro(const char *w, size_t n)
{
	return n == 2 && isupper((unsigned char)w[0]) &&
	    islower((unsigned char)w[1]);
}

/*
 * The text of <entry> after its first line as a reader sees it: macro
 * names dropped, words joined by one space, no space before punctuation.
 */
static char *
mdoc_plain(const char *entry)
{
	const char	*p, *w;
	char		*out, *q;
	size_t		 n;

	assert_non_null(out = malloc(strlen(entry) + 1));
	q = out;
	p = strchr(entry, '\n');
	for (p = p != NULL ? p + 1 : ""; *p != '\0'; ) {
		w = p + strspn(p, " \t\n");
		if (*w == '\0')
			break;
		n = strcspn(w, " \t\n");
		/* The macro of a request line, and the macros in it. */
		if ((w[0] == '.' && (w == entry || w[-1] == '\n')) ||
		    mdoc_macro(w, n)) {
			p = w + n;
			continue;
		}
		if (q != out && !(strchr(".,;:)", w[0]) != NULL && n == 1))
			*q++ = ' ';
		memcpy(q, w, n);
		q += n;
		p = w + n;
	}
	*q = '\0';
	return out;
}

/* The ".Pq" line of an entry of <ad>: where it goes, list, extension. */
static void
attr_pq(const struct attr_def *ad, char *buf, size_t len)
{
	(void)snprintf(buf, len, ".Pq %s%s%s",
	    ad->scope == ATTR_BOTH ? "service, defaults" :
	    ad->scope == ATTR_SERVICE ? "service" : "defaults",
	    !(ad->flags & ATTR_LIST) ? "" : (ad->flags & ATTR_NODEL) ?
	    "; list, no Ql -=" : "; list",
	    (ad->flags & ATTR_EXTENSION) ? "; extension" : "");
}

/* Check the entry of <name>, for row <ad>, in <sec>. */
static void
attr_entry_check(const char *sec, const char *name,
    const struct attr_def *ad)
{
	char	*entry = attr_entry(sec, name), *plain, pq[128], want[256];
	char	*line2;

	line2 = strchr(entry, '\n');
	assert_non_null(line2);
	line2++;
	attr_pq(ad, pq, sizeof(pq));
	if (strncmp(line2, pq, strlen(pq)) != 0 || line2[strlen(pq)] != '\n')
		fail_msg("portgate.conf(5), %s: the line after .It should be "
		    "'%s'", name, pq);
	plain = mdoc_plain(entry);
	if (strcmp(name, ad->name) != 0) {
		/* An alias says whose it is. */
		(void)snprintf(want, sizeof(want), "The same as %s.",
		    ad->name);
		if (strstr(plain, want) == NULL)
			fail_msg("portgate.conf(5), %s: no '%s'", name, want);
	} else if (strstr(plain, ad->summary) == NULL)
		fail_msg("portgate.conf(5), %s: the summary of the table, "
		    "'%s', is not in the entry: %s", name, ad->summary, plain);
	if (ad->default_text != NULL) {
		(void)snprintf(want, sizeof(want), "Default: %s",
		    ad->default_text);
		if (strstr(plain, want) == NULL)
			fail_msg("portgate.conf(5), %s: no '%s'", name, want);
	}
	free(plain);
	free(entry);
}

/*
 * Each entry agrees with its row: the scope, list and extension line,
 * the summary, and the default; an alias has its own entry.
 */
static void
test_attributes_described(void **state)
{
	char	*sec = attributes_section(), *plain;
	int	 i, aliases = 0;

	(void)state;
	for (i = 0; i < attr_count; i++) {
		attr_entry_check(sec, attr_table[i].name, &attr_table[i]);
		if (attr_table[i].alias != NULL) {
			attr_entry_check(sec, attr_table[i].alias,
			    &attr_table[i]);
			aliases++;
		}
	}
	assert_int_equal(aliases, 1);
	/* The reader's text, as the checks above see it. */
	plain = mdoc_plain(".It Cm x\n.Pq service\n.Cm yes :\nevery "
	    "client\n.Ql 50 10 .\n(see\n.Sx Foo ) .\n");
	assert_string_equal(plain, "service yes: every client 50 10. (see "
	    "Foo).");
	free(plain);
	free(sec);
}

/*
 * Every entry of the section named in lower case (attributes; values and
 * log fields are in upper case) is an attribute the parser knows.
 */
static void
test_entries_known(void **state)
{
	char		*sec = attributes_section(), name[128];
	const char	*p;
	size_t		 n;
	int		 entries = 0;

	(void)state;
	for (p = sec; (p = strstr(p, "\n.It Cm ")) != NULL; ) {
		p += strlen("\n.It Cm ");
		n = strcspn(p, " \n");
		if (n == 0 || n >= sizeof(name) || !islower((unsigned char)*p))
			continue;
		memcpy(name, p, n);
		name[n] = '\0';
		if (attr_lookup(name) == -1)
			fail_msg("portgate.conf(5) documents %s, which the "
			    "parser does not know", name);
		entries++;
	}
	assert_true(entries >= attr_count);
	free(sec);
}

/*
 * Every option that --help names, in use or accepted and ignored
 * ("-cc N"), is in portgate(8).
 */
static void
test_options_documented(void **state)
{
	const char	*bin = getenv("PORTGATE_BIN");
	char		 cmd[4200], *man, *help, *line, *next, *tok, *save;
	FILE		*fp;
	int		 n = 0, opts;

	(void)state;
	assert_non_null(bin);
	(void)snprintf(cmd, sizeof(cmd), "'%s' --help", bin);
	assert_non_null(fp = popen(cmd, "r"));
	help = slurp(fp);
	assert_int_equal(pclose(fp), 0);
	man = doc_read("portgate.8");
	for (line = help; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		/* "  -f, --config FILE  text": the names up to the value */
		opts = strncmp(line, "  -", 3) == 0;
		if (!opts && (tok = strchr(line, ':')) != NULL &&
		    strstr(line, "ignored") != NULL)
			line = tok + 1;
		else if (!opts)
			continue;
		for (tok = strtok_r(line, " ,", &save); tok != NULL;
		    tok = strtok_r(NULL, " ,", &save)) {
			if (tok[0] != '-' && opts)
				break;
			if (tok[0] != '-')
				continue;
			if (!doc_has(man, "Fl ", tok + 1))
				fail_msg("portgate(8) does not document %s", tok);
			n++;
		}
	}
	assert_true(n >= 20);
	free(help);
	free(man);
}

/* The text of one "portgatectl" run with <args>, from standard error. */
static char *
ctl_usage(const char *args, int *status)
{
	const char	*bin = getenv("PORTGATE_BIN");
	char		 cmd[4200], *text;
	FILE		*fp;
	int		 st;

	assert_non_null(bin);
	/* portgatectl is built beside portgate. */
	(void)snprintf(cmd, sizeof(cmd), "'%.*sportgatectl' %s 2>&1",
	    (int)(strrchr(bin, '/') != NULL ? strrchr(bin, '/') - bin + 1 : 0),
	    bin, args);
	assert_non_null(fp = popen(cmd, "r"));
	text = slurp(fp);
	st = pclose(fp);
	assert_true(WIFEXITED(st));
	*status = WEXITSTATUS(st);
	return text;
}

/*
 * The synopsis of the entry ".It Cm <verb> ..." of <man> as usage writes
 * it, in lower case: "Ar a b Op Ar c" is "a b [c]", "Oo"/"Oc" are "["/"]".
 * NULL when there is no such entry.
 */
static char *
ctl_entry(const char *man, const char *verb, char *buf, size_t len)
{
	char		 want[128], line[256], *tok, *save;
	const char	*p;
	size_t		 n, k;
	int		 op = 0;

	k = (size_t)snprintf(want, sizeof(want), "\n.It Cm %s", verb);
	for (p = man; (p = strstr(p, want)) != NULL; p += k)
		if (p[k] == ' ' || p[k] == '\n')
			break;
	if (p == NULL)
		return NULL;
	p += k;
	(void)snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
	n = (size_t)snprintf(buf, len, "%s", verb);
	for (tok = strtok_r(line, " ", &save); tok != NULL && n + 3 < len;
	    tok = strtok_r(NULL, " ", &save)) {
		if (strcmp(tok, "Ar") == 0)
			continue;
		/* Op encloses the rest of the line, Oo up to its Oc. */
		op += strcmp(tok, "Op") == 0;
		if (strcmp(tok, "Oc") == 0) {
			buf[n++] = ']';
			continue;
		}
		/* A word or bracket after a bracket follows it at once. */
		if (buf[n - 1] != '[')
			buf[n++] = ' ';
		if (strcmp(tok, "Op") == 0 || strcmp(tok, "Oo") == 0)
			buf[n++] = '[';
		else
			for (; *tok != '\0' && n + 1 < len; tok++)
				buf[n++] = (char)tolower((unsigned char)*tok);
		buf[n] = '\0';
	}
	for (; op > 0 && n + 1 < len; op--)
		buf[n++] = ']';
	buf[n] = '\0';
	return buf;
}

/*
 * Every command of portgatectl's usage ("\tban ADDRESS [SECONDS]") has its
 * entry in portgatectl(8) with the same arguments (".It Cm ban Ar address
 * Op Ar seconds"), and so do its options; the two other pages name it.
 */
static void
test_ctl_documented(void **state)
{
	char	*usage, *man, *line, *next, *p, entry[256];
	int	 status, n = 0;

	(void)state;
	usage = ctl_usage("-h", &status);
	/* A usage error: status 2, as the page says. */
	assert_int_equal(status, 2);
	man = doc_read("portgatectl.8");
	for (line = usage; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] != '\t')
			continue;
		for (p = ++line; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		p = strchr(line, ' ');
		if (p != NULL)
			*p = '\0';
		if (ctl_entry(man, line, entry, sizeof(entry)) == NULL)
			fail_msg("portgatectl(8) has no entry for %s", line);
		if (p != NULL)
			*p = ' ';
		if (strcmp(entry, line) != 0)
			fail_msg("portgatectl(8) says '%s', its usage '%s'",
			    entry, line);
		n++;
	}
	assert_true(n >= 9);
	assert_true(doc_has(man, "Fl ", "j"));
	assert_true(doc_has(man, "Fl ", "s"));
	free(man);
	free(usage);
	man = doc_read("portgate.8");
	assert_true(doc_has(man, ".Xr ", "portgatectl 8"));
	free(man);
	man = doc_read("portgate.conf.5");
	assert_true(doc_has(man, ".Xr ", "portgatectl 8"));
	free(man);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attributes_documented),
		cmocka_unit_test(test_entries_known),
		cmocka_unit_test(test_attributes_described),
		cmocka_unit_test(test_options_documented),
		cmocka_unit_test(test_ctl_documented),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
