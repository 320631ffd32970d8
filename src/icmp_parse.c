/*
 * Judge received ICMP/ICMPv6 datagrams and build echo requests.  Every
 * field is read with memcpy or byte by byte, after a length check: the
 * bytes come from the network and may be cut short anywhere.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/ip6.h>
#include <netinet/icmp6.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "icmp_parse.h"

#define IP4_HDR_MIN 20
#define IP6_HDR_LEN 40
#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

/* An address as raw bytes, so IPv4 and IPv6 compare alike. */
struct addr {
	size_t len; /* 4, 16, or 0 when unknown */
	uint8_t b[16];
	uint32_t scope;
};

/* Destination unreachable, by code (RFC 792, RFC 1812). */
static const char *const unreach4[] = {
    "network unreachable",
    "host unreachable",
    "protocol unreachable",
    "port unreachable",
    "fragmentation needed",
    "source route failed",
    "destination network unknown",
    "destination host unknown",
    "source host isolated",
    "network administratively prohibited",
    "host administratively prohibited",
    "network unreachable for TOS",
    "host unreachable for TOS",
    "administratively prohibited",
    "host precedence violation",
    "precedence cutoff",
};

/* ICMPv6 destination unreachable, by code (RFC 4443). */
static const char *const unreach6[] = {
    "no route to destination",
    "administratively prohibited",
    "beyond scope of source address",
    "address unreachable",
    "port unreachable",
    "source address failed policy",
    "reject route to destination",
};

static uint16_t
rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return ntohs(v);
}

static void
wr16(uint8_t *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, sizeof(v));
}

/* The Internet checksum (RFC 1071): over a valid datagram it yields 0. */
static uint16_t
cksum(const uint8_t *p, size_t n)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += rd16(p + i);
	if (n % 2 != 0)
		sum += (uint64_t)p[n - 1] << 8;
	while (sum >> 16 != 0)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Copy out a sockaddr's address if it has the expected family. */
static void
addr_from_sa(struct addr *a, const struct sockaddr *sa, int family)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(a, 0, sizeof(*a));
	if (sa == NULL || sa->sa_family != family)
		return;
	if (family == AF_INET) {
		memcpy(&sin, sa, sizeof(sin));
		memcpy(a->b, &sin.sin_addr, 4);
		a->len = 4;
	} else if (family == AF_INET6) {
		memcpy(&sin6, sa, sizeof(sin6));
		memcpy(a->b, &sin6.sin6_addr, 16);
		a->scope = sin6.sin6_scope_id;
		a->len = 16;
	}
}

/* Link-local addresses are equal only on the same interface, if known. */
static bool
addr_eq(const struct addr *a, const struct addr *b)
{
	if (a->len == 0 || a->len != b->len || memcmp(a->b, b->b, a->len) != 0)
		return false;
	return a->scope == 0 || b->scope == 0 || a->scope == b->scope;
}

/* Sequence numbers wrap: ours are seq_first + k (mod 65536), k < count. */
static bool
seq_ok(const struct icmp_expect *ex, uint16_t seq)
{
	return (uint16_t)(seq - ex->seq_first) < ex->seq_count;
}

static enum icmp_verdict
ignore(struct icmp_reply *out, const char *why)
{
	out->verdict = ICMP_IGNORE;
	out->seq = 0;
	out->error[0] = '\0';
	snprintf(out->why, sizeof(out->why), "%s", why);
	return ICMP_IGNORE;
}

/*
 * Skip the IPv4 header a raw socket delivers, options and all.  A total
 * length beyond what was read means the datagram was cut short.
 */
static const char *
ip4_strip(const uint8_t **pkt, size_t *len, struct icmp_reply *out)
{
	const uint8_t *p = *pkt;
	size_t ihl, tot;

	if (*len < IP4_HDR_MIN)
		return "truncated";
	if (p[0] >> 4 != 4)
		return "not IPv4";
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl < IP4_HDR_MIN || ihl > *len)
		return "bad IHL";
	out->ttl = p[8];
	if (p[9] != IPPROTO_ICMP)
		return "not ICMP";
	tot = rd16(p + 2);
	if (tot > *len)
		return "truncated";
	if (tot < ihl)
		return "bad total length";
	*pkt = p + ihl;
	*len = tot - ihl;
	return NULL;
}

