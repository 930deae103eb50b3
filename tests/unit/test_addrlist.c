/*
 * Unit tests of addrlist.c: every address form of xinetd.conf(5), the
 * portgate departures (::1/128, most specific rule wins) and a random
 * cross-check of the tries against a plain linear scan.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <netdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "addrlist.h"
#include "unit_util.h"

#define MAXWORDS	64

/* Parse the space-separated words of <list>; fails the test on error. */
static struct addrlist *
build(const char *list)
{
	char		 buf[1024], *words[MAXWORDS], *p, err[256];
	struct addrlist	*al;
	int		 n = 0, bad;

	snprintf(buf, sizeof(buf), "%s", list);
	for (p = strtok(buf, " "); p != NULL; p = strtok(NULL, " "))
		words[n++] = p;
	al = addrlist_parse(words, n, err, sizeof(err), &bad);
	if (al == NULL)
		fail_msg("parse \"%s\": %s (word %d)", list, err, bad);
	return (al);
}

/* Parse one word that must be refused; returns the error text. */
static void
refuse(const char *word, char *err, size_t errlen)
{
	char		 first[] = "10.0.0.0/8", second[256], *words[2];
	struct addrlist	*al;
	int		 bad = 42;

	snprintf(second, sizeof(second), "%s", word);
	words[0] = first;
	words[1] = second;
	err[0] = '\0';
	al = addrlist_parse(words, 2, err, errlen, &bad);
	if (al != NULL) {
		addrlist_free(al);
		fail_msg("\"%s\" was accepted", word);
	}
	assert_int_equal(bad, 1);
	if (strstr(err, word) == NULL)
		fail_msg("error \"%s\" does not name \"%s\"", err, word);
}

/*
 * Match <addr> (and <revname>) against <al> and check the result: <rule>
 * NULL means no match expected.
 */
static void
expect(const struct addrlist *al, const char *addr, const char *revname,
    const char *rule, int spec)
{
	struct sockaddr_storage	 ss;
	struct addrmatch	 m;
	const struct sockaddr	*sa;
	int			 rc;

	sa = addr == NULL ? NULL : unit_sockaddr(&ss, addr, 0);
	memset(&m, 0x5a, sizeof(m));
	rc = addrlist_match(al, sa, revname, &m);
	if (rule == NULL) {
		if (rc != 0 || m.am_matched != 0)
			fail_msg("%s (%s) matched \"%s\" (%d), expected none",
			    addr ? addr : "-", revname ? revname : "-",
			    m.am_rule, m.am_specificity);
		assert_int_equal(m.am_specificity, -1);
		assert_string_equal(m.am_rule, "");
		return;
	}
	if (rc != 1 || m.am_matched != 1)
		fail_msg("%s (%s) did not match, expected \"%s\"",
		    addr ? addr : "-", revname ? revname : "-", rule);
	if (strcmp(m.am_rule, rule) != 0 || m.am_specificity != spec)
		fail_msg("%s (%s) matched \"%s\" (%d), expected \"%s\" (%d)",
		    addr ? addr : "-", revname ? revname : "-", m.am_rule,
		    m.am_specificity, rule, spec);
}

/* An empty list is valid and matches nothing. */
static void
test_empty(void **state)
{
	struct addrlist	*al;
	char		 err[64];

	(void)state;
	al = addrlist_parse(NULL, 0, err, sizeof(err), NULL);
	assert_non_null(al);
	assert_int_equal(addrlist_needs_name(al), 0);
	assert_int_equal(addrlist_count(al), 0);
	expect(al, "10.0.0.1", "a.example.com", NULL, 0);
	expect(al, "::1", NULL, NULL, 0);
	addrlist_free(al);
	addrlist_free(NULL);
}

