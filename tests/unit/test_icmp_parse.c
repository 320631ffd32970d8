/*
 * Unit tests for icmp_parse.c: datagrams are built here byte by byte,
 * independently of icmp_build_echo, and each hostile one changes a single
 * field of a datagram the parser otherwise accepts.  Every parse runs on
 * a heap copy of exactly the datagram's length, so a sanitizer build
 * catches any read past its end.  No packet is sent anywhere.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "icmp_parse.h"

#define IDENT 0x1234
#define SEQ0 100
#define NSEQ 4
#define TTL 57
#define BUFLEN 1024

static const uint8_t cookie[8] = {'p', 'u', 'l', 's', 'e', 0, 0xa5, 0x5a};

/* The probed targets, this host, a router and a stranger. */
static struct sockaddr_in t4, me4, r4, o4;
static struct sockaddr_in6 t6, me6, r6, o6;

/* What an error quotes: by default, our echo request to the target. */
struct quote {
	const void *dst; /* 4 or 16 address bytes */
	uint8_t proto;
	uint8_t type;
	uint16_t ident, seq;
	size_t len; /* bytes of the quoted ICMP message kept */
};

static void
sa4(struct sockaddr_in *sin, const char *addr)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
}

static void
sa6(struct sockaddr_in6 *sin6, const char *addr)
{
	memset(sin6, 0, sizeof(*sin6));
	sin6->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
}

static int
setup(void **state)
{
	sa4(&t4, "198.51.100.7");
	sa4(&me4, "192.0.2.10");
	sa4(&r4, "192.0.2.1");
	sa4(&o4, "198.51.100.8");
	sa6(&t6, "2001:db8::7");
	sa6(&me6, "2001:db8::10");
	sa6(&r6, "2001:db8::fe");
	sa6(&o6, "2001:db8::8");
	return 0;
}

static struct icmp_expect
expect4(bool ip_header)
{
	struct icmp_expect ex;

	memset(&ex, 0, sizeof(ex));
	ex.family = AF_INET;
	ex.ip_header = ip_header;
	ex.check_ident = ip_header;
	ex.ident = IDENT;
	ex.seq_first = SEQ0;
	ex.seq_count = NSEQ;
	ex.cookie = cookie;
	ex.cookie_len = sizeof(cookie);
	ex.target = (const struct sockaddr *)&t4;
	return ex;
}

static struct icmp_expect
expect6(void)
{
	struct icmp_expect ex = expect4(false);

	ex.family = AF_INET6;
	ex.check_ident = true;
	ex.target = (const struct sockaddr *)&t6;
	return ex;
}

static struct quote
quote_ours(int family)
{
	struct quote qt;

	if (family == AF_INET) {
		qt.dst = &t4.sin_addr;
		qt.proto = IPPROTO_ICMP;
		qt.type = 8;
	} else {
		qt.dst = &t6.sin6_addr;
		qt.proto = IPPROTO_ICMPV6;
		qt.type = 128;
	}
	qt.ident = IDENT;
	qt.seq = SEQ0 + 1;
	qt.len = 8 + sizeof(cookie);
	return qt;
}

static void
put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1071, written out byte by byte. */
static uint16_t
sum16(const uint8_t *p, size_t n)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += i % 2 == 0 ? (uint64_t)p[i] << 8 : p[i];
	while (s >> 16 != 0)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void
fix_cksum(uint8_t *icmp, size_t n)
{
	put16(icmp + 2, 0);
	put16(icmp + 2, sum16(icmp, n));
}

/* An echo message whose payload is the cookie, then fill bytes. */
static size_t
echo(uint8_t *p, uint8_t type, uint16_t ident, uint16_t seq, size_t payload_len,
    uint8_t fill)
{
	size_t n = payload_len < sizeof(cookie) ? payload_len : sizeof(cookie);

	p[0] = type;
	p[1] = 0;
	put16(p + 4, ident);
	put16(p + 6, seq);
	memcpy(p + 8, cookie, n);
	memset(p + 8 + n, fill, payload_len - n);
	fix_cksum(p, 8 + payload_len);
	return 8 + payload_len;
}

/* An IPv4 header of ihl words (options are NOPs) before payload_len. */
static size_t
ip4_hdr(uint8_t *p, unsigned ihl, uint8_t proto, const void *src,
    const void *dst, size_t payload_len)
{
	size_t hl = ihl * 4;

	memset(p, 1, hl);
	p[0] = (uint8_t)(0x40 | ihl);
	p[1] = 0;
	put16(p + 2, hl + payload_len);
	memset(p + 4, 0, 4);
	p[8] = TTL;
	p[9] = proto;
	put16(p + 10, 0);
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	return hl + payload_len;
}

