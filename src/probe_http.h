/* HTTP(S) probe with libcurl: status, body match, phases, TLS expiry. */
#ifndef PULSE_PROBE_HTTP_H
#define PULSE_PROBE_HTTP_H

#include <stdint.h>

#include "result.h"
#include "target.h"

/* Per-worker state: the reused easy handle and compiled patterns. */
struct probe_http_ctx;

/*
 * Load and set up libcurl and OpenSSL in this process, so that workers
 * forked after share what that costs; each ctx also does it as needed.
 */
void probe_http_global_init(void);
void probe_http_global_cleanup(void);
struct probe_http_ctx *probe_http_ctx_new(void);
void probe_http_ctx_free(struct probe_http_ctx *);

/* HTTP probes a worker runs at once, each on its own connection. */
#define PROBE_HTTP_BATCH_MAX 64

/*
 * Probe t with a fresh connection, DNS lookup and TLS handshake; deadline_us
 * is on the mono_now_us() clock.  Always fills r.
 */
void probe_http_run(const struct target *t, int64_t deadline_us,
    struct probe_http_ctx *, struct result *r);

/* A probe of the batch is over: its result is filled. */
typedef void (*probe_http_done_cb)(void *arg, void *cookie);

/*
 * Start t in the batch, to fill r: 0 when started, 1 when it could not be
 * (r says why, and done will not be called), -1 when the batch is full.
 */
int probe_http_batch_add(struct probe_http_ctx *, const struct target *t,
    int64_t deadline_us, struct result *r, void *cookie);
unsigned probe_http_batch_active(const struct probe_http_ctx *);
/*
 * Move the batch on: wait (up to a second) for its sockets or fd, call
 * done for each probe that ended.  Returns 1 when fd is readable.
 */
int probe_http_batch_run(struct probe_http_ctx *, int fd,
    probe_http_done_cb done, void *arg);

#endif