/* IPv4 CIDR, /0 to /32, host bits ignored. */
static void
test_cidr_v4(void **state)
{
	struct addrlist	*al;

	(void)state;
	al = build("10.0.0.0/8 192.0.2.1/32 172.16.5.4/12");
	assert_int_equal(addrlist_count(al), 3);
	expect(al, "10.1.2.3", NULL, "10.0.0.0/8", 104);
	expect(al, "10.255.255.255", NULL, "10.0.0.0/8", 104);
	expect(al, "11.0.0.0", NULL, NULL, 0);
	expect(al, "9.255.255.255", NULL, NULL, 0);
	expect(al, "192.0.2.1", NULL, "192.0.2.1/32", 128);
	expect(al, "192.0.2.2", NULL, NULL, 0);
	expect(al, "172.31.0.1", NULL, "172.16.5.4/12", 108);
	expect(al, "172.32.0.1", NULL, NULL, 0);
	expect(al, "2001:db8::1", NULL, NULL, 0);
	addrlist_free(al);

	al = build("0.0.0.0/0");
	expect(al, "1.2.3.4", NULL, "0.0.0.0/0", 96);
	expect(al, "255.255.255.255", NULL, "0.0.0.0/0", 96);
	expect(al, "::ffff:1.2.3.4", NULL, "0.0.0.0/0", 96);
	expect(al, "2001:db8::1", NULL, NULL, 0);
	addrlist_free(al);
}

/* IPv6 CIDR and addresses; ::1/128 matches ::1 (xinetd's bug is gone). */
static void
test_cidr_v6(void **state)
{
	struct addrlist	*al;

	(void)state;
	al = build("2001:db8::/32 ::1/128 fe80::1 2001:db8:1::/48");
	expect(al, "::1", NULL, "::1/128", 128);
	expect(al, "::2", NULL, NULL, 0);
	expect(al, "2001:db8:ffff::5", NULL, "2001:db8::/32", 32);
	expect(al, "2001:db8:1::5", NULL, "2001:db8:1::/48", 48);
	expect(al, "2001:db9::", NULL, NULL, 0);
	expect(al, "fe80::1", NULL, "fe80::1", 128);
	expect(al, "fe80::2", NULL, NULL, 0);
	expect(al, "127.0.0.1", NULL, NULL, 0);
	addrlist_free(al);

	al = build("::/0");
	expect(al, "2001:db8::1", NULL, "::/0", 0);
	expect(al, "10.0.0.1", NULL, "::/0", 0);
	addrlist_free(al);

	al = build("2001:db8::ff/120");
	expect(al, "2001:db8::1", NULL, "2001:db8::ff/120", 120);
	expect(al, "2001:db8::100", NULL, NULL, 0);
	addrlist_free(al);
}

/* IPv4-mapped clients meet IPv4 rules, and mapped rules IPv4 clients. */
static void
test_mapped(void **state)
{
	struct addrlist	*al;

	(void)state;
	al = build("10.0.0.0/8 127.0.0.1");
	expect(al, "::ffff:10.1.2.3", NULL, "10.0.0.0/8", 104);
	expect(al, "::ffff:127.0.0.1", NULL, "127.0.0.1", 128);
	expect(al, "::ffff:127.0.0.2", NULL, NULL, 0);
	expect(al, "::10.1.2.3", NULL, NULL, 0);	/* IPv4-compatible */
	expect(al, "::ffff:0:10.1.2.3", NULL, NULL, 0); /* SIIT, not mapped */
	addrlist_free(al);

	al = build("::ffff:10.0.0.0/104 ::ffff:192.0.2.7 ::ffff:0:0/96");
	expect(al, "10.9.9.9", NULL, "::ffff:10.0.0.0/104", 104);
	expect(al, "192.0.2.7", NULL, "::ffff:192.0.2.7", 128);
	expect(al, "8.8.8.8", NULL, "::ffff:0:0/96", 96);
	expect(al, "2001:db8::1", NULL, NULL, 0);
	addrlist_free(al);

	/* An IPv6 prefix covering ::ffff:0:0/96 covers every IPv4 client. */
	al = build("::/80 2001:db8::/32");
	expect(al, "192.0.2.1", NULL, "::/80", 80);
	expect(al, "::1", NULL, "::/80", 80);
	expect(al, "2001:db8::1", NULL, "2001:db8::/32", 32);
	expect(al, "2002::1", NULL, NULL, 0);
	addrlist_free(al);
}