/* A raw IPv4 datagram from src around the ICMP message at p + 4 * ihl. */
static size_t
wrap4(uint8_t *p, unsigned ihl, const struct sockaddr_in *src, size_t n)
{
	return ip4_hdr(p, ihl, IPPROTO_ICMP, &src->sin_addr, &me4.sin_addr, n);
}

/* An ICMPv4 error quoting a request as qt says. */
static size_t
err4(uint8_t *p, uint8_t type, uint8_t code, const struct quote *qt)
{
	uint8_t *q = p + 8;
	size_t n;

	p[0] = type;
	p[1] = code;
	memset(p + 4, 0, 4);
	n = echo(q + 20, qt->type, qt->ident, qt->seq, sizeof(cookie), 0);
	ip4_hdr(q, 5, qt->proto, &me4.sin_addr, qt->dst, n);
	n = 8 + 20 + (qt->len < n ? qt->len : n);
	fix_cksum(p, n);
	return n;
}

/* An ICMPv6 error quoting a request as qt says. */
static size_t
err6(uint8_t *p, uint8_t type, uint8_t code, const struct quote *qt)
{
	uint8_t *q = p + 8;
	size_t n;

	p[0] = type;
	p[1] = code;
	memset(p + 2, 0, 6);
	if (type == 2)
		put16(p + 6, 1280);
	n = echo(q + 40, qt->type, qt->ident, qt->seq, sizeof(cookie), 0);
	memset(q, 0, 40);
	q[0] = 0x60;
	put16(q + 4, n);
	q[6] = qt->proto;
	q[7] = 64;
	memcpy(q + 8, &me6.sin6_addr, 16);
	memcpy(q + 24, qt->dst, 16);
	return 8 + 40 + (qt->len < n ? qt->len : n);
}

/* A raw IPv4 echo reply from src: the cookie and 16 fill bytes. */
static size_t
reply4(uint8_t *p, unsigned ihl, const struct sockaddr_in *src, uint16_t ident,
    uint16_t seq)
{
	size_t n;

	n = echo(p + ihl * 4, 0, ident, seq, sizeof(cookie) + 16, 0x42);
	return wrap4(p, ihl, src, n);
}

static void
assert_terminated(const struct icmp_reply *r)
{
	assert_non_null(memchr(r->from, '\0', sizeof(r->from)));
	assert_non_null(memchr(r->error, '\0', sizeof(r->error)));
	assert_non_null(memchr(r->why, '\0', sizeof(r->why)));
}

/* Parse a heap copy of exactly len bytes, so ASan sees any overread. */
static enum icmp_verdict
parse(const struct icmp_expect *ex, const uint8_t *p, size_t len,
    const void *from, struct icmp_reply *r)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	enum icmp_verdict v;

	assert_non_null(copy);
	memcpy(copy, p, len);
	memset(r, 0x5a, sizeof(*r));
	v = icmp_parse(ex, copy, len, (const struct sockaddr *)from, r);
	free(copy);
	assert_int_equal(v, r->verdict);
	assert_terminated(r);
	if (v == ICMP_IGNORE)
		assert_true(r->why[0] != '\0');
	else
		assert_int_equal(r->why[0], '\0');
	return v;
}

/* Expect the datagram ignored for the given reason. */
static void
assert_ignored(const struct icmp_expect *ex, const uint8_t *p, size_t len,
    const void *from, const char *why)
{
	struct icmp_reply r;

	if (parse(ex, p, len, from, &r) != ICMP_IGNORE)
		fail_msg("accepted, expected \"%s\"", why);
	assert_string_equal(r.why, why);
	assert_int_equal(r.seq, 0);
	assert_string_equal(r.error, "");
}

/* Expect an error verdict for seq with the given message. */
static void
assert_error(const struct icmp_expect *ex, const uint8_t *p, size_t len,
    const void *from, uint16_t seq, const char *error)
{
	struct icmp_reply r;

	if (parse(ex, p, len, from, &r) != ICMP_ERROR)
		fail_msg("not an error: %s", r.why);
	assert_int_equal(r.seq, seq);
	assert_string_equal(r.error, error);
	assert_int_equal(r.type, p[ex->ip_header ? 20 : 0]);
}

/* A raw IPv4 echo reply is accepted, with its TTL, seq and source. */
static void
test_v4_reply_with_header(void **state)
{
	struct icmp_expect ex = expect4(true);
	struct icmp_reply r;
	uint8_t b[BUFLEN];
	size_t n;

	n = reply4(b, 5, &t4, IDENT, SEQ0 + 2);
	assert_int_equal(parse(&ex, b, n, &t4, &r), ICMP_ECHO_REPLY);
	assert_int_equal(r.seq, SEQ0 + 2);
	assert_int_equal(r.ttl, TTL);
	assert_int_equal(r.type, 0);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.from, "198.51.100.7");
	assert_string_equal(r.error, "");
}

