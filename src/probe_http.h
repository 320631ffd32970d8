/* HTTP(S) probe with libcurl: status, body match, phases, TLS expiry. */
#ifndef PULSE_PROBE_HTTP_H
#define PULSE_PROBE_HTTP_H

#include <stdint.h>

#include "result.h"
#include "target.h"

/* Per-worker state: the reused easy handle and compiled patterns. */
struct probe_http_ctx;

struct probe_http_ctx *probe_http_ctx_new(void);
void probe_http_ctx_free(struct probe_http_ctx *);

/*
 * Probe t with a fresh connection, DNS lookup and TLS handshake; deadline_us
 * is on the mono_now_us() clock.  Always fills r.
 */
void probe_http_run(const struct target *t, int64_t deadline_us,
    struct probe_http_ctx *, struct result *r);

#endif