/* "0", "0.0.0.0" and "::" mean everyone, IPv4 and IPv6. */
static void
test_everyone(void **state)
{
	static const char *forms[] = { "0", "0.0.0.0", "::" };
	struct addrlist	*al;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		al = build(forms[i]);
		expect(al, "1.2.3.4", NULL, forms[i], 0);
		expect(al, "255.255.255.255", NULL, forms[i], 0);
		expect(al, "::ffff:10.0.0.1", NULL, forms[i], 0);
		expect(al, "2001:db8::1", NULL, forms[i], 0);
		expect(al, "::1", NULL, forms[i], 0);
		addrlist_free(al);
	}
	al = build("0 10.0.0.0/8");
	expect(al, "10.0.0.1", NULL, "10.0.0.0/8", 104);
	expect(al, "11.0.0.1", NULL, "0", 0);
	addrlist_free(al);
}

/* xinetd's trailing-zero networks. */
static void
test_trailing_zero(void **state)
{
	struct addrlist	*al;

	(void)state;
	al = build("128.138.0.0");
	expect(al, "128.138.200.1", NULL, "128.138.0.0", 112);
	expect(al, "128.139.0.1", NULL, NULL, 0);
	addrlist_free(al);

	al = build("128.138.12.0");
	expect(al, "128.138.12.254", NULL, "128.138.12.0", 120);
	expect(al, "128.138.13.1", NULL, NULL, 0);
	addrlist_free(al);

	al = build("127.0.0.0");
	expect(al, "127.1.2.3", NULL, "127.0.0.0", 104);
	expect(al, "::ffff:127.255.0.1", NULL, "127.0.0.0", 104);
	expect(al, "126.0.0.1", NULL, NULL, 0);
	addrlist_free(al);

	/* Only trailing zeros count: 10.0.1.0 is 10.0.1/24. */
	al = build("10.0.1.0 192.0.2.1");
	expect(al, "10.0.1.9", NULL, "10.0.1.0", 120);
	expect(al, "10.1.1.9", NULL, NULL, 0);
	expect(al, "192.0.2.1", NULL, "192.0.2.1", 128);
	expect(al, "192.0.2.0", NULL, NULL, 0);
	addrlist_free(al);
}

/* Factorised a.b.{x,y}: one network per value, the word as the rule. */
static void
test_factorised(void **state)
{
	struct addrlist	*al;

	(void)state;
	al = build("128.138.{10,11,12}.0");
	expect(al, "128.138.10.1", NULL, "128.138.{10,11,12}.0", 120);
	expect(al, "128.138.11.5", NULL, "128.138.{10,11,12}.0", 120);
	expect(al, "::ffff:128.138.12.255", NULL, "128.138.{10,11,12}.0",
	    120);
	expect(al, "128.138.13.1", NULL, NULL, 0);
	expect(al, "128.138.9.1", NULL, NULL, 0);
	addrlist_free(al);

	al = build("128.138.{200,201}");
	expect(al, "128.138.201.7", NULL, "128.138.{200,201}", 120);
	expect(al, "128.138.202.7", NULL, NULL, 0);
	addrlist_free(al);

	/* The braced group always counts: 10.{0,1} is 10.0/16 and 10.1/16. */
	al = build("10.{0,1}");
	expect(al, "10.0.5.5", NULL, "10.{0,1}", 112);
	expect(al, "10.1.0.1", NULL, "10.{0,1}", 112);
	expect(al, "10.2.0.1", NULL, NULL, 0);
	addrlist_free(al);

	al = build("{10,11}.0.0.0 192.0.2.{1,3}");
	expect(al, "11.2.3.4", NULL, "{10,11}.0.0.0", 104);
	expect(al, "12.2.3.4", NULL, NULL, 0);
	expect(al, "192.0.2.3", NULL, "192.0.2.{1,3}", 128);
	expect(al, "192.0.2.2", NULL, NULL, 0);
	addrlist_free(al);
}

/* Bad factorised forms and commas. */
static void
test_factorised_bad(void **state)
{
	static const char *bad[] = {
		"128.138.{10,256}", "128.{1,2}.3", "1.2.3.{4,}", "1.2.{,3}",
		"{}", "1.2.3.4.{5}", "1.2.{3}.0.0", "1.2.{3,4}/24",
		"1.2.{3}{4}", "1.2.{3,4", "1.2.3,4}", "1..{3}", "a.b.{1,2}",
		"1.2.{3}.1", "10.0.0.1,10.0.0.2", "10.0.0.0/8,",
		"1.2.{3}.0,", "1.2.{3 4}", "1.2.{1234}",
	};
	char	 err[256];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refuse(bad[i], err, sizeof(err));
	refuse("10.0.0.1,10.0.0.2", err, sizeof(err));
	assert_non_null(strstr(err, "comma"));
}