/* Without a sockaddr, the source comes from the IPv4 header. */
static void
test_v4_source_from_header(void **state)
{
	struct icmp_expect ex = expect4(true);
	struct icmp_reply r;
	uint8_t b[BUFLEN];
	size_t n;

	n = reply4(b, 5, &t4, IDENT, SEQ0);
	assert_int_equal(parse(&ex, b, n, NULL, &r), ICMP_ECHO_REPLY);
	assert_string_equal(r.from, "198.51.100.7");
	n = reply4(b, 5, &o4, IDENT, SEQ0);
	assert_ignored(&ex, b, n, NULL, "spoofed source");
}

/* A ping-socket reply (no IP header, id rewritten) is accepted. */
static void
test_v4_reply_dgram(void **state)
{
	struct icmp_expect ex = expect4(false);
	struct icmp_reply r;
	uint8_t b[BUFLEN];
	size_t n;

	n = echo(b, 0, 0x4711, SEQ0 + 3, 40, 0);
	assert_int_equal(parse(&ex, b, n, &t4, &r), ICMP_ECHO_REPLY);
	assert_int_equal(r.seq, SEQ0 + 3);
	assert_int_equal(r.ttl, -1);
	assert_string_equal(r.from, "198.51.100.7");
}

/* IP options are skipped whatever their length (IHL 6..15). */
static void
test_v4_ip_options(void **state)
{
	struct icmp_expect ex = expect4(true);
	struct icmp_reply r;
	uint8_t b[BUFLEN];
	unsigned ihl;
	size_t n;

	for (ihl = 6; ihl <= 15; ihl++) {
		n = reply4(b, ihl, &t4, IDENT, SEQ0 + 1);
		if (parse(&ex, b, n, &t4, &r) != ICMP_ECHO_REPLY)
			fail_msg("IHL %u: %s", ihl, r.why);
		assert_int_equal(r.seq, SEQ0 + 1);
		assert_int_equal(r.ttl, TTL);
	}
}

/* An IHL below 5 words, or past the datagram, is refused. */
static void
test_v4_bad_ihl(void **state)
{
	struct icmp_expect ex = expect4(true);
	uint8_t b[BUFLEN];
	unsigned ihl;
	size_t n;

	for (ihl = 0; ihl < 5; ihl++) {
		n = reply4(b, 5, &t4, IDENT, SEQ0);
		b[0] = (uint8_t)(0x40 | ihl);
		assert_ignored(&ex, b, n, &t4, "bad IHL");
	}
	n = reply4(b, 5, &t4, IDENT, SEQ0);
	assert_true(n < 60);
	b[0] = 0x4f;
	assert_ignored(&ex, b, n, &t4, "bad IHL");
	assert_ignored(&ex, b, 28, &t4, "bad IHL");
}

/* Headers that are not IPv4 carrying ICMP are refused. */
static void
test_v4_not_icmp(void **state)
{
	struct icmp_expect ex = expect4(true);
	uint8_t b[BUFLEN];
	size_t n;

	n = reply4(b, 5, &t4, IDENT, SEQ0);
	b[0] = 0x65;
	assert_ignored(&ex, b, n, &t4, "not IPv4");
	n = reply4(b, 5, &t4, IDENT, SEQ0);
	b[9] = IPPROTO_TCP;
	assert_ignored(&ex, b, n, &t4, "not ICMP");
}

/*
 * The IPv4 total length bounds the message: bytes after it are not
 * ICMP, and a total length past the bytes read means a cut datagram.
 */
static void
test_v4_total_length(void **state)
{
	struct icmp_expect ex = expect4(true);
	struct icmp_reply r;
	uint8_t b[BUFLEN];
	size_t n;

	n = reply4(b, 5, &t4, IDENT, SEQ0);
	memset(b + n, 0xee, 100);
	assert_int_equal(parse(&ex, b, n + 100, &t4, &r), ICMP_ECHO_REPLY);
	put16(b + 2, n + 1);
	assert_ignored(&ex, b, n, &t4, "truncated");
	put16(b + 2, 19);
	assert_ignored(&ex, b, n, &t4, "bad total length");
	put16(b + 2, 27);
	assert_ignored(&ex, b, n, &t4, "truncated");
}

/* One prefix of a datagram, expected refused. */
static void
assert_prefix_ignored(const struct icmp_expect *ex, const uint8_t *b, size_t i,
    size_t n, const void *from)
{
	struct icmp_reply r;

	if (parse(ex, b, i, from, &r) != ICMP_IGNORE)
		fail_msg("cut to %zu of %zu bytes: accepted", i, n);
}