/* The identifier and sequence number of an echo header must be ours. */
static const char *
match_ids(const struct icmp_expect *ex, const uint8_t *echo)
{
	if (ex->check_ident && rd16(echo + 4) != ex->ident)
		return "foreign identifier";
	if (!seq_ok(ex, rd16(echo + 6)))
		return "stale sequence";
	return NULL;
}

/*
 * The payload must start with the cookie.  A quoted request may stop
 * short of it (routers need return only 8 bytes), so only what is there
 * is compared.
 */
static const char *
match_cookie(const struct icmp_expect *ex, const uint8_t *echo, size_t n,
    bool quoted)
{
	size_t have = n - ICMP_ECHO_HDR_LEN;

	if (have < ex->cookie_len && !quoted)
		return "cookie mismatch";
	if (have > ex->cookie_len)
		have = ex->cookie_len;
	if (have > 0 && memcmp(echo + ICMP_ECHO_HDR_LEN, ex->cookie, have) != 0)
		return "cookie mismatch";
	return NULL;
}

static enum icmp_verdict
judge_reply(const struct icmp_expect *ex, const uint8_t *icmp, size_t n,
    const struct addr *src, const struct addr *target, struct icmp_reply *out)
{
	const char *why;

	if (icmp[1] != 0)
		return ignore(out, "not a reply");
	if ((why = match_ids(ex, icmp)) != NULL)
		return ignore(out, why);
	if (!addr_eq(src, target))
		return ignore(out, "spoofed source");
	if ((why = match_cookie(ex, icmp, n, false)) != NULL)
		return ignore(out, why);
	out->verdict = ICMP_ECHO_REPLY;
	out->seq = rd16(icmp + 6);
	return ICMP_ECHO_REPLY;
}

/* An IPv4 error must quote our echo request to the target. */
static const char *
quote4(const uint8_t *q, size_t qn, const struct addr *target,
    const uint8_t **echo, size_t *echolen)
{
	size_t ihl;

	if (qn < IP4_HDR_MIN)
		return "truncated";
	ihl = (size_t)(q[0] & 0x0f) * 4;
	if (q[0] >> 4 != 4 || ihl < IP4_HDR_MIN)
		return "bad quoted header";
	if (qn < ihl + ICMP_ECHO_HDR_LEN)
		return "truncated";
	if (q[9] != IPPROTO_ICMP || memcmp(q + 16, target->b, 4) != 0 ||
	    q[ihl] != ICMP_ECHO)
		return "error quoting another packet";
	*echo = q + ihl;
	*echolen = qn - ihl;
	return NULL;
}

/* An ICMPv6 error must quote our echo request, with no extension header. */
static const char *
quote6(const uint8_t *q, size_t qn, const struct addr *target,
    const uint8_t **echo, size_t *echolen)
{
	if (qn < IP6_HDR_LEN + ICMP_ECHO_HDR_LEN)
		return "truncated";
	if (q[0] >> 4 != 6)
		return "bad quoted header";
	if (q[6] != IPPROTO_ICMPV6 || memcmp(q + 24, target->b, 16) != 0 ||
	    q[IP6_HDR_LEN] != ICMP6_ECHO_REQUEST)
		return "error quoting another packet";
	*echo = q + IP6_HDR_LEN;
	*echolen = qn - IP6_HDR_LEN;
	return NULL;
}

/* The source of an error is any router on the path: only the quote counts. */
static enum icmp_verdict
judge_error(const struct icmp_expect *ex, const uint8_t *icmp, size_t n,
    const struct addr *target, const char *phrase, struct icmp_reply *out)
{
	const uint8_t *q = icmp + ICMP_ECHO_HDR_LEN, *echo = NULL;
	size_t qn = n - ICMP_ECHO_HDR_LEN, echolen = 0;
	const char *why;

	if (ex->family == AF_INET)
		why = quote4(q, qn, target, &echo, &echolen);
	else
		why = quote6(q, qn, target, &echo, &echolen);
	if (why != NULL)
		return ignore(out, why);
	if (match_ids(ex, echo) != NULL ||
	    match_cookie(ex, echo, echolen, true) != NULL)
		return ignore(out, "error quoting another packet");
	out->verdict = ICMP_ERROR;
	out->seq = rd16(echo + 6);
	snprintf(out->error, sizeof(out->error), "%s (from %s)", phrase,
	    out->from);
	return ICMP_ERROR;
}

