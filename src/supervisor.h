/*
 * The supervisor's worker pool: a fixed set of worker processes, a queue
 * of probes, one deadline per probe in flight, and a result for every
 * probe submitted, whether the worker answered, crashed, hung or was
 * cancelled.  Runs inside the caller's libevent loop.
 */
#ifndef PULSE_SUPERVISOR_H
#define PULSE_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "result.h"
#include "target.h"
#include "worker.h"

struct event_base;
struct sup;

typedef void (*sup_result_cb)(void *arg, uint64_t id, const struct target *,
    const struct result *);

struct sup_config {
	unsigned workers;  /* pool size, 1..4096 */
	unsigned parallel; /* TCP or HTTP probes a worker runs at once */
	int64_t default_timeout_us; /* for targets without timeout= */
	int64_t slack_us;           /* supervisor deadline past the timeout */
	unsigned default_count;     /* ICMP echoes without count= */
	double rate;                /* probes started per second, 0: any */
	bool icmp;                  /* open ICMP sockets for the workers */
	bool http; /* set up libcurl before forking: HTTP probes will come */
	bool drop; /* workers switch to uid/gid */
	uid_t uid;
	gid_t gid;
	struct worker_limits limits;
	const struct allowlist *allow; /* for targets with allow set */
	bool sandbox;                  /* workers under seccomp (default) */
	sup_result_cb on_result;
	void *arg;
};

struct sup_stats {
	uint64_t submitted, completed;
	uint64_t crashes;        /* workers that died holding a probe */
	uint64_t deadline_kills; /* workers killed past their deadline */
	uint64_t respawns;
	uint64_t spawn_failures;
};

/*
 * The settings every pool of pulse shares: the deadline slack, the
 * worker limits (no address-space cap under the address sanitizer), one
 * ICMP echo unless count= says more.  Zeroes the rest.
 */
void sup_config_defaults(struct sup_config *);
/* Start the pool; NULL if no worker at all could be started. */
struct sup *sup_new(struct event_base *, const struct sup_config *);
/* Queue a probe of t (which must outlive its result) under id. */
void sup_submit(struct sup *, const struct target *t, uint64_t id);
/* Probes not started yet: queued, or waiting in a worker busy with one. */
size_t sup_queued(const struct sup *);
/* Probes running in workers right now (at most one per worker). */
size_t sup_inflight(const struct sup *);
/* The pool's size, and the worker processes running now. */
unsigned sup_workers(const struct sup *);
unsigned sup_workers_alive(const struct sup *);
/*
 * Stop dispatching: every queued probe is reported cancelled at once;
 * probes in flight may finish until grace_us has passed, then their
 * workers are killed and the probes reported cancelled.
 */
void sup_drain(struct sup *, int64_t grace_us);
/* End the grace period now (a second signal). */
void sup_cancel_inflight(struct sup *);
const struct sup_stats *sup_stats(const struct sup *);
/* Stop every worker (politely, then by force) and free the pool. */
void sup_free(struct sup *);

#endif