/*
 * Every prefix of a raw IPv4 datagram is refused (its total length says
 * it is cut); without an IP header, only prefixes holding the echo
 * header and the whole cookie (errors: the whole quoted header) pass.
 */
static void
test_truncated_every_length(void **state)
{
	struct icmp_expect ex4 = expect4(true), dg4 = expect4(false);
	struct icmp_expect ex6 = expect6();
	struct quote qt = quote_ours(AF_INET);
	struct quote qt6 = quote_ours(AF_INET6);
	struct icmp_reply r;
	uint8_t b[BUFLEN];
	size_t i, n;

	n = reply4(b, 15, &t4, IDENT, SEQ0);
	for (i = 0; i < n; i++)
		assert_prefix_ignored(&ex4, b, i, n, &t4);
	n = wrap4(b, 5, &r4, err4(b + 20, 3, 3, &qt));
	for (i = 0; i < n; i++)
		assert_prefix_ignored(&ex4, b, i, n, &r4);

	n = echo(b, 0, IDENT, SEQ0, 32, 0);
	for (i = 0; i < n; i++) {
		if (i < 8 + sizeof(cookie))
			assert_prefix_ignored(&dg4, b, i, n, &t4);
		else
			assert_int_equal(parse(&dg4, b, i, &t4, &r),
			    ICMP_ECHO_REPLY);
	}
	n = err6(b, 1, 4, &qt6);
	for (i = 0; i < n; i++) {
		if (i < 8 + 40 + 8)
			assert_prefix_ignored(&ex6, b, i, n, &r6);
		else
			assert_int_equal(parse(&ex6, b, i, &r6, &r),
			    ICMP_ERROR);
	}
}

/* Replies of 65 KB and more are parsed without overflow. */
static void
test_65k_reply(void **state)
{
	struct icmp_expect ex4 = expect4(true), ex6 = expect6();
	struct icmp_reply r;
	size_t cap = 70000, n;
	uint8_t *b = malloc(cap);

	assert_non_null(b);
	n = echo(b + 20, 0, IDENT, SEQ0, 65535 - 20 - 8, 0xff);
	n = wrap4(b, 5, &t4, n);
	assert_int_equal(n, 65535);
	assert_int_equal(parse(&ex4, b, n, &t4, &r), ICMP_ECHO_REPLY);
	memset(b + n, 0xff, cap - n);
	assert_int_equal(parse(&ex4, b, cap, &t4, &r), ICMP_ECHO_REPLY);
	assert_int_equal(r.seq, SEQ0);

	n = echo(b, 129, IDENT, SEQ0 + 1, cap - 8, 0xff);
	assert_int_equal(parse(&ex6, b, n, &t6, &r), ICMP_ECHO_REPLY);
	assert_int_equal(r.seq, SEQ0 + 1);
	free(b);
}

/* Another process's identifier is refused unless the kernel matched it. */
static void
test_foreign_identifier(void **state)
{
	struct icmp_expect ex = expect4(true);
	struct icmp_reply r;
	uint8_t b[BUFLEN];
	size_t n;

	n = reply4(b, 5, &t4, IDENT + 1, SEQ0);
	assert_ignored(&ex, b, n, &t4, "foreign identifier");
	ex.check_ident = false;
	assert_int_equal(parse(&ex, b, n, &t4, &r), ICMP_ECHO_REPLY);
}

/* Accept or refuse one sequence number under a given range. */
static void
check_seq(uint16_t first, uint16_t count, uint16_t seq, bool ours)
{
	struct icmp_expect ex = expect4(false);
	struct icmp_reply r;
	uint8_t b[BUFLEN];
	size_t n;

	ex.seq_first = first;
	ex.seq_count = count;
	n = echo(b, 0, IDENT, seq, sizeof(cookie), 0);
	if (ours) {
		if (parse(&ex, b, n, &t4, &r) != ICMP_ECHO_REPLY)
			fail_msg("seq %u in %u+%u: %s", seq, first, count,
			    r.why);
		assert_int_equal(r.seq, seq);
	} else
		assert_ignored(&ex, b, n, &t4, "stale sequence");
}

/* Only seq_first .. seq_first+count-1 (mod 65536) are ours. */
static void
test_stale_sequence(void **state)
{
	check_seq(SEQ0, NSEQ, SEQ0 - 1, false);
	check_seq(SEQ0, NSEQ, SEQ0, true);
	check_seq(SEQ0, NSEQ, SEQ0 + NSEQ - 1, true);
	check_seq(SEQ0, NSEQ, SEQ0 + NSEQ, false);
	check_seq(65534, 4, 65533, false);
	check_seq(65534, 4, 65534, true);
	check_seq(65534, 4, 65535, true);
	check_seq(65534, 4, 0, true);
	check_seq(65534, 4, 1, true);
	check_seq(65534, 4, 2, false);
	check_seq(0, 0, 0, false);
	check_seq(7, 65535, 6, false);
	check_seq(7, 65535, 5, true);
}

