/*
 * Where probes asked for over HTTP (/probe) may go: networks, checked
 * against every address connected to, and host name patterns, checked
 * against every name asked for, the first and each redirect's.
 */
#ifndef PULSE_ALLOWLIST_H
#define PULSE_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "resolve.h"
#include "result.h"

#define ALLOWLIST_MAX 1024 /* entries, networks and patterns together */

struct allow_net {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;
};

struct allowlist {
	struct allow_net *nets;
	size_t nnets;
	char **patterns; /* lower case, fnmatch(3) globs */
	size_t npatterns;
};

/*
 * Add the comma-separated entries of spec: "10.0.0.0/8", "2001:db8::/32",
 * "192.0.2.7" or a host pattern such as "*.example.com".  0, or -1 with
 * the bad entry named in errbuf.
 */
int allowlist_add(struct allowlist *, const char *spec, char *errbuf,
    size_t errlen);
/* An address (IPv4-mapped IPv6 taken as IPv4) lies in a listed network. */
bool allowlist_addr_ok(const struct allowlist *, const struct sockaddr *);
/*
 * A host as a target or a redirect names it: a literal must lie in a
 * network, a name must match a pattern.
 */
bool allowlist_host_ok(const struct allowlist *, const char *host);
/*
 * Drop the addresses outside every network; when none is left, fail r
 * with REASON_DENIED naming the first one and return -1.
 */
int allowlist_filter(const struct allowlist *, struct resolved *,
    struct result *r);
void allowlist_free(struct allowlist *);

#endif
