/* Address ranges in targets: 192.0.2.0/28, 192.0.2.1-192.0.2.9, [2001:db8::/120]. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "target.h"
#include "util.h"

/* The pieces of a first token that names a range. */
struct range {
	char scheme[8]; /* "icmp://", "tcp://" or "" */
	char host[96];  /* the range as written */
	char port[8];   /* ":80" or "" */
	bool v6;
	uint8_t first[16], last[16]; /* inclusive, network order */
};

/* Add 1 to a big-endian address of n bytes. */
static void
addr_next(uint8_t *a, size_t n)
{
	while (n-- > 0 && ++a[n] == 0)
		;
}

/* How many addresses first..last holds, capped just past the limit. */
static uint64_t
range_size(const struct range *r)
{
	size_t n = r->v6 ? 16 : 4, i;
	uint64_t lo = 0, hi = 0;

	for (i = 0; i + 8 < n; i++)
		if (r->first[i] != r->last[i])
			return TARGET_RANGE_MAX + 1;
	for (i = n > 8 ? n - 8 : 0; i < n; i++) {
		lo = lo << 8 | r->first[i];
		hi = hi << 8 | r->last[i];
	}
	if (hi < lo)
		return 0;
	return hi - lo >= TARGET_RANGE_MAX ? TARGET_RANGE_MAX + 1 : hi - lo + 1;
}

/* "192.0.2.0/28": every address of the prefix, as fping -g takes it. */
static int
parse_cidr(struct range *r, char *slash, char *errbuf, size_t errlen)
{
	size_t n, i;
	long long bits;
	char why[64];

	*slash = '\0';
	r->v6 = strchr(r->host, ':') != NULL;
	n = r->v6 ? 16 : 4;
	if (inet_pton(r->v6 ? AF_INET6 : AF_INET, r->host, r->first) != 1 ||
	    parse_int_range(slash + 1, 0, (long long)n * 8, &bits, why,
	        sizeof(why)) == -1) {
		*slash = '/';
		snprintf(errbuf, errlen, "invalid address range '%s'", r->host);
		return -1;
	}
	*slash = '/';
	for (i = 0; i < n; i++) {
		int keep = bits >= (long long)(i + 1) * 8 ? 8
		    : bits <= (long long)i * 8            ? 0
		                               : (int)(bits - (long long)i * 8);
		uint8_t mask = (uint8_t)(0xff00 >> keep);

		r->first[i] &= mask;
		r->last[i] = (uint8_t)(r->first[i] | (uint8_t)~mask);
	}
	/* An IPv4 network's own and broadcast addresses are no hosts. */
	if (!r->v6 && bits <= 30) {
		addr_next(r->first, 4);
		for (i = 4; i-- > 0 && r->last[i]-- == 0;)
			;
	}
	return 0;
}

/* "192.0.2.1-192.0.2.9" or "192.0.2.1-9": IPv4 only. */
static int
parse_dash(struct range *r, char *dash, char *errbuf, size_t errlen)
{
	char last[INET_ADDRSTRLEN + 1], *dot;
	int ok;

	*dash = '\0';
	ok = inet_pton(AF_INET, r->host, r->first) == 1;
	if (ok && strchr(dash + 1, '.') == NULL &&
	    (dot = strrchr(r->host, '.')) != NULL && strlen(dash + 1) <= 3 &&
	    (size_t)(dot - r->host) + 1 + strlen(dash + 1) < sizeof(last)) {
		snprintf(last, sizeof(last), "%.*s.%s", (int)(dot - r->host),
		    r->host, dash + 1);
		ok = inet_pton(AF_INET, last, r->last) == 1;
	} else if (ok)
		ok = inet_pton(AF_INET, dash + 1, r->last) == 1;
	*dash = '-';
	if (!ok || memcmp(r->first, r->last, 4) > 0) {
		snprintf(errbuf, errlen, "invalid address range '%s'", r->host);
		return -1;
	}
	return 0;
}