/* A reply whose source is not the target is refused (v4 and v6). */
static void
test_spoofed_source(void **state)
{
	struct icmp_expect ex = expect4(true), ex6 = expect6();
	uint8_t b[BUFLEN];
	size_t n;

	n = reply4(b, 5, &o4, IDENT, SEQ0);
	assert_ignored(&ex, b, n, &o4, "spoofed source");
	n = echo(b, 129, IDENT, SEQ0, 16, 0);
	assert_ignored(&ex6, b, n, &o6, "spoofed source");
	assert_ignored(&ex6, b, n, &t4, "no source address");
}

/* A link-local reply from the same address on another interface is not ours. */
static void
test_v6_scope(void **state)
{
	struct icmp_expect ex = expect6();
	struct sockaddr_in6 target, from;
	struct icmp_reply r;
	uint8_t b[BUFLEN];
	size_t n;

	sa6(&target, "fe80::7");
	target.sin6_scope_id = 2;
	from = target;
	ex.target = (const struct sockaddr *)&target;
	n = echo(b, 129, IDENT, SEQ0, 16, 0);
	assert_int_equal(parse(&ex, b, n, &from, &r), ICMP_ECHO_REPLY);
	assert_string_equal(r.from, "fe80::7");
	from.sin6_scope_id = 3;
	assert_ignored(&ex, b, n, &from, "spoofed source");
	target.sin6_scope_id = 0;
	assert_int_equal(parse(&ex, b, n, &from, &r), ICMP_ECHO_REPLY);
}

/* A reply whose payload does not start with the cookie is refused. */
static void
test_cookie_mismatch(void **state)
{
	struct icmp_expect ex = expect4(true), dg = expect4(false);
	uint8_t b[BUFLEN];
	size_t n;

	n = reply4(b, 5, &t4, IDENT, SEQ0);
	b[20 + 8 + 3] ^= 1;
	fix_cksum(b + 20, n - 20);
	assert_ignored(&ex, b, n, &t4, "cookie mismatch");
	n = echo(b, 0, IDENT, SEQ0, sizeof(cookie) - 1, 0);
	assert_ignored(&dg, b, n, &t4, "cookie mismatch");
}

/*
 * Payload bytes after the cookie are never read as a timestamp: bytes
 * that would make a huge one change nothing.
 */
static void
test_timestamp_payload_ignored(void **state)
{
	struct icmp_expect ex = expect4(true);
	struct icmp_reply r, r2;
	uint8_t b[BUFLEN];
	size_t n;

	n = echo(b + 20, 0, IDENT, SEQ0 + 1, 64, 0xff);
	n = wrap4(b, 5, &t4, n);
	assert_int_equal(parse(&ex, b, n, &t4, &r), ICMP_ECHO_REPLY);
	n = echo(b + 20, 0, IDENT, SEQ0 + 1, 64, 0x7f);
	n = wrap4(b, 5, &t4, n);
	assert_int_equal(parse(&ex, b, n, &t4, &r2), ICMP_ECHO_REPLY);
	assert_int_equal(r.seq, SEQ0 + 1);
	assert_int_equal(r2.seq, r.seq);
	assert_int_equal(r2.ttl, r.ttl);
	assert_string_equal(r2.from, r.from);
	assert_string_equal(r.error, "");
}

/* An unreachable from a router quoting our request is an error for it. */
static void
test_v4_unreachable_ours(void **state)
{
	struct icmp_expect ex = expect4(true), dg = expect4(false);
	struct quote qt = quote_ours(AF_INET);
	uint8_t b[BUFLEN];
	size_t n;

	n = wrap4(b, 5, &r4, err4(b + 20, 3, 3, &qt));
	assert_error(&ex, b, n, &r4, SEQ0 + 1,
	    "port unreachable (from 192.0.2.1)");
	n = wrap4(b, 5, &r4, err4(b + 20, 3, 1, &qt));
	assert_error(&ex, b, n, &r4, SEQ0 + 1,
	    "host unreachable (from 192.0.2.1)");
	n = wrap4(b, 5, &r4, err4(b + 20, 3, 13, &qt));
	assert_error(&ex, b, n, &r4, SEQ0 + 1,
	    "administratively prohibited (from 192.0.2.1)");
	n = wrap4(b, 5, &r4, err4(b + 20, 3, 200, &qt));
	assert_error(&ex, b, n, &r4, SEQ0 + 1,
	    "destination unreachable (from 192.0.2.1)");
	qt.len = 8;
	n = err4(b, 3, 4, &qt);
	assert_error(&dg, b, n, &r4, SEQ0 + 1,
	    "fragmentation needed (from 192.0.2.1)");
}

