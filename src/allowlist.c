/* The allowlist of /probe: networks for addresses, patterns for names. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowlist.h"
#include "target.h"
#include "util.h"

/* An address in network byte order, its family and length in bytes. */
struct addr_bytes {
	int family;
	uint8_t b[16];
};

/* "::ffff:192.0.2.1" is 192.0.2.1 on the wire: it is judged as IPv4. */
static void
addr_unmap(struct addr_bytes *a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
	    0xff};

	if (a->family == AF_INET6 && memcmp(a->b, mapped, 12) == 0) {
		memmove(a->b, a->b + 12, 4);
		a->family = AF_INET;
	}
}

/*
 * A literal as the resolver would take it: inet_aton's shorthands too
 * ("127.1", "0x7f.0.0.1", "2130706433"), and IPv6 with a zone.
 */
static bool
addr_from_text(const char *s, struct addr_bytes *a)
{
	char v6[INET6_ADDRSTRLEN + 1];
	struct in_addr in;
	size_t n = strcspn(s, "%");

	if (inet_aton(s, &in) == 1) {
		a->family = AF_INET;
		memcpy(a->b, &in, 4);
		return true;
	}
	if (n >= sizeof(v6))
		return false;
	memcpy(v6, s, n);
	v6[n] = '\0';
	if (inet_pton(AF_INET6, v6, a->b) != 1)
		return false;
	a->family = AF_INET6;
	addr_unmap(a);
	return true;
}

static bool
net_contains(const struct allow_net *n, const struct addr_bytes *a)
{
	unsigned full = n->prefix / 8, rest = n->prefix % 8;
	uint8_t mask;

	if (n->family != a->family || memcmp(n->addr, a->b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (n->addr[full] & mask) == (a->b[full] & mask);
}

static bool
addr_allowed(const struct allowlist *al, const struct addr_bytes *a)
{
	size_t i;

	for (i = 0; i < al->nnets; i++)
		if (net_contains(&al->nets[i], a))
			return true;
	return false;
}

/* "ADDR" or "ADDR/PREFIX" into a network; -1 when it is neither. */
static int
net_parse(const char *s, struct allow_net *n, char *errbuf, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	struct addr_bytes a;
	long long prefix;
	unsigned max, i;

	if (len >= sizeof(addr))
		return -1;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, a.b) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, addr, a.b) == 1)
		a.family = AF_INET6;
	else
		return -1;
	max = a.family == AF_INET ? 32 : 128;
	prefix = max;
	if (slash != NULL &&
	    (slash[1] < '0' || slash[1] > '9' ||
	        (slash[1] == '0' && slash[2] != '\0') ||
	        parse_int_range(slash + 1, 0, max, &prefix, errbuf, errlen) ==
	            -1)) {
		snprintf(errbuf, errlen, "'%s': the prefix must be 0..%u", s,
		    max);
		return -2;
	}
	/* ::ffff:10.0.0.0/104 is 10.0.0.0/8: addresses are judged as IPv4. */
	addr_unmap(&a);
	if (a.family == AF_INET && max == 128) {
		if (prefix < 96) {
			snprintf(errbuf, errlen,
			    "'%s': an IPv4-mapped network needs a prefix of "
			    "96 or more",
			    s);
			return -2;
		}
		prefix -= 96;
		max = 32;
	}
	n->family = a.family;
	n->prefix = (unsigned)prefix;
	memset(n->addr, 0, sizeof(n->addr));
	for (i = 0; i < max / 8; i++)
		n->addr[i] = i * 8 < n->prefix ? a.b[i] : 0;
	if (n->prefix % 8 != 0)
		n->addr[n->prefix / 8] &=
		    (uint8_t)(0xff << (8 - n->prefix % 8));
	return 0;
}

/* A host pattern: the characters of names, and the globs * ? [ ]. */
static bool
pattern_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > TARGET_HOST_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("-._*?[]!", *s) == NULL)
			return false;
	return true;
}