/* Network names from /etc/networks (skipped where "loopback" is absent). */
static void
test_network(void **state)
{
	struct addrlist	*al;
	struct netent	*ne;

	(void)state;
	ne = getnetbyname("loopback");
	if (ne == NULL || ne->n_addrtype != AF_INET ||
	    (ne->n_net != 127 && ne->n_net != 0x7f000000)) {
		print_message("no \"loopback\" 127 in /etc/networks; "
		    "network assertion skipped\n");
		return;
	}
	al = build("loopback 127.0.0.1");
	expect(al, "127.5.6.7", NULL, "loopback", 104);
	expect(al, "127.0.0.1", NULL, "127.0.0.1", 128);
	expect(al, "128.0.0.1", NULL, NULL, 0);
	addrlist_free(al);
}

/* A host name is resolved at load; its addresses are host rules. */
static void
test_hostname(void **state)
{
	struct addrlist	*al;
	char		 err[256];

	(void)state;
	al = build("localhost 127.0.0.0/8");
	expect(al, "127.0.0.1", NULL, "localhost", 128);
	expect(al, "::ffff:127.0.0.1", NULL, "localhost", 128);
	expect(al, "127.0.0.2", NULL, "127.0.0.0/8", 104);
	assert_int_equal(addrlist_needs_name(al), 0);
	addrlist_free(al);

	refuse("no-such-host.invalid", err, sizeof(err));
	assert_non_null(strstr(err, "does not resolve"));
}

/* .domain rules: case-insensitive suffixes of the reverse name. */
static void
test_domain(void **state)
{
	struct addrlist	*al;

	(void)state;
	al = build(".example.com .a.example.com. 10.0.0.0/24");
	assert_int_equal(addrlist_needs_name(al), 1);
	expect(al, "192.0.2.1", "host.example.com", ".example.com", 122);
	expect(al, "192.0.2.1", "HOST.Example.COM.", ".example.com", 122);
	expect(al, "192.0.2.1", "x.a.example.com", ".a.example.com.", 123);
	expect(al, "192.0.2.1", "x.y.A.EXAMPLE.com", ".a.example.com.", 123);
	expect(al, "192.0.2.1", "a.example.com", ".example.com", 122);
	expect(al, "192.0.2.1", "example.com", NULL, 0);
	expect(al, "192.0.2.1", ".example.com", NULL, 0);
	expect(al, "192.0.2.1", "badexample.com", NULL, 0);
	expect(al, "192.0.2.1", "host.example.com.evil.net", NULL, 0);
	expect(al, "192.0.2.1", "", NULL, 0);
	expect(al, "192.0.2.1", NULL, NULL, 0);
	/* A .domain ranks above a /24 ... */
	expect(al, "10.0.0.5", "x.example.com", ".example.com", 122);
	expect(al, "10.0.0.5", NULL, "10.0.0.0/24", 120);
	expect(al, NULL, "x.example.com", ".example.com", 122);
	addrlist_free(al);

	/* ... and below a host. */
	al = build(".example.com 10.0.0.5 2001:db8::5");
	expect(al, "10.0.0.5", "x.example.com", "10.0.0.5", 128);
	expect(al, "2001:db8::5", "x.example.com", "2001:db8::5", 128);
	expect(al, "2001:db8::6", "x.example.com", ".example.com", 122);
	addrlist_free(al);

	/* Equal specificity: the rule written first. */
	al = build(".com 10.0.0.0/25");
	expect(al, "10.0.0.1", "a.com", ".com", 121);
	addrlist_free(al);
	al = build("10.0.0.0/25 .com");
	expect(al, "10.0.0.1", "a.com", "10.0.0.0/25", 121);
	addrlist_free(al);

	/* Many labels are capped below a host. */
	al = build(".a.b.c.d.e.f.g.h.example.com");
	expect(al, "10.0.0.1", "x.a.b.c.d.e.f.g.h.example.com",
	    ".a.b.c.d.e.f.g.h.example.com", 127);
	addrlist_free(al);

	/*
	 * Two suffixes at the cap tie: the one written first is named,
	 * whichever is longer, and a longer one below the cap still wins.
	 */
	al = build(".c.d.e.f.g.example.com .a.b.c.d.e.f.g.example.com");
	expect(al, "10.0.0.1", "x.a.b.c.d.e.f.g.example.com",
	    ".c.d.e.f.g.example.com", 127);
	expect(al, "10.0.0.1", "x.b.c.d.e.f.g.example.com",
	    ".c.d.e.f.g.example.com", 127);
	addrlist_free(al);
	al = build(".a.b.c.d.e.f.g.example.com .c.d.e.f.g.example.com");
	expect(al, "10.0.0.1", "x.a.b.c.d.e.f.g.example.com",
	    ".a.b.c.d.e.f.g.example.com", 127);
	expect(al, "10.0.0.1", "x.b.c.d.e.f.g.example.com",
	    ".c.d.e.f.g.example.com", 127);
	addrlist_free(al);
	al = build(".example.com .f.g.example.com .g.example.com");
	expect(al, "10.0.0.1", "x.f.g.example.com", ".f.g.example.com", 124);
	addrlist_free(al);
}