/* Expect the error ignored as quoting some other packet. */
static void
assert_quote_other(const struct quote *qt)
{
	struct icmp_expect ex = expect4(true);
	uint8_t b[BUFLEN];
	size_t n;

	n = wrap4(b, 5, &r4, err4(b + 20, 3, 3, qt));
	assert_ignored(&ex, b, n, &r4, "error quoting another packet");
}

/* Errors quoting someone else's packet are refused. */
static void
test_v4_unreachable_other(void **state)
{
	struct quote qt;

	qt = quote_ours(AF_INET);
	qt.dst = &o4.sin_addr;
	assert_quote_other(&qt);
	qt = quote_ours(AF_INET);
	qt.ident = IDENT + 1;
	assert_quote_other(&qt);
	qt = quote_ours(AF_INET);
	qt.proto = IPPROTO_UDP;
	assert_quote_other(&qt);
	qt = quote_ours(AF_INET);
	qt.type = 0;
	assert_quote_other(&qt);
	qt = quote_ours(AF_INET);
	qt.seq = SEQ0 + NSEQ;
	assert_quote_other(&qt);
}

/* A quote cut inside the cookie is compared as far as it goes. */
static void
test_v4_quote_cookie(void **state)
{
	struct icmp_expect ex = expect4(true);
	struct quote qt = quote_ours(AF_INET);
	uint8_t b[BUFLEN];
	size_t n;

	qt.len = 8 + 2;
	n = wrap4(b, 5, &r4, err4(b + 20, 3, 3, &qt));
	assert_error(&ex, b, n, &r4, SEQ0 + 1,
	    "port unreachable (from 192.0.2.1)");
	b[20 + 8 + 20 + 8 + 1] ^= 0xff;
	fix_cksum(b + 20, n - 20);
	assert_ignored(&ex, b, n, &r4, "error quoting another packet");
}

/* Time exceeded and parameter problem quoting our request are errors. */
static void
test_v4_time_exceeded(void **state)
{
	struct icmp_expect ex = expect4(true);
	struct quote qt = quote_ours(AF_INET);
	uint8_t b[BUFLEN];
	size_t n;

	n = wrap4(b, 5, &r4, err4(b + 20, 11, 0, &qt));
	assert_error(&ex, b, n, &r4, SEQ0 + 1,
	    "time exceeded (from 192.0.2.1)");
	n = wrap4(b, 5, &r4, err4(b + 20, 12, 0, &qt));
	assert_error(&ex, b, n, &r4, SEQ0 + 1,
	    "parameter problem (from 192.0.2.1)");
}

/* A malformed quoted IPv4 header is refused. */
static void
test_v4_bad_quote(void **state)
{
	struct icmp_expect ex = expect4(true);
	struct quote qt = quote_ours(AF_INET);
	uint8_t b[BUFLEN];
	size_t n;

	n = wrap4(b, 5, &r4, err4(b + 20, 3, 3, &qt));
	b[28] = 0x44;
	fix_cksum(b + 20, n - 20);
	assert_ignored(&ex, b, n, &r4, "bad quoted header");
	b[28] = 0x4f;
	fix_cksum(b + 20, n - 20);
	assert_ignored(&ex, b, n, &r4, "truncated");
}

/* An ICMPv6 echo reply from the target is accepted, with no TTL. */
static void
test_v6_reply(void **state)
{
	struct icmp_expect ex = expect6();
	struct icmp_reply r;
	uint8_t b[BUFLEN];
	size_t n;

	n = echo(b, 129, IDENT, SEQ0 + 2, 56, 0);
	put16(b + 2, 0);
	assert_int_equal(parse(&ex, b, n, &t6, &r), ICMP_ECHO_REPLY);
	assert_int_equal(r.seq, SEQ0 + 2);
	assert_int_equal(r.ttl, -1);
	assert_int_equal(r.type, 129);
	assert_string_equal(r.from, "2001:db8::7");
}

