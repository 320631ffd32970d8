/* serve's schedule: one timer a target, a probe a slot, the latest result. */
#include "config.h"

#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "serve.h"
#include "supervisor.h"
#include "util.h"

void
histogram_init(struct histogram *h, const double *bounds)
{
	memset(h, 0, sizeof(*h));
	h->bounds = bounds;
}

void
histogram_add(struct histogram *h, double v)
{
	int i;

	for (i = 0; i < SERVE_BUCKETS - 1 && v > h->bounds[i]; i++)
		;
	h->counts[i]++;
	h->sum += v;
	h->count++;
}

static void
timeval_of(struct timeval *tv, int64_t us)
{
	if (us < 0)
		us = 0;
	tv->tv_sec = us / USEC_PER_SEC;
	tv->tv_usec = us % USEC_PER_SEC;
}

/* The schedule is a binary min-heap of targets by due time. */
static bool
heap_before(const struct serve *srv, size_t i, size_t j)
{
	return srv->heap[i]->due_us < srv->heap[j]->due_us;
}

static void
heap_swap(struct serve *srv, size_t i, size_t j)
{
	struct srv_target *t = srv->heap[i];

	srv->heap[i] = srv->heap[j];
	srv->heap[j] = t;
	srv->heap[i]->heap_at = i;
	srv->heap[j]->heap_at = j;
}

