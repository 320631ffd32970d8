/*
 * libFuzzer target for the small parsers of option values: each input is
 * split into lines, and every line is read as a duration, a size and an
 * integer.  The first line is also an allowlist, and every line a host
 * asked of it.  Beyond memory safety: a value accepted prints back to
 * text that parses to the same value, the bounds given are kept, every
 * refusal says why, and every network and plain name listed allows
 * itself, whatever the case it is asked in.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowlist.h"
#include "target.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

/* Enough for every line of a default-sized input to be asked about. */
#define FUZZ_LINES_MAX 64

static void
check_duration(const char *s)
{
	char err[256], text[64];
	int64_t v, again;

	err[0] = '\0';
	if (duration_parse(s, &v, err, sizeof(err)) == -1) {
		CHECK(err[0] != '\0');
		return;
	}
	CHECK(v >= 0 && v <= DURATION_MAX_US);
	duration_format(v, text, sizeof(text));
	CHECK(duration_parse(text, &again, err, sizeof(err)) == 0);
	CHECK(again == v);
}

static void
check_size(const char *s)
{
	char err[256], text[32];
	uint64_t v, again;

	err[0] = '\0';
	if (size_parse(s, 0, UINT64_MAX, &v, err, sizeof(err)) == -1) {
		CHECK(err[0] != '\0');
		return;
	}
	snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	CHECK(size_parse(text, 0, UINT64_MAX, &again, err, sizeof(err)) == 0);
	CHECK(again == v);
	CHECK(size_parse(s, v, v, &again, err, sizeof(err)) == 0);
	if (v > 0) {
		err[0] = '\0';
		CHECK(size_parse(s, 0, v - 1, &again, err, sizeof(err)) == -1);
		CHECK(err[0] != '\0');
	}
}

static void
check_int(const char *s)
{
	char err[256], text[32];
	long long v, again;

	err[0] = '\0';
	if (parse_int_range(s, LLONG_MIN, LLONG_MAX, &v, err, sizeof(err)) ==
	    -1) {
		CHECK(err[0] != '\0');
		return;
	}
	snprintf(text, sizeof(text), "%lld", v);
	CHECK(parse_int_range(text, LLONG_MIN, LLONG_MAX, &again, err,
	          sizeof(err)) == 0);
	CHECK(again == v);
	CHECK(parse_int_range(s, v, v, &again, err, sizeof(err)) == 0);
	if (v > LLONG_MIN) {
		err[0] = '\0';
		CHECK(parse_int_range(s, LLONG_MIN, v - 1, &again, err,
		          sizeof(err)) == -1);
		CHECK(err[0] != '\0');
	}
}

/* The answer for a host may not depend on the case it is written in. */
static bool
host_ok(const struct allowlist *al, const char *host)
{
	char *upper = xstrdup(host);
	bool ok;

	for (char *c = upper; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	ok = allowlist_host_ok(al, host);
	CHECK(allowlist_host_ok(al, upper) == ok);
	free(upper);
	return ok;
}

/* ::ffff:0:0/96, whose addresses are judged as the IPv4 ones they carry. */
static bool
v4_mapped(int family, const uint8_t *b)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
	    0xff};

	return family == AF_INET6 && memcmp(b, mapped, sizeof(mapped)) == 0;
}

/*
 * A network holds its first and its last address, and no bits past it;
 * an IPv6 network spanning ::ffff:0:0/96 ("::/80") holds none of it.
 */
static void
check_net(const struct allowlist *al, const struct allow_net *n)
{
	char text[INET6_ADDRSTRLEN];
	uint8_t last[16];
	unsigned len = n->family == AF_INET ? 4 : 16, i;

	CHECK(n->family == AF_INET || n->family == AF_INET6);
	CHECK(n->prefix <= len * 8);
	memcpy(last, n->addr, sizeof(last));
	for (i = n->prefix; i < len * 8; i++) {
		CHECK((n->addr[i / 8] & (0x80 >> (i % 8))) == 0);
		last[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	}
	CHECK(!v4_mapped(n->family, n->addr));
	CHECK(inet_ntop(n->family, n->addr, text, sizeof(text)) != NULL);
	CHECK(host_ok(al, text));
	if (v4_mapped(n->family, last))
		return;
	CHECK(inet_ntop(n->family, last, text, sizeof(text)) != NULL);
	CHECK(host_ok(al, text));
}

/* A pattern with no glob in it matches the name it spells. */
static void
check_pattern(const struct allowlist *al, const char *p)
{
	struct in_addr in;
	char *dot;
	size_t n = strlen(p);

	CHECK(n > 0 && n <= TARGET_HOST_MAX);
	for (const char *c = p; *c != '\0'; c++)
		CHECK(!isupper((unsigned char)*c));
	/* A name inet_aton() takes is judged as the address it is. */
	if (strpbrk(p, "*?[") != NULL || p[n - 1] == '.' ||
	    inet_aton(p, &in) == 1)
		return;
	CHECK(host_ok(al, p));
	if (xasprintf(&dot, "%s.", p) == -1)
		abort();
	CHECK(host_ok(al, dot));
	free(dot);
}

static void
check_allowlist(const char *spec, char **hosts, size_t nhosts)
{
	struct allowlist al;
	char err[512];
	size_t i;

	memset(&al, 0, sizeof(al));
	err[0] = '\0';
	if (allowlist_add(&al, spec, err, sizeof(err)) == -1)
		CHECK(err[0] != '\0');
	CHECK(al.nnets + al.npatterns <= ALLOWLIST_MAX);
	for (i = 0; i < al.nnets; i++)
		check_net(&al, &al.nets[i]);
	for (i = 0; i < al.npatterns; i++)
		check_pattern(&al, al.patterns[i]);
	for (i = 0; i < nhosts; i++)
		(void)host_ok(&al, hosts[i]);
	allowlist_free(&al);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *rest, *lines[FUZZ_LINES_MAX];
	size_t i, n = 0;

	/* Every caller hands these parsers a NUL-terminated string. */
	copy = xmalloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	rest = copy;
	while (n < FUZZ_LINES_MAX && rest != NULL)
		lines[n++] = strsep(&rest, "\n");
	for (i = 0; i < n; i++) {
		check_duration(lines[i]);
		check_size(lines[i]);
		check_int(lines[i]);
	}
	check_allowlist(lines[0], lines, n);
	free(copy);
	return 0;
}