/* ICMPv6 unreachables quoting our request are errors; others are not. */
static void
test_v6_unreachable(void **state)
{
	struct icmp_expect ex = expect6();
	struct quote qt = quote_ours(AF_INET6);
	uint8_t b[BUFLEN];
	size_t n;

	n = err6(b, 1, 4, &qt);
	assert_error(&ex, b, n, &r6, SEQ0 + 1,
	    "port unreachable (from 2001:db8::fe)");
	n = err6(b, 1, 3, &qt);
	assert_error(&ex, b, n, &r6, SEQ0 + 1,
	    "address unreachable (from 2001:db8::fe)");
	n = err6(b, 3, 0, &qt);
	assert_error(&ex, b, n, &r6, SEQ0 + 1,
	    "time exceeded (from 2001:db8::fe)");
	qt.dst = &o6.sin6_addr;
	n = err6(b, 1, 4, &qt);
	assert_ignored(&ex, b, n, &r6, "error quoting another packet");
	qt = quote_ours(AF_INET6);
	qt.proto = 44;
	n = err6(b, 1, 4, &qt);
	assert_ignored(&ex, b, n, &r6, "error quoting another packet");
	qt = quote_ours(AF_INET6);
	qt.ident = IDENT - 1;
	n = err6(b, 1, 4, &qt);
	assert_ignored(&ex, b, n, &r6, "error quoting another packet");
	qt = quote_ours(AF_INET6);
	n = err6(b, 1, 4, &qt);
	b[8] = 0x40;
	assert_ignored(&ex, b, n, &r6, "bad quoted header");
}

/* Packet too big quoting our request is an error. */
static void
test_v6_packet_too_big(void **state)
{
	struct icmp_expect ex = expect6();
	struct quote qt = quote_ours(AF_INET6);
	uint8_t b[BUFLEN];
	size_t n;

	n = err6(b, 2, 0, &qt);
	assert_error(&ex, b, n, &r6, SEQ0 + 1,
	    "packet too big (from 2001:db8::fe)");
}

/* Echo requests (our own, looped back on a raw socket) are not replies. */
static void
test_echo_request_ignored(void **state)
{
	struct icmp_expect ex = expect4(true), ex6 = expect6();
	uint8_t b[BUFLEN];
	size_t n;

	n = echo(b + 20, 8, IDENT, SEQ0, 16, 0);
	n = wrap4(b, 5, &t4, n);
	assert_ignored(&ex, b, n, &t4, "not a reply");
	n = echo(b, 128, IDENT, SEQ0, 16, 0);
	assert_ignored(&ex6, b, n, &t6, "not a reply");
	n = echo(b, 0, IDENT, SEQ0, 16, 0);
	b[1] = 1;
	fix_cksum(b, n);
	ex.ip_header = false;
	assert_ignored(&ex, b, n, &t4, "not a reply");
}

/* A raw IPv4 datagram with a bad ICMP checksum is refused. */
static void
test_v4_bad_checksum(void **state)
{
	struct icmp_expect ex = expect4(true);
	struct icmp_reply r;
	uint8_t b[BUFLEN];
	size_t n;

	n = reply4(b, 5, &t4, IDENT, SEQ0);
	b[n - 1] ^= 0x10;
	assert_ignored(&ex, b, n, &t4, "bad checksum");
	n = reply4(b, 5, &t4, IDENT, SEQ0);
	b[22] ^= 0x01;
	assert_ignored(&ex, b, n, &t4, "bad checksum");
	ex.ip_header = false;
	assert_int_equal(parse(&ex, b + 20, n - 20, &t4, &r), ICMP_ECHO_REPLY);
}

/* A missing or mismatched target or family is refused, not guessed. */
static void
test_bad_expectation(void **state)
{
	struct icmp_expect ex = expect4(false);
	uint8_t b[BUFLEN];
	size_t n;

	n = echo(b, 0, IDENT, SEQ0, 16, 0);
	ex.target = NULL;
	assert_ignored(&ex, b, n, &t4, "no target address");
	ex.target = (const struct sockaddr *)&t6;
	assert_ignored(&ex, b, n, &t4, "no target address");
	ex = expect4(false);
	ex.family = AF_UNIX;
	assert_ignored(&ex, b, n, &t4, "bad address family");
}

/* icmp_build_echo writes a valid IPv4 checksum over the whole message. */
static void
test_build_v4_checksum(void **state)
{
	uint8_t b[BUFLEN];
	size_t n, len;

	for (len = 0; len < 70; len += 7) {
		n = icmp_build_echo(AF_INET, 0xbeef, 0xffff, cookie,
		    sizeof(cookie), sizeof(cookie) + len, b, sizeof(b));
		assert_int_equal(n, 8 + sizeof(cookie) + len);
		assert_int_equal(b[0], 8);
		assert_int_equal(b[1], 0);
		assert_int_equal(sum16(b, n), 0);
	}
}

/* Ident and seq go out big-endian, the cookie first in the payload. */
static void
test_build_fields(void **state)
{
	uint8_t b[BUFLEN];
	size_t n;

	n = icmp_build_echo(AF_INET6, 0xabcd, 0x0102, cookie, sizeof(cookie),
	    56, b, sizeof(b));
	assert_int_equal(n, 64);
	assert_int_equal(b[0], 128);
	assert_int_equal(b[1], 0);
	assert_int_equal(b[2], 0);
	assert_int_equal(b[3], 0);
	assert_int_equal(b[4], 0xab);
	assert_int_equal(b[5], 0xcd);
	assert_int_equal(b[6], 0x01);
	assert_int_equal(b[7], 0x02);
	assert_memory_equal(b + 8, cookie, sizeof(cookie));
	n = icmp_build_echo(AF_INET, 1, 2, NULL, 0, 0, b, sizeof(b));
	assert_int_equal(n, 8);
	assert_int_equal(sum16(b, n), 0);
}

