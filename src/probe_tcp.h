/* TCP connect probe: resolve, connect without blocking, within a deadline. */
#ifndef PULSE_PROBE_TCP_H
#define PULSE_PROBE_TCP_H

#include <stdint.h>

#include "result.h"
#include "target.h"

/*
 * Probe t; deadline_us is on the mono_now_us() clock.  Always fills r:
 * success with the connect time, or a reason (dns, refused, timeout,
 * unreachable, permission, internal) and a message naming the target.
 */
void probe_tcp_run(const struct target *t, int64_t deadline_us,
    struct result *r);

/* TCP probes of literal addresses that one worker runs at once. */
struct probe_tcp_batch;

/* A probe of the batch is over: its result is filled. */
typedef void (*probe_tcp_done_cb)(void *arg, void *cookie);

struct probe_tcp_batch *probe_tcp_batch_new(unsigned max);
void probe_tcp_batch_free(struct probe_tcp_batch *);
/*
 * Start t (its host a literal address) to fill r: 0 when under way, 1 when
 * already over (r is filled, done will not be called), -1 when full.
 */
int probe_tcp_batch_add(struct probe_tcp_batch *, const struct target *t,
    int64_t deadline_us, struct result *r, void *cookie);
unsigned probe_tcp_batch_active(const struct probe_tcp_batch *);
/*
 * Move the batch on: wait (up to a second) for its sockets or fd, call
 * done for each probe that ended.  Returns 1 when fd is readable.
 */
int probe_tcp_batch_run(struct probe_tcp_batch *, int fd,
    probe_tcp_done_cb done, void *arg);

#endif