/* The most specific rule wins, whatever the order. */
static void
test_most_specific(void **state)
{
	static const char *lists[] = {
		"10.0.0.0/8 10.1.0.0/16 10.1.2.0/24 10.1.2.3 0",
		"0 10.1.2.3 10.1.2.0/24 10.1.0.0/16 10.0.0.0/8",
		"10.1.2.0/24 0 10.1.2.3 10.0.0.0/8 10.1.0.0/16",
	};
	struct addrlist	*al;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		al = build(lists[i]);
		expect(al, "10.1.2.3", NULL, "10.1.2.3", 128);
		expect(al, "10.1.2.4", NULL, "10.1.2.0/24", 120);
		expect(al, "10.1.3.4", NULL, "10.1.0.0/16", 112);
		expect(al, "10.2.3.4", NULL, "10.0.0.0/8", 104);
		expect(al, "11.2.3.4", NULL, "0", 0);
		expect(al, "2001:db8::1", NULL, "0", 0);
		addrlist_free(al);
	}
	/* Same prefix written twice: the first one. */
	al = build("10.0.0.0/8 10.0.0.0 10.0.0.1/32 10.0.0.1");
	expect(al, "10.9.9.9", NULL, "10.0.0.0/8", 104);
	expect(al, "10.0.0.1", NULL, "10.0.0.1/32", 128);
	addrlist_free(al);
}

/* Words that are no address at all name themselves in the error. */
static void
test_bad_words(void **state)
{
	static const char *words_bad[] = {
		"300.1.2.3", "1.2.3", "127.1", "1.2.3.4.5", "010.0.0.1",
		"10.0.0.0/33", "10.0.0.0/", "/8", "10.0.0.0/-1", "10.0.0.0/8/8",
		"10.0.0.0/1x", "2001:db8::/129", "2001:db8::/x", "::1/",
		"2001:db8:::1", "1:2:3:4:5:6:7:8:9", "gggg::1", "foo$bar",
		"a b", ".", "..example.com", ".a..b", ".10.0", ".exa$mple.com",
		"host..name", "-", "10.0.0.0/0008",
	};
	char		 err[256], empty[] = "", wrong[] = "999.999.999.999";
	char		*words[1];
	struct addrlist	*al;
	size_t		 i;
	int		 bad;

	(void)state;
	for (i = 0; i < sizeof(words_bad) / sizeof(words_bad[0]); i++)
		refuse(words_bad[i], err, sizeof(err));
	refuse("10.0.0.0/33", err, sizeof(err));
	assert_non_null(strstr(err, "0-32"));
	refuse("::/200", err, sizeof(err));
	assert_non_null(strstr(err, "0-128"));

	words[0] = empty;
	al = addrlist_parse(words, 1, err, sizeof(err), &bad);
	assert_null(al);
	assert_int_equal(bad, 0);
	/* A tiny error buffer is not overrun. */
	words[0] = wrong;
	al = addrlist_parse(words, 1, err, 8, &bad);
	assert_null(al);
	assert_int_equal((int)strlen(err), 7);
}