/* Every byte is written: the filler does not depend on the buffer. */
static void
test_build_deterministic(void **state)
{
	uint8_t a[BUFLEN], b[BUFLEN];
	size_t na, nb;

	memset(a, 0x00, sizeof(a));
	memset(b, 0xff, sizeof(b));
	na = icmp_build_echo(AF_INET, 7, 9, cookie, 3, 100, a, sizeof(a));
	nb = icmp_build_echo(AF_INET, 7, 9, cookie, 3, 100, b, sizeof(b));
	assert_int_equal(na, 108);
	assert_int_equal(nb, na);
	assert_memory_equal(a, b, na);
	assert_int_equal(a[na], 0x00);
	assert_int_equal(b[nb], 0xff);
}

/* A request that does not fit, or a cookie longer than the payload, is 0. */
static void
test_build_too_small(void **state)
{
	uint8_t b[64];

	memset(b, 0xcc, sizeof(b));
	assert_int_equal(icmp_build_echo(AF_INET, 1, 2, cookie, sizeof(cookie),
	                     57, b, sizeof(b)),
	    0);
	assert_int_equal(icmp_build_echo(AF_INET, 1, 2, cookie, sizeof(cookie),
	                     0, b, 7),
	    0);
	assert_int_equal(icmp_build_echo(AF_INET, 1, 2, cookie, sizeof(cookie),
	                     4, b, sizeof(b)),
	    0);
	assert_int_equal(icmp_build_echo(AF_UNIX, 1, 2, cookie, sizeof(cookie),
	                     16, b, sizeof(b)),
	    0);
	assert_int_equal(b[0], 0xcc);
	assert_int_equal(icmp_build_echo(AF_INET, 1, 2, cookie, sizeof(cookie),
	                     56, b, sizeof(b)),
	    64);
}

/* A request built here, answered by a peer, parses as our reply. */
static void
test_build_round_trip(void **state)
{
	struct icmp_expect ex = expect4(true);
	struct icmp_reply r;
	uint8_t b[BUFLEN];
	size_t n;

	n = icmp_build_echo(AF_INET, IDENT, SEQ0 + 3, cookie, sizeof(cookie),
	    56, b + 20, sizeof(b) - 20);
	assert_int_equal(n, 64);
	b[20] = 0;
	fix_cksum(b + 20, n);
	n = wrap4(b, 5, &t4, n);
	assert_int_equal(parse(&ex, b, n, &t4, &r), ICMP_ECHO_REPLY);
	assert_int_equal(r.seq, SEQ0 + 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v4_reply_with_header),
	    cmocka_unit_test(test_v4_source_from_header),
	    cmocka_unit_test(test_v4_reply_dgram),
	    cmocka_unit_test(test_v4_ip_options),
	    cmocka_unit_test(test_v4_bad_ihl),
	    cmocka_unit_test(test_v4_not_icmp),
	    cmocka_unit_test(test_v4_total_length),
	    cmocka_unit_test(test_truncated_every_length),
	    cmocka_unit_test(test_65k_reply),
	    cmocka_unit_test(test_foreign_identifier),
	    cmocka_unit_test(test_stale_sequence),
	    cmocka_unit_test(test_spoofed_source),
	    cmocka_unit_test(test_v6_scope),
	    cmocka_unit_test(test_cookie_mismatch),
	    cmocka_unit_test(test_timestamp_payload_ignored),
	    cmocka_unit_test(test_v4_unreachable_ours),
	    cmocka_unit_test(test_v4_unreachable_other),
	    cmocka_unit_test(test_v4_quote_cookie),
	    cmocka_unit_test(test_v4_time_exceeded),
	    cmocka_unit_test(test_v4_bad_quote),
	    cmocka_unit_test(test_v6_reply),
	    cmocka_unit_test(test_v6_unreachable),
	    cmocka_unit_test(test_v6_packet_too_big),
	    cmocka_unit_test(test_echo_request_ignored),
	    cmocka_unit_test(test_v4_bad_checksum),
	    cmocka_unit_test(test_bad_expectation),
	    cmocka_unit_test(test_build_v4_checksum),
	    cmocka_unit_test(test_build_fields),
	    cmocka_unit_test(test_build_deterministic),
	    cmocka_unit_test(test_build_too_small),
	    cmocka_unit_test(test_build_round_trip),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
