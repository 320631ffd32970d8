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

static void
arm(struct srv_target *st, int64_t now)
{
	struct timeval tv;

	timeval_of(&tv, st->due_us - now);
	evtimer_add(st->timer, &tv);
}

/*
 * A slot: probe unless the last probe still runs (then the slot is
 * skipped and counted, never queued), and set the next slot.  Slots keep
 * to the grid of the first, so probes do not drift.
 */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct srv_target *st = arg;
	struct serve *srv = st->srv;
	int64_t now = mono_now_us(), behind;

	if (srv->draining || st->removed)
		return;
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
	arm(st, now);
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
	if ((st->timer = evtimer_new(srv->base, on_tick, st)) == NULL)
		fatalx("cannot make a timer");
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
	evtimer_del(st->timer);
}

void
srv_target_destroy(struct srv_target *st)
{
	event_free(st->timer);
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
