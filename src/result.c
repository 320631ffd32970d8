/* The result model shared by probes, the supervisor and every output. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"
#include "util.h"

static const char *const reason_names[REASON_MAX] = {
    [REASON_NONE] = "none",
    [REASON_TIMEOUT] = "timeout",
    [REASON_REFUSED] = "refused",
    [REASON_UNREACHABLE] = "unreachable",
    [REASON_DNS] = "dns",
    [REASON_TLS] = "tls",
    [REASON_STATUS] = "status",
    [REASON_MATCH] = "match",
    [REASON_CRASH] = "crash",
    [REASON_DEADLINE] = "deadline",
    [REASON_CANCELLED] = "cancelled",
    [REASON_PERMISSION] = "permission",
    [REASON_CONFIG] = "config",
    [REASON_INTERNAL] = "internal",
    [REASON_PROTOCOL] = "protocol",
    [REASON_DENIED] = "denied",
};

void
result_init(struct result *r)
{
	memset(r, 0, sizeof(*r));
	r->dns_us = -1;
	r->connect_us = -1;
	r->rtt_min_us = r->rtt_avg_us = r->rtt_max_us = r->rtt_stddev_us = -1;
	r->reply_ttl = -1;
	r->http.body_matched = -1;
	r->http.tls_us = r->http.processing_us = r->http.transfer_us = -1;
}

void
result_copy(struct result *dst, const struct result *src)
{
	*dst = *src;
	if (src->http.final_url != NULL)
		dst->http.final_url = xstrdup(src->http.final_url);
}

void
result_release(struct result *r)
{
	free(r->http.final_url);
	r->http.final_url = NULL;
}

void
result_fail(struct result *r, enum reason reason, const char *fmt, ...)
{
	va_list ap;

	r->success = false;
	r->reason = reason;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

const char *
reason_name(enum reason reason)
{
	if ((unsigned)reason >= REASON_MAX)
		return "internal";
	return reason_names[reason];
}

enum reason
reason_from_name(const char *name)
{
	int i;

	for (i = 0; i < REASON_MAX; i++) {
		if (strcmp(reason_names[i], name) == 0)
			return (enum reason)i;
	}
	return REASON_MAX;
}