static int
add_entry(struct allowlist *al, const char *s, char *errbuf, size_t errlen)
{
	struct allow_net n;
	char *p;
	int rc;

	if (al->nnets + al->npatterns >= ALLOWLIST_MAX) {
		snprintf(errbuf, errlen, "'%s': more than %d entries", s,
		    ALLOWLIST_MAX);
		return -1;
	}
	if ((rc = net_parse(s, &n, errbuf, errlen)) == 0) {
		al->nets =
		    xreallocarray(al->nets, al->nnets + 1, sizeof(*al->nets));
		al->nets[al->nnets++] = n;
		return 0;
	}
	if (rc == -2)
		return -1;
	/* "300.1.1.1" is a mistyped address, not a name to match. */
	if (strchr(s, '/') != NULL || !pattern_ok(s) ||
	    strspn(s, "0123456789.") == strlen(s)) {
		snprintf(errbuf, errlen,
		    "'%s' is neither a network (10.0.0.0/8) nor a host "
		    "pattern (*.example.com)",
		    s);
		return -1;
	}
	p = xstrdup(s);
	for (char *c = p; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	al->patterns = xreallocarray(al->patterns, al->npatterns + 1,
	    sizeof(*al->patterns));
	al->patterns[al->npatterns++] = p;
	return 0;
}

int
allowlist_add(struct allowlist *al, const char *spec, char *errbuf,
    size_t errlen)
{
	char *copy = xstrdup(spec), *rest = copy, *tok;
	int rc = 0;

	while (rc == 0 && (tok = strsep(&rest, ",")) != NULL) {
		if (*tok == '\0') {
			snprintf(errbuf, errlen, "an empty entry in '%s'",
			    spec);
			rc = -1;
		} else
			rc = add_entry(al, tok, errbuf, errlen);
	}
	free(copy);
	return rc;
}

bool
allowlist_addr_ok(const struct allowlist *al, const struct sockaddr *sa)
{
	struct addr_bytes a;

	if (sa->sa_family == AF_INET) {
		a.family = AF_INET;
		memcpy(a.b,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    4);
	} else if (sa->sa_family == AF_INET6) {
		a.family = AF_INET6;
		memcpy(a.b,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    16);
		addr_unmap(&a);
	} else
		return false;
	return addr_allowed(al, &a);
}

bool
allowlist_host_ok(const struct allowlist *al, const char *host)
{
	char name[TARGET_HOST_MAX + 2];
	struct addr_bytes a;
	size_t i, n = strlen(host);

	if (addr_from_text(host, &a))
		return addr_allowed(al, &a);
	/* "example.com." is example.com. */
	if (n > 0 && host[n - 1] == '.')
		n--;
	if (n == 0 || n > TARGET_HOST_MAX)
		return false;
	for (i = 0; i < n; i++)
		name[i] = (char)tolower((unsigned char)host[i]);
	name[n] = '\0';
	for (i = 0; i < al->npatterns; i++)
		if (fnmatch(al->patterns[i], name, 0) == 0)
			return true;
	return false;
}

int
allowlist_filter(const struct allowlist *al, struct resolved *res,
    struct result *r)
{
	char first[INET6_ADDRSTRLEN] = "";
	size_t i, kept = 0;

	for (i = 0; i < res->n; i++) {
		if (allowlist_addr_ok(al, (struct sockaddr *)&res->v[i].ss))
			res->v[kept++] = res->v[i];
		else if (first[0] == '\0')
			resolve_ntop(&res->v[i], first, sizeof(first));
	}
	res->n = kept;
	if (kept > 0)
		return 0;
	if (first[0] == '\0') {
		result_fail(r, REASON_DENIED, "no address to probe");
		return -1;
	}
	snprintf(r->address, sizeof(r->address), "%s", first);
	result_fail(r, REASON_DENIED, "address %s is outside the allowlist",
	    first);
	return -1;
}

void
allowlist_free(struct allowlist *al)
{
	size_t i;

	for (i = 0; i < al->npatterns; i++)
		free(al->patterns[i]);
	free(al->patterns);
	free(al->nets);
	memset(al, 0, sizeof(*al));
}
