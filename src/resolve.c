/* Resolve names with getaddrinfo_a so a slow resolver costs only its share. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resolve.h"
#include "util.h"

/*
 * A lookup that timed out and could not be cancelled still owns its
 * request; keep it here until glibc is done with it, then free it.
 */
#define RESOLVE_ORPHANS 64

struct lookup {
	struct gaicb cb;
	struct addrinfo hints;
	char name[256];
};

static struct lookup *orphans[RESOLVE_ORPHANS];

static void
lookup_free(struct lookup *l)
{
	if (l->cb.ar_result != NULL)
		freeaddrinfo(l->cb.ar_result);
	free(l);
}

static void
reap_orphans(void)
{
	int i;

	for (i = 0; i < RESOLVE_ORPHANS; i++) {
		if (orphans[i] != NULL &&
		    gai_error(&orphans[i]->cb) != EAI_INPROGRESS) {
			lookup_free(orphans[i]);
			orphans[i] = NULL;
		}
	}
}

/* Hand a still-running lookup to the orphan list, or leak it if full. */
static void
orphan(struct lookup *l)
{
	int i;

	for (i = 0; i < RESOLVE_ORPHANS; i++) {
		if (orphans[i] == NULL) {
			orphans[i] = l;
			return;
		}
	}
}

static void
set_port(struct resolved_addr *a, uint16_t port)
{
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
	else if (a->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

static void
copy_results(const struct addrinfo *ai, uint16_t port, struct resolved *out)
{
	for (out->n = 0; ai != NULL && out->n < RESOLVE_MAX; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(out->v[0].ss))
			continue;
		memcpy(&out->v[out->n].ss, ai->ai_addr, ai->ai_addrlen);
		out->v[out->n].len = ai->ai_addrlen;
		set_port(&out->v[out->n++], port);
	}
}

/* Wait for the lookup until the deadline; 0 done, -1 timed out. */
static int
wait_lookup(struct lookup *l, int64_t deadline_us)
{
	const struct gaicb *list[1] = {&l->cb};
	struct timespec ts;
	int64_t left;

	while (gai_error(&l->cb) == EAI_INPROGRESS) {
		if ((left = deadline_us - mono_now_us()) <= 0)
			return -1;
		ts.tv_sec = left / USEC_PER_SEC;
		ts.tv_nsec = (left % USEC_PER_SEC) * 1000;
		(void)gai_suspend(list, 1, &ts);
	}
	return 0;
}

/* Look a name up; numeric-only lookups (IPv6 with a zone) are immediate. */
static int
lookup_name(const char *host, uint16_t port, int family, int numeric,
    int64_t deadline_us, struct resolved *out, struct result *r)
{
	struct gaicb *list[1];
	struct lookup *l;
	int rc;

	reap_orphans();
	l = xcalloc(1, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", host);
	l->hints.ai_socktype = SOCK_STREAM;
	l->hints.ai_family = family;
	l->hints.ai_flags = numeric ? AI_NUMERICHOST : 0;
	l->cb.ar_name = l->name;
	l->cb.ar_request = &l->hints;
	list[0] = &l->cb;
	if ((rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL)) != 0) {
		result_fail(r, REASON_DNS, "cannot resolve %s: %s", host,
		    gai_strerror(rc));
		free(l);
		return -1;
	}
	if (wait_lookup(l, deadline_us) == -1) {
		result_fail(r, REASON_DNS, "resolving %s timed out", host);
		if (gai_cancel(&l->cb) == EAI_CANCELED)
			lookup_free(l);
		else
			orphan(l);
		return -1;
	}
	if ((rc = gai_error(&l->cb)) != 0) {
		result_fail(r, REASON_DNS, "cannot resolve %s: %s", host,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		lookup_free(l);
		return -1;
	}
	copy_results(l->cb.ar_result, port, out);
	lookup_free(l);
	if (out->n == 0) {
		result_fail(r, REASON_DNS, "%s has no %s address", host,
		    family == AF_INET        ? "IPv4"
		        : family == AF_INET6 ? "IPv6"
		                             : "IPv4 or IPv6");
		return -1;
	}
	return 0;
}

int
resolve_host(const char *host, uint16_t port, int family, int64_t deadline_us,
    struct resolved *out, struct result *r)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->v[0].ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->v[0].ss;
	int64_t t0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		out->v[0].len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		out->v[0].len = sizeof(*sin6);
	} else {
		t0 = mono_now_us();
		rc = lookup_name(host, port, family, strchr(host, ':') != NULL,
		    deadline_us, out, r);
		r->dns_us = mono_now_us() - t0;
		return rc;
	}
	if (family != 0 && out->v[0].ss.ss_family != family) {
		result_fail(r, REASON_CONFIG, "%s is not an %s address", host,
		    family == AF_INET ? "IPv4" : "IPv6");
		return -1;
	}
	out->n = 1;
	set_port(&out->v[0], port);
	return 0;
}

void
resolve_ntop(const struct resolved_addr *a, char *buf, size_t len)
{
	const void *src;

	if (a->ss.ss_family == AF_INET)
		src = &((const struct sockaddr_in *)&a->ss)->sin_addr;
	else
		src = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
	if (inet_ntop(a->ss.ss_family, src, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}
