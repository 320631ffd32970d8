/* ICMP echo probe: count echoes, loss, RTT statistics, ICMP errors. */
#ifndef PULSE_PROBE_ICMP_H
#define PULSE_PROBE_ICMP_H

#include <stddef.h>
#include <stdint.h>

#include "probe_env.h"
#include "result.h"
#include "target.h"

/*
 * Send t->count echo requests t->interval_us apart and collect replies
 * until every request is answered or deadline_us passes.  Success means
 * at least one echo reply came back.
 */
void probe_icmp_run(const struct target *t, int64_t deadline_us,
    struct probe_env *env, struct result *r);

#define PROBE_ICMP_GROUP_MAX 64

/* Told that r[i] is final, as soon as it is. */
typedef void (*probe_done_cb)(void *arg, size_t i);
/* Told that the group is about to wait for replies. */
typedef void (*probe_wait_cb)(void *arg);

/*
 * Run n (at most PROBE_ICMP_GROUP_MAX) ICMP probes at once over the same
 * sockets, as fping does: every target's requests go out, then replies
 * are handed to the probe they answer.  r[i] gets t[i]'s result; done,
 * if not NULL, hears of each as it ends, and wait, if not NULL, before
 * each wait for replies, so that what ended can be passed on.
 */
void probe_icmp_group(const struct target *const *t, const int64_t *deadline,
    size_t n, struct probe_env *env, struct result *r, probe_done_cb done,
    probe_wait_cb wait, void *arg);

#endif