static const char *
error_phrase4(uint8_t type, uint8_t code)
{
	switch (type) {
	case ICMP_DEST_UNREACH:
		if (code < NITEMS(unreach4))
			return unreach4[code];
		return "destination unreachable";
	case ICMP_TIME_EXCEEDED:
		if (code == ICMP_EXC_FRAGTIME)
			return "fragment reassembly time exceeded";
		return "time exceeded";
	case ICMP_PARAMETERPROB:
		return "parameter problem";
	default:
		return NULL;
	}
}

static const char *
error_phrase6(uint8_t type, uint8_t code)
{
	switch (type) {
	case ICMP6_DST_UNREACH:
		if (code < NITEMS(unreach6))
			return unreach6[code];
		return "destination unreachable";
	case ICMP6_PACKET_TOO_BIG:
		return "packet too big";
	case ICMP6_TIME_EXCEEDED:
		if (code == ICMP6_TIME_EXCEED_REASSEMBLY)
			return "fragment reassembly time exceeded";
		return "time exceeded";
	case ICMP6_PARAM_PROB:
		return "parameter problem";
	default:
		return NULL;
	}
}

/* With no sockaddr, a raw IPv4 datagram still names its source. */
static void
find_source(const struct icmp_expect *ex, const uint8_t *pkt, size_t len,
    const struct sockaddr *from, struct addr *src, struct icmp_reply *out)
{
	addr_from_sa(src, from, ex->family);
	if (src->len == 0 && ex->family == AF_INET && ex->ip_header &&
	    len >= IP4_HDR_MIN) {
		memcpy(src->b, pkt + 12, 4);
		src->len = 4;
	}
	if (src->len != 0)
		inet_ntop(ex->family, src->b, out->from, sizeof(out->from));
}

enum icmp_verdict
icmp_parse(const struct icmp_expect *ex, const uint8_t *pkt, size_t len,
    const struct sockaddr *from, struct icmp_reply *out)
{
	struct addr src, target;
	const char *why, *phrase;
	bool v4 = ex->family == AF_INET;

	memset(out, 0, sizeof(*out));
	out->ttl = -1;
	if (!v4 && ex->family != AF_INET6)
		return ignore(out, "bad address family");
	addr_from_sa(&target, ex->target, ex->family);
	if (target.len == 0)
		return ignore(out, "no target address");
	find_source(ex, pkt, len, from, &src, out);
	if (src.len == 0)
		return ignore(out, "no source address");
	if (v4 && ex->ip_header && (why = ip4_strip(&pkt, &len, out)) != NULL)
		return ignore(out, why);
	if (len < ICMP_ECHO_HDR_LEN)
		return ignore(out, "truncated");
	out->type = pkt[0];
	out->code = pkt[1];
	if (v4 && ex->ip_header && cksum(pkt, len) != 0)
		return ignore(out, "bad checksum");
	if (out->type == (v4 ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY))
		return judge_reply(ex, pkt, len, &src, &target, out);
	if (v4)
		phrase = error_phrase4(out->type, out->code);
	else
		phrase = error_phrase6(out->type, out->code);
	if (phrase == NULL)
		return ignore(out, "not a reply");
	return judge_error(ex, pkt, len, &target, phrase, out);
}

size_t
icmp_build_echo(int family, uint16_t ident, uint16_t seq, const uint8_t *cookie,
    size_t cookie_len, size_t payload_len, uint8_t *buf, size_t cap)
{
	size_t i, len;

	if (family != AF_INET && family != AF_INET6)
		return 0;
	if (cookie_len > payload_len || cap < ICMP_ECHO_HDR_LEN ||
	    payload_len > cap - ICMP_ECHO_HDR_LEN)
		return 0;
	len = ICMP_ECHO_HDR_LEN + payload_len;
	buf[0] = family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
	buf[1] = 0;
	wr16(buf + 2, 0);
	wr16(buf + 4, ident);
	wr16(buf + 6, seq);
	if (cookie_len > 0)
		memcpy(buf + ICMP_ECHO_HDR_LEN, cookie, cookie_len);
	for (i = cookie_len; i < payload_len; i++)
		buf[ICMP_ECHO_HDR_LEN + i] = (uint8_t)i;
	if (family == AF_INET)
		wr16(buf + 2, cksum(buf, len));
	return len;
}

const char *
icmp_error_phrase(int family, uint8_t type, uint8_t code)
{
	const char *p = family == AF_INET6 ? error_phrase6(type, code)
	                                   : error_phrase4(type, code);

	return p != NULL ? p : "ICMP error";
}
