/* Unit tests for allowlist.c: the networks and patterns of /probe. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "allowlist.h"
#include "resolve.h"
#include "result.h"

#define NEITHER                                                                \
	" is neither a network (10.0.0.0/8) nor a host pattern "               \
	"(*.example.com)"

struct refusal {
	const char *spec;
	const char *msg;
};

/* Add spec, or fail the test with the message allowlist_add gave. */
static void
allow(struct allowlist *al, const char *spec)
{
	char err[512] = "";

	if (allowlist_add(al, spec, err, sizeof(err)) != 0)
		fail_msg("\"%s\" refused: %s", spec, err);
}

/* Each spec is refused, with exactly its message, and adds nothing. */
static void
expect_refusals(const struct refusal *cases, size_t n)
{
	struct allowlist al;
	char err[512];
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&al, 0, sizeof(al));
		err[0] = '\0';
		if (allowlist_add(&al, cases[i].spec, err, sizeof(err)) != -1)
			fail_msg("\"%s\" accepted", cases[i].spec);
		if (strcmp(err, cases[i].msg) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"",
			    cases[i].spec, err, cases[i].msg);
		if (al.nnets != 0 || al.npatterns != 0)
			fail_msg("\"%s\" left %zu networks, %zu patterns",
			    cases[i].spec, al.nnets, al.npatterns);
		allowlist_free(&al);
	}
}

/* Network i of al is family/prefix over the address text want. */
static void
expect_net(const struct allowlist *al, size_t i, int family, unsigned prefix,
    const char *want)
{
	uint8_t b[16];

	memset(b, 0, sizeof(b));
	assert_true(i < al->nnets);
	assert_int_equal(inet_pton(family, want, b), 1);
	assert_int_equal(al->nets[i].family, family);
	assert_int_equal(al->nets[i].prefix, prefix);
	assert_memory_equal(al->nets[i].addr, b, sizeof(b));
}

/* The socket address of a literal, with the family it spells. */
static struct sockaddr_storage
sa_of(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		fail_msg("\"%s\" is not an address", text);
	return ss;
}

static bool
addr_ok(const struct allowlist *al, const char *text)
{
	struct sockaddr_storage ss = sa_of(text);

	return allowlist_addr_ok(al, (const struct sockaddr *)&ss);
}

/* Append text with port to res, as resolve_host would. */
static void
res_add(struct resolved *res, const char *text, uint16_t port)
{
	struct resolved_addr *a = &res->v[res->n++];

	a->ss = sa_of(text);
	if (a->ss.ss_family == AF_INET) {
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
		a->len = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
		a->len = sizeof(struct sockaddr_in6);
	}
}

/* Entry i of res is the address text on port. */
static void
expect_res(const struct resolved *res, size_t i, const char *text,
    uint16_t port)
{
	const struct resolved_addr *a = &res->v[i];
	char buf[INET6_ADDRSTRLEN];
	uint16_t p;

	resolve_ntop(a, buf, sizeof(buf));
	assert_string_equal(buf, text);
	if (a->ss.ss_family == AF_INET)
		p = ((const struct sockaddr_in *)&a->ss)->sin_port;
	else
		p = ((const struct sockaddr_in6 *)&a->ss)->sin6_port;
	assert_int_equal(ntohs(p), port);
}

/* A name of n octets: labels of "a" joined by dots. */
static char *
name_of_len(size_t n)
{
	char *s = malloc(n + 2);
	size_t i;

	assert_non_null(s);
	for (i = 0; i < n; i++)
		s[i] = i % 2 == 0 ? 'a' : '.';
	if (n > 0)
		s[n - 1] = 'z';
	s[n] = '\0';
	return s;
}

