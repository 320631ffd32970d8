/* Name resolution bounded by a deadline, shared by every probe. */
#ifndef PULSE_RESOLVE_H
#define PULSE_RESOLVE_H

#include <stdint.h>
#include <sys/socket.h>

#include "result.h"

#define RESOLVE_MAX 8 /* addresses tried per target, in resolver order */

struct resolved_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

struct resolved {
	struct resolved_addr v[RESOLVE_MAX];
	size_t n;
};

/*
 * Resolve host (a literal or a name) with port into out, keeping only
 * addresses of family (AF_INET, AF_INET6, or 0 for both).  Literals need
 * no lookup; a name gets until deadline_us, and r->dns_us records the time
 * it took.  On failure r holds REASON_DNS and a message; returns -1.
 */
int resolve_host(const char *host, uint16_t port, int family,
    int64_t deadline_us, struct resolved *out, struct result *r);
/* The numeric address of a resolved entry, without the port. */
void resolve_ntop(const struct resolved_addr *, char *buf, size_t len);

#endif