/* am_rule holds the text as written, cut to fit. */
static void
test_rule_text(void **state)
{
	char		 longname[200], list[256];
	struct addrlist	*al;
	struct addrmatch m;
	struct sockaddr_storage ss;
	size_t		 i;

	(void)state;
	longname[0] = '.';
	for (i = 1; i < 150; i++)
		longname[i] = (i % 10 == 0) ? '.' : 'a';
	longname[150] = '\0';
	snprintf(list, sizeof(list), "%s", longname);
	al = build(list);
	assert_int_equal(addrlist_match(al, unit_sockaddr(&ss, "10.0.0.1", 0),
	    "x.example.com", &m), 0);
	snprintf(list, sizeof(list), "x%s", longname);
	assert_int_equal(addrlist_match(al, unit_sockaddr(&ss, "10.0.0.1", 0),
	    list, &m), 1);
	assert_int_equal(strlen(m.am_rule), sizeof(m.am_rule) - 1);
	assert_memory_equal(m.am_rule, longname, sizeof(m.am_rule) - 1);
	addrlist_free(al);
}

/* Deterministic xorshift generator for the cross-check. */
static uint32_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return ((uint32_t)(*s >> 16));
}

struct naive {
	uint32_t	 n_net;
	int		 n_plen;
};

/* The tries agree with a linear scan for the most specific IPv4 rule. */
static void
test_cross_check(void **state)
{
	enum { NRULES = 400, NPROBES = 20000 };
	static char	 text[NRULES][24];
	char		*words[NRULES], want[24], buf[INET_ADDRSTRLEN];
	struct naive	 rules[NRULES];
	struct addrlist	*al;
	struct in_addr	 in;
	uint64_t	 seed = 0x9e3779b97f4a7c15ULL;
	uint32_t	 a, mask;
	int		 i, j, best, spec;

	(void)state;
	for (i = 0; i < NRULES; i++) {
		/* Few top bits so that prefixes nest and overlap often. */
		rules[i].n_net = (rnd(&seed) & 0x0f0f0f0f) | 0x0a000000;
		rules[i].n_plen = (int)(rnd(&seed) % 33);
		in.s_addr = htonl(rules[i].n_net);
		inet_ntop(AF_INET, &in, buf, sizeof(buf));
		snprintf(text[i], sizeof(text[i]), "%s/%d", buf,
		    rules[i].n_plen);
		words[i] = text[i];
	}
	al = addrlist_parse(words, NRULES, want, sizeof(want), NULL);
	assert_non_null(al);
	for (j = 0; j < NPROBES; j++) {
		a = (rnd(&seed) & 0x0f0f0f0f) | 0x0a000000;
		if (j % 3 == 0)
			a = rnd(&seed);
		best = -1;
		spec = -1;
		for (i = 0; i < NRULES; i++) {
			mask = rules[i].n_plen == 0 ? 0 :
			    0xffffffffU << (32 - rules[i].n_plen);
			if ((a & mask) == (rules[i].n_net & mask) &&
			    rules[i].n_plen + 96 > spec) {
				best = i;
				spec = rules[i].n_plen + 96;
			}
		}
		in.s_addr = htonl(a);
		inet_ntop(AF_INET, &in, buf, sizeof(buf));
		if (best < 0)
			expect(al, buf, NULL, NULL, 0);
		else
			expect(al, buf, NULL, text[best], spec);
	}
	addrlist_free(al);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_cidr_v4),
		cmocka_unit_test(test_cidr_v6),
		cmocka_unit_test(test_mapped),
		cmocka_unit_test(test_everyone),
		cmocka_unit_test(test_trailing_zero),
		cmocka_unit_test(test_factorised),
		cmocka_unit_test(test_factorised_bad),
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_hostname),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_most_specific),
		cmocka_unit_test(test_bad_words),
		cmocka_unit_test(test_rule_text),
		cmocka_unit_test(test_cross_check),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