/* Networks of both families parse to their family, prefix and bytes. */
static void
test_parse_networks(void **state)
{
	struct allowlist al = {0};

	allow(&al, "10.0.0.0/8,2001:db8::/32");
	allow(&al, "192.168.128.0/17");
	assert_int_equal(al.nnets, 3);
	assert_int_equal(al.npatterns, 0);
	expect_net(&al, 0, AF_INET, 8, "10.0.0.0");
	expect_net(&al, 1, AF_INET6, 32, "2001:db8::");
	expect_net(&al, 2, AF_INET, 17, "192.168.128.0");
	allowlist_free(&al);
}

/* A bare address is a network of that one address: /32 or /128. */
static void
test_parse_bare_addresses(void **state)
{
	struct allowlist al = {0};

	allow(&al, "192.0.2.7,::1,2001:db8::42");
	assert_int_equal(al.nnets, 3);
	assert_int_equal(al.npatterns, 0);
	expect_net(&al, 0, AF_INET, 32, "192.0.2.7");
	expect_net(&al, 1, AF_INET6, 128, "::1");
	expect_net(&al, 2, AF_INET6, 128, "2001:db8::42");
	allowlist_free(&al);
}

/* Host bits after the prefix are cleared, within a byte and past it. */
static void
test_parse_host_bits_masked(void **state)
{
	struct allowlist al = {0};

	allow(&al, "10.1.2.3/8,192.168.1.255/23,10.255.255.255/9");
	allow(&al, "2001:db8:ffff:ffff::1/33,10.1.2.3/0,ff::1/0");
	assert_int_equal(al.nnets, 6);
	expect_net(&al, 0, AF_INET, 8, "10.0.0.0");
	expect_net(&al, 1, AF_INET, 23, "192.168.0.0");
	expect_net(&al, 2, AF_INET, 9, "10.128.0.0");
	expect_net(&al, 3, AF_INET6, 33, "2001:db8:8000::");
	expect_net(&al, 4, AF_INET, 0, "0.0.0.0");
	expect_net(&al, 5, AF_INET6, 0, "::");
	allowlist_free(&al);
}

/* Prefixes 0 and the family's width are the bounds, both accepted. */
static void
test_parse_prefix_extremes(void **state)
{
	struct allowlist al = {0};

	allow(&al, "0.0.0.0/0,::/0,192.0.2.1/32,2001:db8::1/128");
	assert_int_equal(al.nnets, 4);
	expect_net(&al, 0, AF_INET, 0, "0.0.0.0");
	expect_net(&al, 1, AF_INET6, 0, "::");
	expect_net(&al, 2, AF_INET, 32, "192.0.2.1");
	expect_net(&al, 3, AF_INET6, 128, "2001:db8::1");
	allowlist_free(&al);
}

/* A prefix out of range or not a number names the entry and the range. */
static void
test_parse_bad_prefix(void **state)
{
	static const struct refusal cases[] = {
	    {"10.0.0.0/33", "'10.0.0.0/33': the prefix must be 0..32"},
	    {"::/129", "'::/129': the prefix must be 0..128"},
	    {"10.0.0.0/-1", "'10.0.0.0/-1': the prefix must be 0..32"},
	    {"::/-1", "'::/-1': the prefix must be 0..128"},
	    {"10.0.0.0/x", "'10.0.0.0/x': the prefix must be 0..32"},
	    {"::1/x", "'::1/x': the prefix must be 0..128"},
	    {"10.0.0.0/", "'10.0.0.0/': the prefix must be 0..32"},
	    {"10.0.0.0/ 8", "'10.0.0.0/ 8': the prefix must be 0..32"},
	    {"10.0.0.0/8x", "'10.0.0.0/8x': the prefix must be 0..32"},
	    {"10.0.0.0/8/8", "'10.0.0.0/8/8': the prefix must be 0..32"},
	    {"::/4294967296", "'::/4294967296': the prefix must be 0..128"},
	    {"::/1e2", "'::/1e2': the prefix must be 0..128"},
	};

	expect_refusals(cases, sizeof(cases) / sizeof(cases[0]));
}