/* Split the first token; 0 when it names no range. */
static int
split_token(const char *tok, struct range *r)
{
	const char *p = tok, *end, *colon;
	size_t n;

	memset(r, 0, sizeof(*r));
	if (strstr(p, "://") != NULL && strncasecmp(p, "icmp://", 7) != 0 &&
	    strncasecmp(p, "tcp://", 6) != 0)
		return 0; /* a URL: http://h:8080/x is no range */
	if (!strncasecmp(p, "icmp://", 7) || !strncasecmp(p, "tcp://", 6)) {
		n = (size_t)(strstr(p, "://") - p) + 3;
		snprintf(r->scheme, sizeof(r->scheme), "%.*s", (int)n, p);
		p += n;
	}
	if (*p == '[') {
		if ((end = strchr(p, ']')) == NULL)
			return 0;
		colon = end[1] == ':' ? end + 1 : NULL;
		n = (size_t)(end - p - 1);
		p++;
	} else {
		colon = strchr(p, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL; /* a bare IPv6 address */
		n = colon != NULL ? (size_t)(colon - p) : strlen(p);
	}
	if (n == 0 || n >= sizeof(r->host) ||
	    (colon != NULL && strlen(colon) >= sizeof(r->port)))
		return 0;
	memcpy(r->host, p, n);
	r->host[n] = '\0';
	if (colon != NULL)
		snprintf(r->port, sizeof(r->port), "%s", colon);
	if ((end = strchr(r->host, '/')) != NULL)
		return end[1] != '\0' &&
		    strspn(end + 1, "0123456789") == strlen(end + 1);
	/* A dash between digits: names may hold dashes, so be strict. */
	end = strchr(r->host, '-');
	return end != NULL && end > r->host &&
	    isdigit((unsigned char)end[-1]) && isdigit((unsigned char)end[1]) &&
	    strchr(r->host, ':') == NULL &&
	    strspn(r->host, "0123456789.-") == strlen(r->host);
}

int
target_range_expand(const char *line, size_t len,
    int (*add)(void *, const char *, size_t), void *arg, char *errbuf,
    size_t errlen)
{
	char tok[160], addr[INET6_ADDRSTRLEN], *text;
	const char *rest;
	struct range r;
	uint64_t count, i;
	size_t n;
	int rc;

	/* The line need not end in a NUL: stay within len. */
	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	for (n = 0; n < len && n < sizeof(tok) && line[n] != '\0' &&
	     strchr(" \t\r\n", line[n]) == NULL;
	     n++)
		;
	if (n == 0 || n >= sizeof(tok))
		return 0;
	memcpy(tok, line, n);
	tok[n] = '\0';
	if (tok[0] == '#' || !split_token(tok, &r))
		return 0;
	if ((strchr(r.host, '/') != NULL
	            ? parse_cidr(&r, strchr(r.host, '/'), errbuf, errlen)
	            : parse_dash(&r, strchr(r.host, '-'), errbuf, errlen)) ==
	    -1)
		return -1;
	if ((count = range_size(&r)) > TARGET_RANGE_MAX) {
		snprintf(errbuf, errlen,
		    "range '%s' holds more than %d addresses", r.host,
		    TARGET_RANGE_MAX);
		return -1;
	}
	rest = line + n;
	for (i = 0; i < count; i++, addr_next(r.first, r.v6 ? 16 : 4)) {
		inet_ntop(r.v6 ? AF_INET6 : AF_INET, r.first, addr,
		    sizeof(addr));
		n = (size_t)xasprintf(&text, "%s%s%s%s%s%.*s", r.scheme,
		    r.v6 && r.port[0] ? "[" : "", addr,
		    r.v6 && r.port[0] ? "]" : "", r.port,
		    (int)(len - (size_t)(rest - line)), rest);
		rc = add(arg, text, n);
		free(text);
		if (rc == -1)
			return -1;
	}
	return 1;
}