static void
heap_up(struct serve *srv, size_t i)
{
	while (i > 0 && heap_before(srv, i, (i - 1) / 2)) {
		heap_swap(srv, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(struct serve *srv, size_t i)
{
	size_t l, m;

	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < srv->nheap && heap_before(srv, l, m))
			m = l;
		if (l + 1 < srv->nheap && heap_before(srv, l + 1, m))
			m = l + 1;
		if (m == i)
			return;
		heap_swap(srv, i, m);
		i = m;
	}
}

/* Take st off the schedule, if it is on it. */
static void
heap_remove(struct serve *srv, struct srv_target *st)
{
	size_t i = st->heap_at;

	if (i == SIZE_MAX)
		return;
	st->heap_at = SIZE_MAX;
	if (i != --srv->nheap) {
		srv->heap[i] = srv->heap[srv->nheap];
		srv->heap[i]->heap_at = i;
		heap_down(srv, i);
		heap_up(srv, i);
	}
}

/* Wake the schedule for its first slot (at once if that has passed). */
static void
tick_arm(struct serve *srv, int64_t now)
{
	struct timeval tv;

	if (srv->nheap == 0) {
		evtimer_del(srv->tick);
		return;
	}
	timeval_of(&tv, srv->heap[0]->due_us - now);
	evtimer_add(srv->tick, &tv);
}

/* Put st on the schedule at its due time. */
static void
arm(struct srv_target *st, int64_t now)
{
	struct serve *srv = st->srv;

	if (st->heap_at != SIZE_MAX)
		heap_remove(srv, st);
	if (srv->nheap == srv->heap_cap) {
		srv->heap_cap = srv->heap_cap ? 2 * srv->heap_cap : 64;
		srv->heap =
		    xreallocarray(srv->heap, srv->heap_cap, sizeof(*srv->heap));
	}
	st->heap_at = srv->nheap;
	srv->heap[srv->nheap++] = st;
	heap_up(srv, st->heap_at);
	if (srv->heap[0] == st)
		tick_arm(srv, now);
}

/*
 * A slot: probe unless the last probe still runs (then the slot is
 * skipped and counted, never queued), and set the next slot.  Slots keep
 * to the grid of the first, so probes do not drift.
 */
static void
slot(struct srv_target *st, int64_t now)
{
	struct serve *srv = st->srv;
	int64_t behind;

	if (st->in_flight) {
		st->skipped++;
		srv->skipped++;
	} else {
		/* The slot on the wall clock, which a worker's start reads. */
		st->slot_wall_us = wall_now_us() - (now - st->due_us);
		st->in_flight = true;
		sup_submit(srv->sup, &st->t, (uint64_t)(uintptr_t)st);
	}
	st->due_us += st->interval_us;
	if (st->due_us <= now) {
		/* Asleep or starved past whole slots: count them, go on. */
		behind = (now - st->due_us) / st->interval_us + 1;
		st->due_us += behind * st->interval_us;
		st->skipped += (uint64_t)behind;
		srv->skipped += (uint64_t)behind;
	}
}

/* How early a slot of st may start, to go with others. */
static int64_t
coalesce_us(const struct srv_target *st)
{
	return st->interval_us / 100 < SERVE_COALESCE_MAX_US
	    ? st->interval_us / 100
	    : SERVE_COALESCE_MAX_US;
}

/* Every slot due now, or soon enough to go with it, starts now. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct serve *srv = arg;
	int64_t now = mono_now_us();
	struct srv_target *st;

	if (srv->draining)
		return;
	while (srv->nheap > 0) {
		st = srv->heap[0];
		if (st->due_us > now + coalesce_us(st))
			break;
		slot(st, now);
		heap_down(srv, 0);
	}
	tick_arm(srv, now);
}

void
srv_schedule_init(struct serve *srv)
{
	if ((srv->tick = evtimer_new(srv->base, on_tick, srv)) == NULL)
		fatalx("cannot make a timer");
}

void
srv_schedule_free(struct serve *srv)
{
	if (srv->tick != NULL)
		event_free(srv->tick);
	srv->tick = NULL;
	free(srv->heap);
	srv->heap = NULL;
	srv->nheap = srv->heap_cap = 0;
}

/*
 * The target's interval, and a timeout no longer than it: a probe that
 * could outlast its interval would skip every other slot.
 */
static void
set_interval(struct srv_target *st)
{
	const struct serve_opts *o = &st->srv->opts;

	int64_t cap;

	st->interval_us = st->t.every_us > 0 ? st->t.every_us : o->interval_us;
	/* A tenth of the interval is left for the probe to end and answer. */
	cap = st->interval_us - st->interval_us / 10;
	if ((st->t.timeout_us > 0 ? st->t.timeout_us : o->timeout_us) > cap)
		st->t.timeout_us = cap;
}

struct srv_target *
srv_target_new(struct serve *srv, struct target *t)
{
	struct srv_target *st = xcalloc(1, sizeof(*st));
	char key[TARGET_KEY_MAX];

	st->t = *t;
	memset(t, 0, sizeof(*t));
	st->srv = srv;
	target_key(&st->t, key, sizeof(key));
	st->key_hash = hash_bytes(key, strlen(key));
	set_interval(st);
	st->state = -1;
	result_init(&st->last);
	st->heap_at = SIZE_MAX;
	return st;
}

void
srv_schedule_spread(struct serve *srv, size_t first)
{
	int64_t now = mono_now_us();
	size_t i, m = srv->n - first;

	for (i = first; i < srv->n; i++) {
		struct srv_target *st = srv->v[i];

		st->due_us = now +
		    (int64_t)((double)st->interval_us * (double)(i - first) /
		        (double)m);
		arm(st, now);
	}
}

void
srv_target_stop(struct srv_target *st)
{
	heap_remove(st->srv, st);
}

void
srv_target_destroy(struct srv_target *st)
{
	heap_remove(st->srv, st);
	result_release(&st->last);
	target_clear(&st->t);
	if (st->update != NULL) {
		target_clear(st->update);
		free(st->update);
	}
	free(st);
}

void
srv_target_retire(struct srv_target *st)
{
	srv_target_stop(st);
	st->removed = true;
	if (st->in_flight)
		st->srv->nzombies++;
	else
		srv_target_destroy(st);
}

/* Log a change of state once, not every probe. */
static void
note_state(struct srv_target *st, const struct result *r)
{
	char canon[TARGET_CANONICAL_MAX];
	int now = r->success ? 1 : 0;

	if (st->state == now)
		return;
	st->state = now;
	target_canonical(&st->t, canon, sizeof(canon));
	if (now)
		log_event(LOG_LEVEL_INFO, "target up", "target", canon, "name",
		    target_name(&st->t), LOG_END);
	else
		log_event(LOG_LEVEL_WARN, "target down", "target", canon,
		    "name", target_name(&st->t), "reason",
		    reason_name(r->reason), "error", r->error, LOG_END);
}

/* A reload changed what the target is called or labelled: take it now. */
static void
apply_update(struct srv_target *st)
{
	struct target *u = st->update;

	st->update = NULL;
	target_clear(&st->t);
	st->t = *u;
	free(u);
	set_interval(st);
}

void
srv_target_take_update(struct srv_target *st)
{
	if (!st->in_flight && st->update != NULL)
		apply_update(st);
}

void
srv_on_result(void *arg, uint64_t id, const struct target *t,
    const struct result *r)
{
	struct srv_target *st = (struct srv_target *)(uintptr_t)id;
	struct serve *srv = arg;

	(void)t;
	if (id & SERVE_PROBE_ID) {
		serve_probe_on_result(srv, id, r);
		goto out;
	}
	st->in_flight = false;
	if (st->removed) {
		srv->nzombies--;
		srv_target_destroy(st);
	} else if (srv->draining && r->reason == REASON_CANCELLED) {
		/* Cut short by our own shutdown: says nothing of the target. */
	} else {
		/* Late by timer, queue and worker: as far as the start. */
		histogram_add(&srv->delay,
		    (double)(r->start_us > st->slot_wall_us
		            ? r->start_us - st->slot_wall_us
		            : 0) /
		        USEC_PER_SEC);
		result_release(&st->last);
		result_copy(&st->last, r);
		st->has_result = true;
		if (r->success)
			st->successes++;
		else
			st->failures++;
		if ((unsigned)st->t.kind < 4)
			histogram_add(&srv->duration[st->t.kind],
			    (double)r->duration_us / USEC_PER_SEC);
		note_state(st, r);
		if (st->update != NULL)
			apply_update(st);
	}
out:
	if (srv->draining && sup_inflight(srv->sup) == 0 &&
	    sup_queued(srv->sup) == 0)
		event_base_loopbreak(srv->base);
}
