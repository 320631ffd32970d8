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

#endif