/* An empty entry anywhere in the list is refused, quoting the list. */
static void
test_parse_empty_entries(void **state)
{
	static const struct refusal cases[] = {
	    {"", "an empty entry in ''"},
	    {",", "an empty entry in ','"},
	    {",10.0.0.0/8", "an empty entry in ',10.0.0.0/8'"},
	};
	struct allowlist al = {0};
	char err[256] = "";

	expect_refusals(cases, sizeof(cases) / sizeof(cases[0]));
	/* Entries before the empty one may be added; the call still fails. */
	assert_int_equal(allowlist_add(&al, "a,,b", err, sizeof(err)), -1);
	assert_string_equal(err, "an empty entry in 'a,,b'");
	allowlist_free(&al);
	assert_int_equal(allowlist_add(&al, "a.test,", err, sizeof(err)), -1);
	assert_string_equal(err, "an empty entry in 'a.test,'");
	allowlist_free(&al);
}

/* Characters outside names and globs, and a bad address with a prefix,
 * make an entry neither a network nor a pattern. */
static void
test_parse_junk(void **state)
{
	static const struct refusal cases[] = {
	    {"exa mple.com", "'exa mple.com'" NEITHER},
	    {" 10.0.0.0/8", "' 10.0.0.0/8'" NEITHER},
	    {"ex@mple.com", "'ex@mple.com'" NEITHER},
	    {"host:80", "'host:80'" NEITHER},
	    {"a\\*b", "'a\\*b'" NEITHER},
	    {"a/b", "'a/b'" NEITHER},
	    {"/8", "'/8'" NEITHER},
	    {"300.0.0.0/8", "'300.0.0.0/8'" NEITHER},
	    {"example.com/8", "'example.com/8'" NEITHER},
	    {"caf\xc3\xa9.test", "'caf\xc3\xa9.test'" NEITHER},
	    {"a\tb", "'a\tb'" NEITHER},
	    {"{a}.test", "'{a}.test'" NEITHER},
	};

	expect_refusals(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Patterns are kept lower case and in order; globs and '_' are allowed. */
static void
test_parse_patterns(void **state)
{
	struct allowlist al = {0};

	allow(&al, "*.Example.COM,db-??.corp,[A-C]x.test,host_1,[!x]y,*");
	assert_int_equal(al.nnets, 0);
	assert_int_equal(al.npatterns, 6);
	assert_string_equal(al.patterns[0], "*.example.com");
	assert_string_equal(al.patterns[1], "db-??.corp");
	assert_string_equal(al.patterns[2], "[a-c]x.test");
	assert_string_equal(al.patterns[3], "host_1");
	assert_string_equal(al.patterns[4], "[!x]y");
	assert_string_equal(al.patterns[5], "*");
	allowlist_free(&al);
}

/* A pattern may be as long as the longest name, 253, and no longer. */
static void
test_parse_pattern_length(void **state)
{
	struct allowlist al = {0};
	char *ok = name_of_len(253), *big = name_of_len(254);
	char err[512] = "", want[512];

	allow(&al, ok);
	assert_int_equal(al.npatterns, 1);
	assert_int_equal(allowlist_add(&al, big, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "'%s'" NEITHER, big);
	assert_string_equal(err, want);
	assert_int_equal(al.npatterns, 1);
	allowlist_free(&al);
	free(ok);
	free(big);
}

/* ALLOWLIST_MAX entries fit, networks and patterns counted together and
 * across calls; one more is refused and not added. */
static void
test_parse_max_entries(void **state)
{
	struct allowlist al = {0};
	char *spec = malloc(ALLOWLIST_MAX * 16), *p = spec;
	char err[256] = "";
	int i;

	assert_non_null(spec);
	for (i = 0; i < ALLOWLIST_MAX - 1; i++)
		p += sprintf(p, i % 2 == 0 ? "10.0.%d.%d," : "h%d-%d,", i / 256,
		    i % 256);
	p[-1] = '\0';
	allow(&al, spec);
	allow(&al, "last.test");
	assert_int_equal(al.nnets + al.npatterns, ALLOWLIST_MAX);
	assert_int_equal(allowlist_add(&al, "one.more", err, sizeof(err)), -1);
	assert_string_equal(err, "'one.more': more than 1024 entries");
	assert_int_equal(allowlist_add(&al, "10.9.9.9", err, sizeof(err)), -1);
	assert_int_equal(al.nnets + al.npatterns, ALLOWLIST_MAX);
	assert_false(allowlist_host_ok(&al, "one.more"));
	assert_false(addr_ok(&al, "10.9.9.9"));
	allowlist_free(&al);

	/* One list of ALLOWLIST_MAX + 1 entries is refused as a whole. */
	strcat(spec, ",a.test,b.test");
	err[0] = '\0';
	assert_int_equal(allowlist_add(&al, spec, err, sizeof(err)), -1);
	assert_string_equal(err, "'b.test': more than 1024 entries");
	allowlist_free(&al);
	free(spec);
}

/* IPv4 addresses inside a listed network pass, others do not. */
static void
test_addr_ok_ipv4(void **state)
{
	struct allowlist al = {0};

	allow(&al, "10.0.0.0/8,192.0.2.7");
	assert_true(addr_ok(&al, "10.0.0.0"));
	assert_true(addr_ok(&al, "10.255.255.255"));
	assert_true(addr_ok(&al, "192.0.2.7"));
	assert_false(addr_ok(&al, "11.0.0.0"));
	assert_false(addr_ok(&al, "9.255.255.255"));
	assert_false(addr_ok(&al, "192.0.2.8"));
	assert_false(addr_ok(&al, "127.0.0.1"));
	allowlist_free(&al);
}

/* IPv6 addresses inside a listed network pass, others do not. */
static void
test_addr_ok_ipv6(void **state)
{
	struct allowlist al = {0};

	allow(&al, "2001:db8::/32,::1");
	assert_true(addr_ok(&al, "2001:db8::"));
	assert_true(addr_ok(&al, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_true(addr_ok(&al, "::1"));
	assert_false(addr_ok(&al, "2001:db9::1"));
	assert_false(addr_ok(&al, "2001:db7:ffff::1"));
	assert_false(addr_ok(&al, "::2"));
	allowlist_free(&al);
}

/* An IPv4-mapped IPv6 address is judged as the IPv4 address it carries:
 * an IPv4 network allows it, IPv6 networks (even ::/0) do not.  The
 * IPv4-compatible form ::a.b.c.d is plain IPv6. */
static void
test_addr_ok_mapped(void **state)
{
	struct allowlist v4 = {0}, v6 = {0};

	allow(&v4, "10.0.0.0/8");
	allow(&v6, "::/0");
	assert_true(addr_ok(&v4, "::ffff:10.1.2.3"));
	assert_false(addr_ok(&v4, "::ffff:11.1.2.3"));
	assert_false(addr_ok(&v4, "::10.1.2.3"));
	assert_false(addr_ok(&v6, "::ffff:10.1.2.3"));
	assert_true(addr_ok(&v6, "::10.1.2.3"));
	allowlist_free(&v4);
	allowlist_free(&v6);
}

/* A network of one family never allows an address of the other. */
static void
test_addr_ok_family(void **state)
{
	struct allowlist v4 = {0}, v6 = {0};

	allow(&v4, "0.0.0.0/0");
	allow(&v6, "::/0");
	assert_true(addr_ok(&v4, "203.0.113.9"));
	assert_false(addr_ok(&v4, "2001:db8::1"));
	assert_false(addr_ok(&v4, "::"));
	assert_true(addr_ok(&v6, "2001:db8::1"));
	assert_false(addr_ok(&v6, "203.0.113.9"));
	assert_false(addr_ok(&v6, "0.0.0.0"));
	allowlist_free(&v4);
	allowlist_free(&v6);
}

/* Addresses that are not IP, AF_UNIX or AF_UNSPEC, are never allowed. */
static void
test_addr_ok_not_ip(void **state)
{
	struct allowlist al = {0};
	struct sockaddr_un su;
	struct sockaddr_storage ss;

	allow(&al, "0.0.0.0/0,::/0,*");
	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	snprintf(su.sun_path, sizeof(su.sun_path), "/tmp/x");
	assert_false(allowlist_addr_ok(&al, (const struct sockaddr *)&su));
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNSPEC;
	assert_false(allowlist_addr_ok(&al, (const struct sockaddr *)&ss));
	allowlist_free(&al);
}

/* /31 and /127 hold exactly two addresses; /0 holds the whole family. */
static void
test_prefix_boundaries(void **state)
{
	struct allowlist al = {0}, all = {0};

	allow(&al, "192.0.2.4/31,2001:db8::/127,10.128.0.0/9,8000::/1");
	assert_false(addr_ok(&al, "192.0.2.3"));
	assert_true(addr_ok(&al, "192.0.2.4"));
	assert_true(addr_ok(&al, "192.0.2.5"));
	assert_false(addr_ok(&al, "192.0.2.6"));
	assert_true(addr_ok(&al, "2001:db8::"));
	assert_true(addr_ok(&al, "2001:db8::1"));
	assert_false(addr_ok(&al, "2001:db8::2"));
	assert_false(addr_ok(&al, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_true(addr_ok(&al, "10.128.0.0"));
	assert_true(addr_ok(&al, "10.255.255.255"));
	assert_false(addr_ok(&al, "10.127.255.255"));
	assert_true(addr_ok(&al, "8000::"));
	assert_true(addr_ok(&al, "ffff::1"));
	assert_false(addr_ok(&al, "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));

	allow(&all, "0.0.0.0/0,::/0");
	assert_true(addr_ok(&all, "0.0.0.0"));
	assert_true(addr_ok(&all, "255.255.255.255"));
	assert_true(addr_ok(&all, "::"));
	assert_true(addr_ok(&all, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	allowlist_free(&al);
	allowlist_free(&all);
}

/* An empty allowlist allows nothing: no address, no literal, no name. */
static void
test_empty_allowlist(void **state)
{
	struct allowlist al = {0};
	struct resolved res = {0};
	struct result r;

	assert_false(addr_ok(&al, "127.0.0.1"));
	assert_false(addr_ok(&al, "::1"));
	assert_false(allowlist_host_ok(&al, "127.0.0.1"));
	assert_false(allowlist_host_ok(&al, "localhost"));
	res_add(&res, "127.0.0.1", 80);
	result_init(&r);
	assert_int_equal(allowlist_filter(&al, &res, &r), -1);
	assert_int_equal(res.n, 0);
	assert_int_equal(r.reason, REASON_DENIED);
}

/* A literal host is judged by the networks alone, never by a pattern,
 * mapped IPv6 as IPv4. */
static void
test_host_ok_literals(void **state)
{
	struct allowlist al = {0};

	allow(&al, "10.0.0.0/8,2001:db8::/32,*");
	assert_true(allowlist_host_ok(&al, "10.1.2.3"));
	assert_false(allowlist_host_ok(&al, "11.1.2.3"));
	assert_true(allowlist_host_ok(&al, "2001:db8::1"));
	assert_true(allowlist_host_ok(&al, "2001:DB8::1"));
	assert_false(allowlist_host_ok(&al, "2001:db9::1"));
	assert_true(allowlist_host_ok(&al, "::ffff:10.1.2.3"));
	assert_false(allowlist_host_ok(&al, "::ffff:11.1.2.3"));
	assert_false(allowlist_host_ok(&al, "::1"));
	allowlist_free(&al);
}

/* Names match without regard to case or one trailing dot; '*' spans
 * labels, dots included, and a suffix pattern needs the dot before it. */
static void
test_host_ok_case_and_dot(void **state)
{
	struct allowlist al = {0};

	allow(&al, "*.example.com,LocalHost");
	assert_true(allowlist_host_ok(&al, "www.example.com"));
	assert_true(allowlist_host_ok(&al, "WWW.Example.COM"));
	assert_true(allowlist_host_ok(&al, "www.example.com."));
	assert_true(allowlist_host_ok(&al, "a.b.example.com"));
	assert_true(allowlist_host_ok(&al, "localhost"));
	assert_true(allowlist_host_ok(&al, "LOCALHOST."));
	assert_false(allowlist_host_ok(&al, "example.com"));
	assert_false(allowlist_host_ok(&al, "www.example.com.."));
	assert_false(allowlist_host_ok(&al, "www.example.com.evil"));
	assert_false(allowlist_host_ok(&al, "www.example.org"));
	assert_false(allowlist_host_ok(&al, "wwwexample.com"));
	assert_false(allowlist_host_ok(&al, "localhost.example"));
	allowlist_free(&al);
}

/* '?' is exactly one character where '*' is any number, none included. */
static void
test_host_ok_star_question(void **state)
{
	struct allowlist al = {0};

	allow(&al, "db-??.corp,web*.corp");
	assert_true(allowlist_host_ok(&al, "db-01.corp"));
	assert_true(allowlist_host_ok(&al, "DB-ab.corp"));
	assert_false(allowlist_host_ok(&al, "db-1.corp"));
	assert_false(allowlist_host_ok(&al, "db-001.corp"));
	assert_false(allowlist_host_ok(&al, "db-.corp"));
	assert_true(allowlist_host_ok(&al, "web.corp"));
	assert_true(allowlist_host_ok(&al, "web1.corp"));
	assert_true(allowlist_host_ok(&al, "web-a.b.corp"));
	assert_false(allowlist_host_ok(&al, "we.corp"));
	assert_false(allowlist_host_ok(&al, "xweb.corp"));
	allowlist_free(&al);
}

/* Bracket classes: ranges, negation with '!', upper case folded. */
static void
test_host_ok_brackets(void **state)
{
	struct allowlist al = {0};

	allow(&al, "db-[0-9][0-9].corp,[!a]x.test,[A-C]y.test");
	assert_true(allowlist_host_ok(&al, "db-07.corp"));
	assert_false(allowlist_host_ok(&al, "db-a7.corp"));
	assert_false(allowlist_host_ok(&al, "db-7.corp"));
	assert_true(allowlist_host_ok(&al, "bx.test"));
	assert_false(allowlist_host_ok(&al, "ax.test"));
	assert_false(allowlist_host_ok(&al, "Ax.test"));
	assert_true(allowlist_host_ok(&al, "by.test"));
	assert_true(allowlist_host_ok(&al, "By.test"));
	assert_false(allowlist_host_ok(&al, "dy.test"));
	allowlist_free(&al);
}

/* Names of 253 octets pass (a trailing dot not counted); longer names
 * and empty hosts are refused even by '*'. */
static void
test_host_ok_length(void **state)
{
	struct allowlist al = {0};
	char *n253 = name_of_len(253), *n254 = name_of_len(254);

	allow(&al, "*");
	assert_true(allowlist_host_ok(&al, n253));
	assert_false(allowlist_host_ok(&al, n254));
	strcat(n253, ".");
	assert_true(allowlist_host_ok(&al, n253));
	strcat(n254, ".");
	assert_false(allowlist_host_ok(&al, n254));
	assert_false(allowlist_host_ok(&al, ""));
	assert_false(allowlist_host_ok(&al, "."));
	allowlist_free(&al);
	free(n253);
	free(n254);
}

/* The allowed addresses stay, whole and in resolver order; the result is
 * left alone while one is left. */
static void
test_filter_keeps_order(void **state)
{
	struct allowlist al = {0};
	struct resolved res = {0};
	struct result r;

	allow(&al, "10.0.0.0/8,2001:db8::/32");
	res_add(&res, "10.0.0.1", 80);
	res_add(&res, "11.0.0.1", 81);
	res_add(&res, "2001:db8::1", 82);
	res_add(&res, "10.0.0.2", 83);
	res_add(&res, "2001:db9::1", 84);
	res_add(&res, "::ffff:10.0.0.3", 85);
	result_init(&r);
	r.success = true;
	assert_int_equal(allowlist_filter(&al, &res, &r), 0);
	assert_int_equal(res.n, 4);
	expect_res(&res, 0, "10.0.0.1", 80);
	expect_res(&res, 1, "2001:db8::1", 82);
	expect_res(&res, 2, "10.0.0.2", 83);
	expect_res(&res, 3, "::ffff:10.0.0.3", 85);
	assert_int_equal(res.v[1].len, sizeof(struct sockaddr_in6));
	assert_true(r.success);
	assert_int_equal(r.reason, REASON_NONE);
	assert_string_equal(r.error, "");
	assert_string_equal(r.address, "");
	allowlist_free(&al);
}

/* With every address allowed, nothing moves. */
static void
test_filter_keeps_all(void **state)
{
	struct allowlist al = {0};
	struct resolved res = {0};
	struct result r;

	allow(&al, "127.0.0.0/8,::1");
	res_add(&res, "::1", 8080);
	res_add(&res, "127.0.0.1", 8080);
	result_init(&r);
	assert_int_equal(allowlist_filter(&al, &res, &r), 0);
	assert_int_equal(res.n, 2);
	expect_res(&res, 0, "::1", 8080);
	expect_res(&res, 1, "127.0.0.1", 8080);
	assert_int_equal(r.reason, REASON_NONE);
	allowlist_free(&al);
}

/* With none allowed, the probe fails as denied, naming the first
 * address refused in r->address and in the message. */
static void
test_filter_all_denied(void **state)
{
	struct allowlist al = {0};
	struct resolved res = {0};
	struct result r;

	allow(&al, "10.0.0.0/8,*");
	res_add(&res, "11.0.0.1", 80);
	res_add(&res, "2001:db8::1", 80);
	res_add(&res, "12.0.0.1", 80);
	result_init(&r);
	r.success = true;
	assert_int_equal(allowlist_filter(&al, &res, &r), -1);
	assert_int_equal(res.n, 0);
	assert_false(r.success);
	assert_int_equal(r.reason, REASON_DENIED);
	assert_string_equal(r.address, "11.0.0.1");
	assert_string_equal(r.error,
	    "address 11.0.0.1 is outside the allowlist");

	memset(&res, 0, sizeof(res));
	res_add(&res, "2001:db9::7", 443);
	res_add(&res, "11.0.0.1", 443);
	result_init(&r);
	assert_int_equal(allowlist_filter(&al, &res, &r), -1);
	assert_int_equal(r.reason, REASON_DENIED);
	assert_string_equal(r.address, "2001:db9::7");
	assert_string_equal(r.error,
	    "address 2001:db9::7 is outside the allowlist");
	allowlist_free(&al);
}

/* allowlist_free leaves a zeroed list that may be freed again and reused;
 * a list never filled may be freed too. */
static void
test_free_twice(void **state)
{
	struct allowlist al = {0}, zero = {0};

	allowlist_free(&al);
	assert_memory_equal(&al, &zero, sizeof(al));
	allow(&al, "10.0.0.0/8,*.example.com,::1");
	allowlist_free(&al);
	assert_null(al.nets);
	assert_null(al.patterns);
	assert_int_equal(al.nnets, 0);
	assert_int_equal(al.npatterns, 0);
	allowlist_free(&al);
	assert_memory_equal(&al, &zero, sizeof(al));
	assert_false(addr_ok(&al, "10.0.0.1"));
	allow(&al, "192.0.2.0/24");
	assert_true(addr_ok(&al, "192.0.2.1"));
	assert_false(addr_ok(&al, "10.0.0.1"));
	allowlist_free(&al);
}

/* An IPv4-mapped network is the IPv4 network it maps, so it allows what a
 * reader expects; one shorter than /96 would span more than IPv4. */
static void
test_parse_mapped_network(void **state)
{
	static const struct refusal bad[] = {
	    {"::ffff:0:0/95",
	        "'::ffff:0:0/95': an IPv4-mapped network needs a prefix of "
	        "96 or more"},
	    {"10.0.0.0/08", "'10.0.0.0/08': the prefix must be 0..32"},
	    {"10.0.0.0/+8", "'10.0.0.0/+8': the prefix must be 0..32"},
	};
	struct allowlist al = {0};

	(void)state;
	allow(&al, "::ffff:10.0.0.0/104,::ffff:127.0.0.1");
	expect_net(&al, 0, AF_INET, 8, "10.0.0.0");
	expect_net(&al, 1, AF_INET, 32, "127.0.0.1");
	assert_true(addr_ok(&al, "10.1.2.3"));
	assert_true(addr_ok(&al, "::ffff:127.0.0.1"));
	assert_false(addr_ok(&al, "127.0.0.2"));
	allowlist_free(&al);
	expect_refusals(bad, sizeof(bad) / sizeof(bad[0]));
}

/* The resolver's shorthands for IPv4 and zoned IPv6 are literals, judged
 * by networks, not names a pattern could let through. */
static void
test_host_ok_shorthand_literals(void **state)
{
	struct allowlist al = {0};

	(void)state;
	allow(&al, "*,10.0.0.0/8");
	assert_false(allowlist_host_ok(&al, "127.1"));
	assert_false(allowlist_host_ok(&al, "0x7f.0.0.1"));
	assert_false(allowlist_host_ok(&al, "2130706433"));
	assert_false(allowlist_host_ok(&al, "fe80::1%lo"));
	assert_true(allowlist_host_ok(&al, "10.1"));
	assert_true(allowlist_host_ok(&al, "name.test"));
	allowlist_free(&al);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_networks),
	    cmocka_unit_test(test_parse_bare_addresses),
	    cmocka_unit_test(test_parse_host_bits_masked),
	    cmocka_unit_test(test_parse_prefix_extremes),
	    cmocka_unit_test(test_parse_bad_prefix),
	    cmocka_unit_test(test_parse_empty_entries),
	    cmocka_unit_test(test_parse_junk),
	    cmocka_unit_test(test_parse_patterns),
	    cmocka_unit_test(test_parse_pattern_length),
	    cmocka_unit_test(test_parse_max_entries),
	    cmocka_unit_test(test_addr_ok_ipv4),
	    cmocka_unit_test(test_addr_ok_ipv6),
	    cmocka_unit_test(test_addr_ok_mapped),
	    cmocka_unit_test(test_addr_ok_family),
	    cmocka_unit_test(test_addr_ok_not_ip),
	    cmocka_unit_test(test_prefix_boundaries),
	    cmocka_unit_test(test_empty_allowlist),
	    cmocka_unit_test(test_host_ok_literals),
	    cmocka_unit_test(test_host_ok_case_and_dot),
	    cmocka_unit_test(test_host_ok_star_question),
	    cmocka_unit_test(test_host_ok_brackets),
	    cmocka_unit_test(test_host_ok_length),
	    cmocka_unit_test(test_filter_keeps_order),
	    cmocka_unit_test(test_filter_keeps_all),
	    cmocka_unit_test(test_filter_all_denied),
	    cmocka_unit_test(test_free_twice),
	    cmocka_unit_test(test_parse_mapped_network),
	    cmocka_unit_test(test_host_ok_shorthand_literals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
