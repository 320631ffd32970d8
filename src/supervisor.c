/*
 * The worker pool.  Each slot holds one worker process and at most one
 * probe.  Every submitted probe ends in exactly one on_result() call: the
 * worker's answer, or a failure the supervisor writes itself when the
 * worker died, hung past its deadline, misbehaved or was cancelled.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "probe_http.h"
#include "probe_icmp.h"
#include "proc.h"
#include "supervisor.h"
#include "util.h"

#define SUP_BACKOFF_MIN_US (50 * USEC_PER_MSEC)
#define SUP_BACKOFF_MAX_US (5 * USEC_PER_SEC)
/* With no worker alive for this long, queued probes fail instead of wait. */
#define SUP_STARVED_US (10 * USEC_PER_SEC)
#define SUP_STOP_WAIT_US (1 * USEC_PER_SEC)
#define SUP_SLACK_US (500 * USEC_PER_MSEC) /* past a probe's timeout */
#define SUP_WORKER_MEMORY_BYTES (1024ULL * 1024 * 1024)
#define SUP_WORKER_OPEN_FILES 64

enum kill_reason { KILL_NONE, KILL_DEADLINE, KILL_PROTOCOL, KILL_CANCEL };

struct job {
	const struct target *target;
	uint64_t id;
	bool sweep;           /* an ICMP probe a worker may run in a sweep */
	uint8_t side;         /* TCP or HTTP: runs beside others of its kind */
	int64_t sent_us;      /* monotonic time it started (or was sent) */
	int64_t sent_wall_us; /* the same, on the wall clock */
};

/* A FIFO ring of jobs. */
struct jobq {
	struct job *v;
	size_t head, len, cap;
};

/*
 * Every raw ICMP socket sees every ICMP packet the host receives, so
 * only the first slots get ICMP sockets.  Jobs and idle slots come in two
 * classes: ICMP jobs need an ICMP slot; other jobs take any slot.
 */
#define SUP_ICMP_SLOTS_MAX 8

/*
 * A worker holds up to SUP_DEPTH probes: one running, the next already in
 * its socket, so it never waits for the supervisor between two probes.
 * Idle slots take work first; "spare" slots (holding one) only when no
 * idle one fits.
 */
#define SUP_DEPTH 2

/*
 * An ICMP slot holding only ICMP probes takes up to a group's worth: its
 * worker runs all that wait in its socket at once, as one sweep.
 */
#define SUP_HOLD_MAX PROBE_ICMP_GROUP_MAX
_Static_assert(WORKER_PARALLEL_MAX <= SUP_HOLD_MAX, "a slot holds a batch");
enum { CLASS_ICMP, CLASS_PLAIN, CLASS_MAX };

struct idle_stack {
	unsigned *v;
	unsigned n;
};

struct slot {
	struct sup *sup;
	unsigned index;
	pid_t pid; /* 0: no process */
	int fd;    /* -1: no socket */
	struct event *ev_read;
	struct event *ev_deadline;
	struct event *ev_respawn;
	struct event *ev_write;        /* its socket has room again: dispatch */
	struct job jobs[SUP_HOLD_MAX]; /* jobs[0] runs, the rest wait */
	unsigned held_sweep;           /* how many of them may run in a sweep */
	unsigned held_side;            /* how many run beside the others */
	uint8_t side_kind;             /* the kind of those */
	unsigned held;
	bool in_spare;                /* listed on its class's spare stack */
	uint64_t stale[SUP_HOLD_MAX]; /* cancelled while waiting in it */
	unsigned nstale;
	int64_t allowed_us;   /* timeout + slack of jobs[0] */
	int64_t sent_us;      /* monotonic time jobs[0] started */
	int64_t sent_wall_us; /* the same, on the wall clock */
	enum kill_reason kill_reason;
	char kill_detail[200];
	struct worker_ctx ctx; /* what its workers inherit */
	int class;             /* CLASS_ICMP if it has ICMP sockets */
	unsigned failures;     /* deaths since the last good answer */
	/* Requests encoded in sup->out, sent together at the end of dispatch */
	size_t pend_off[SUP_HOLD_MAX], pend_len[SUP_HOLD_MAX];
	unsigned npend;
};

struct sup {
	struct event_base *base;
	struct sup_config cfg;
	struct slot *slots;
	struct idle_stack idle[CLASS_MAX];  /* idle slots by class */
	struct idle_stack spare[CLASS_MAX]; /* slots with room for one */
	unsigned alive;                     /* slots with a process */
	struct jobq queue[CLASS_MAX];       /* jobs waiting, by class */
	struct event *ev_sigchld;
	struct event *ev_grace;
	struct event *ev_rate; /* wakes dispatch when --rate allows */
	/* Dispatch once all that this turn of the loop submits is queued. */
	struct event *ev_dispatch;
	int64_t next_start_us; /* earliest start the rate allows */
	bool draining;
	int64_t starved_since; /* when the last worker was lost */
	struct sup_stats stats;
	uint8_t *out; /* encoded requests not sent yet */
	size_t out_used, out_cap;
	unsigned *dirty; /* slots with requests in out */
	unsigned ndirty;
};

static void sup_dispatch(struct sup *);
static void slot_schedule_respawn(struct slot *);

/* Make room for one more job in the ring buffer. */
static void
jobq_reserve(struct jobq *q)
{
	size_t i, ncap;
	struct job *nv;

	if (q->len < q->cap)
		return;
	ncap = q->cap ? q->cap * 2 : 64;
	nv = xreallocarray(NULL, ncap, sizeof(*nv));
	for (i = 0; i < q->len; i++)
		nv[i] = q->v[(q->head + i) % q->cap];
	free(q->v);
	q->v = nv;
	q->cap = ncap;
	q->head = 0;
}

static void
jobq_push(struct jobq *q, struct job job)
{
	jobq_reserve(q);
	q->v[(q->head + q->len++) % q->cap] = job;
}

static struct job
jobq_pop(struct jobq *q)
{
	struct job job = q->v[q->head];

	q->head = (q->head + 1) % q->cap;
	q->len--;
	return job;
}

/* Put a job back at the head: its worker never received it. */
static void
jobq_unpop(struct jobq *q, struct job job)
{
	jobq_reserve(q);
	q->head = (q->head + q->cap - 1) % q->cap;
	q->v[q->head] = job;
	q->len++;
}

static int
job_class(const struct job *job)
{
	return job->target->kind == TARGET_ICMP ? CLASS_ICMP : CLASS_PLAIN;
}

static void
idle_push(struct sup *sup, const struct slot *s)
{
	sup->idle[s->class].v[sup->idle[s->class].n++] = s->index;
}

static void
deliver(struct sup *sup, struct job job, const struct result *r)
{
	sup->stats.completed++;
	sup->cfg.on_result(sup->cfg.arg, job.id, job.target, r);
}

/* A failure the supervisor reports itself; s is the slot that held it. */
static void
deliver_failure(struct sup *sup, const struct slot *s, struct job job,
    enum reason reason, const char *msg)
{
	struct result r;
	int64_t now = mono_now_us();
	/* Not started: never sent, or waiting behind a sweep still. */
	bool started = s != NULL && job.sent_us > 0 && job.sent_us <= now;

	result_init(&r);
	r.start_us = started ? job.sent_wall_us : wall_now_us();
	r.duration_us = started ? now - job.sent_us : 0;
	result_fail(&r, reason, "%s", msg);
	deliver(sup, job, &r);
}

static void
timeval_from_us(struct timeval *tv, int64_t us)
{
	tv->tv_sec = us / USEC_PER_SEC;
	tv->tv_usec = us % USEC_PER_SEC;
}

/* Kill a worker and remember why, so its reaping can report it. */
static void
slot_kill(struct slot *s, enum kill_reason why, const char *detail)
{
	if (s->pid <= 0 || s->kill_reason != KILL_NONE)
		return;
	s->kill_reason = why;
	snprintf(s->kill_detail, sizeof(s->kill_detail), "%s", detail);
	if (s->ev_read != NULL)
		event_del(s->ev_read);
	if (kill(s->pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("kill worker %d", (int)s->pid);
}

static void
slot_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct slot *s = arg;
	char d[32], detail[64];

	if (s->kill_reason != KILL_NONE)
		return;
	duration_format(s->allowed_us, d, sizeof(d));
	snprintf(detail, sizeof(detail), "worker killed after %s", d);
	s->sup->stats.deadline_kills++;
	slot_kill(s, KILL_DEADLINE, detail);
}

/* Note that s can take one more job, unless it is listed already. */
static void
spare_push(struct sup *sup, struct slot *s)
{
	if (s->in_spare)
		return;
	s->in_spare = true;
	sup->spare[s->class].v[sup->spare[s->class].n++] = s->index;
}

/*
 * The worker runs every probe it holds at once: an ICMP sweep, or HTTP
 * probes side by side.
 */
static bool
slot_grouped(const struct slot *s)
{
	return s->held > 0 &&
	    ((s->class == CLASS_ICMP && s->held_sweep == s->held) ||
	        s->held_side == s->held);
}

static int64_t
job_allowed_us(const struct sup *sup, const struct job *job)
{
	const struct target *t = job->target;

	return (t->timeout_us > 0 ? t->timeout_us
	                          : sup->cfg.default_timeout_us) +
	    sup->cfg.slack_us;
}

/*
 * A worker runs together only the sweep jobs waiting when its sweep
 * starts: one sent to a sweep under way starts when that sweep ends, at
 * the latest when the last of its probes times out.  Its clock starts
 * then, so waiting is not counted against its own timeout.
 */
static void
sweep_wait(const struct slot *s, struct job *job)
{
	const struct sup *sup = s->sup;
	int64_t end, after = job->sent_us;
	unsigned i;

	if (!job->sweep || s->held_sweep == 0)
		return;
	for (i = 0; i < s->held; i++) {
		end = s->jobs[i].sent_us + job_allowed_us(sup, &s->jobs[i]) -
		    sup->cfg.slack_us;
		if (end > after)
			after = end;
	}
	job->sent_wall_us += after - job->sent_us;
	job->sent_us = after;
}

/*
 * Arm the deadline of s: for a worker running all it holds at once, the
 * earliest of their deadlines; else that of jobs[0], which starts now when
 * head_starts is set.
 */
static void
slot_arm(struct slot *s, bool head_starts)
{
	struct sup *sup = s->sup;
	int64_t now = mono_now_us(), end, first = INT64_MAX;
	unsigned i, n = slot_grouped(s) ? s->held : 1, pick = 0;
	struct timeval tv;

	if (head_starts) {
		s->jobs[0].sent_us = now;
		s->jobs[0].sent_wall_us = wall_now_us();
	}
	for (i = 0; i < n; i++) {
		end = s->jobs[i].sent_us + job_allowed_us(sup, &s->jobs[i]);
		if (end < first) {
			first = end;
			pick = i;
		}
	}
	s->allowed_us = job_allowed_us(sup, &s->jobs[pick]);
	s->sent_us = s->jobs[pick].sent_us;
	s->sent_wall_us = s->jobs[pick].sent_wall_us;
	timeval_from_us(&tv, first > now ? first - now : 0);
	evtimer_add(s->ev_deadline, &tv);
}

/*
 * How many jobs s may hold if the next is a sweep job, or one that runs
 * beside others of its kind (side).  Such a probe may take its whole
 * timeout on a slow server, so nothing else waits behind it; up to
 * --parallel of its kind run beside it.
 */
static unsigned
slot_depth(const struct slot *s, bool sweep, uint8_t side)
{
	if (s->class == CLASS_ICMP && sweep && s->held_sweep == s->held)
		return SUP_HOLD_MAX;
	if (s->held > 0 && s->held_side == s->held)
		return side == s->side_kind ? s->sup->cfg.parallel : 1;
	return SUP_DEPTH;
}

/* Whether s has room for one more job like those it holds. */
static bool
slot_has_room(const struct slot *s)
{
	return s->held < slot_depth(s, s->held_sweep == s->held,
	                     s->held_side == s->held ? s->side_kind : 0);
}

/* Take jobs[i] out of s. */
static struct job
slot_remove(struct slot *s, unsigned i)
{
	struct job job = s->jobs[i];

	memmove(&s->jobs[i], &s->jobs[i + 1],
	    (s->held - i - 1) * sizeof(s->jobs[0]));
	s->held--;
	if (job.sweep)
		s->held_sweep--;
	if (job.side)
		s->held_side--;
	return job;
}

/* A good answer to jobs[i] arrived: hand it on. */
static void
slot_answered(struct slot *s, unsigned i, const struct msg_probe_result *m)
{
	struct sup *sup = s->sup;
	bool was_grouped = slot_grouped(s);
	struct job job;

	if (i == 0)
		evtimer_del(s->ev_deadline);
	job = slot_remove(s, i);
	s->failures = 0;
	if (s->held > 0) {
		/* Jobs of a group run already; a queued head starts now. */
		if (i == 0 || was_grouped)
			slot_arm(s, i == 0 && !was_grouped);
		if (slot_has_room(s))
			spare_push(sup, s);
	} else
		idle_push(sup, s);
	deliver(sup, job, &m->result);
}

/*
 * Handle one datagram from a worker: 1 when one was read, 0 when there
 * was none or the worker is gone.  A malformed one gets the worker killed.
 */
/* The index of the held job with this id, or s->held. */
static unsigned
slot_find(const struct slot *s, uint64_t id)
{
	unsigned i;

	for (i = 0; i < s->held && s->jobs[i].id != id; i++)
		;
	return i;
}

static int
slot_read_one(struct slot *s)
{
	unsigned i;
	uint8_t buf[MSG_MAX + 1];
	struct msg_probe_result m;
	char why[128], detail[sizeof(((struct slot *)0)->kill_detail)];
	ssize_t n;

	n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n <= 0)
		return 0;
	if (s->held == 0 && s->nstale == 0)
		snprintf(why, sizeof(why), "message while idle");
	else if (msg_decode_probe_result(buf, (size_t)n, &m, why,
	             sizeof(why)) == -1)
		; /* why says what was wrong */
	else if ((i = slot_find(s, m.id)) < s->held) {
		slot_answered(s, i, &m);
		result_release(&m.result);
		return 1;
	} else if (s->nstale > 0 && m.id == s->stale[0]) {
		/* Reported cancelled already: the answer goes unread. */
		memmove(&s->stale[0], &s->stale[1],
		    (SUP_HOLD_MAX - 1) * sizeof(s->stale[0]));
		s->nstale--;
		result_release(&m.result);
		return 1;
	} else {
		result_release(&m.result);
		snprintf(why, sizeof(why), "answer for another probe");
	}
	snprintf(detail, sizeof(detail), "worker sent a malformed message: %s",
	    why);
	log_warnx("worker %d: %s", (int)s->pid, detail);
	slot_kill(s, KILL_PROTOCOL, detail);
	return 0;
}

static void
slot_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct slot *s = arg;
	uint8_t peek;
	ssize_t n;
	unsigned i;

	/* Answers that came together are handled together, then one dispatch. */
	for (i = 0; i < SUP_HOLD_MAX && slot_read_one(s) == 1; i++)
		;
	if (i > 0) {
		sup_dispatch(s->sup);
		return;
	}
	n = recv(fd, &peek, sizeof(peek), MSG_DONTWAIT | MSG_PEEK);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		/* The worker is gone; its reaping reports the probe. */
		event_del(s->ev_read);
	}
}

static void
slot_on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct slot *s = arg;

	sup_dispatch(s->sup);
}

static int
slot_spawn(struct slot *s)
{
	struct sup *sup = s->sup;

	int keep[2] = {s->ctx.icmp.v4.fd, s->ctx.icmp.v6.fd};

	s->pid = proc_spawn(worker_main, &s->ctx, &s->fd, keep, 2);
	if (s->pid == -1) {
		s->pid = 0;
		s->fd = -1;
		return -1;
	}
	s->kill_reason = KILL_NONE;
	s->ev_read =
	    event_new(sup->base, s->fd, EV_READ | EV_PERSIST, slot_on_read, s);
	s->ev_write =
	    event_new(sup->base, s->fd, EV_WRITE, slot_on_writable, s);
	if (s->ev_read == NULL || s->ev_write == NULL ||
	    event_add(s->ev_read, NULL) == -1)
		fatalx("event_add worker socket");
	sup->alive++;
	sup->starved_since = 0;
	idle_push(sup, s);
	return 0;
}

/* Fail every queued probe; used when no worker can be had. */
static void
fail_queue(struct sup *sup, enum reason reason, const char *msg)
{
	int c;

	for (c = 0; c < CLASS_MAX; c++)
		while (sup->queue[c].len > 0)
			deliver_failure(sup, NULL, jobq_pop(&sup->queue[c]),
			    reason, msg);
}

static void
slot_on_respawn(evutil_socket_t fd, short what, void *arg)
{
	struct slot *s = arg;
	struct sup *sup = s->sup;

	if (sup->draining)
		return;
	if (slot_spawn(s) == 0) {
		sup->stats.respawns++;
		sup_dispatch(sup);
		return;
	}
	sup->stats.spawn_failures++;
	log_warn("cannot start worker %u", s->index);
	if (sup->alive == 0 && sup->starved_since != 0 &&
	    mono_now_us() - sup->starved_since > SUP_STARVED_US)
		fail_queue(sup, REASON_INTERNAL,
		    "no worker process could be started");
	s->failures++;
	slot_schedule_respawn(s);
}

/* Respawn at once after a first death, then back off while it repeats. */
static void
slot_schedule_respawn(struct slot *s)
{
	struct timeval tv;
	int64_t delay = 0;
	unsigned shift;

	if (s->failures > 1) {
		shift = s->failures - 2 > 10 ? 10 : s->failures - 2;
		delay = SUP_BACKOFF_MIN_US << shift;
		if (delay > SUP_BACKOFF_MAX_US)
			delay = SUP_BACKOFF_MAX_US;
	}
	timeval_from_us(&tv, delay);
	evtimer_add(s->ev_respawn, &tv);
}

/* Drop a slot from the idle stack (it died while idle). */
static void
idle_remove(struct sup *sup, const struct slot *s)
{
	struct idle_stack *st = &sup->idle[s->class];
	unsigned i;

	for (i = 0; i < st->n; i++) {
		if (st->v[i] == s->index) {
			st->v[i] = st->v[--st->n];
			return;
		}
	}
}

/* The failure a worker's death means for the probe it held. */
static void
death_reason(const struct slot *s, int status, enum reason *reason, char *msg,
    size_t len)
{
	char sig[32], how[64];

	*reason = REASON_CRASH;
	switch (s->kill_reason) {
	case KILL_DEADLINE:
		*reason = REASON_DEADLINE;
		snprintf(msg, len, "deadline exceeded: %s", s->kill_detail);
		return;
	case KILL_CANCEL:
		*reason = REASON_CANCELLED;
		snprintf(msg, len, "cancelled: %s", s->kill_detail);
		return;
	case KILL_PROTOCOL:
		snprintf(msg, len, "%s", s->kill_detail);
		return;
	case KILL_NONE:
		break;
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
		*reason = REASON_DEADLINE;
		snprintf(msg, len, "deadline exceeded: worker alarm fired");
	} else if (WIFSIGNALED(status)) {
		snprintf(msg, len, "worker crashed: %s",
		    proc_signame(WTERMSIG(status), sig, sizeof(sig)));
	} else {
		proc_describe_status(status, how, sizeof(how));
		snprintf(msg, len, "worker crashed: %s", how);
	}
}

/*
 * Jobs a dead worker held but never started go back to their queue.  A
 * worker running a group may have started any of them: they stay, and
 * its death is reported for each.
 */
static void
slot_return_waiting(struct slot *s)
{
	struct sup *sup = s->sup;
	unsigned i;

	if (slot_grouped(s))
		return;
	for (i = s->held; i > 1; i--) {
		if (sup->draining)
			deliver_failure(sup, NULL, s->jobs[i - 1],
			    REASON_CANCELLED,
			    "cancelled: shutting down before the probe "
			    "started");
		else
			jobq_unpop(&sup->queue[job_class(&s->jobs[i - 1])],
			    s->jobs[i - 1]);
	}
	while (s->held > 1)
		slot_remove(s, s->held - 1);
}

static void
slot_reaped(struct slot *s, int status)
{
	struct sup *sup = s->sup;
	char msg[RESULT_ERROR_MAX], how[64];
	enum reason reason = REASON_CRASH;
	struct job jobs[SUP_HOLD_MAX];
	unsigned i, nheld;

	/* What it sent before dying counts: its answers are in the socket. */
	if (s->kill_reason == KILL_NONE)
		while (s->held > 0 && slot_read_one(s) == 1)
			;
	slot_return_waiting(s);
	nheld = s->held;
	memcpy(jobs, s->jobs, nheld * sizeof(jobs[0]));
	if (s->ev_read != NULL)
		event_free(s->ev_read);
	s->ev_read = NULL;
	if (s->ev_write != NULL)
		event_free(s->ev_write);
	s->ev_write = NULL;
	evtimer_del(s->ev_deadline);
	close(s->fd);
	s->fd = -1;
	s->pid = 0;
	s->held = s->held_sweep = s->held_side = 0;
	s->nstale = 0;
	sup->alive--;
	if (sup->alive == 0)
		sup->starved_since = mono_now_us();
	if (nheld > 0) {
		death_reason(s, status, &reason, msg, sizeof(msg));
		if (reason != REASON_CANCELLED)
			sup->stats.crashes++;
		log_info("probe of %s failed: %s", jobs[0].target->spec, msg);
	} else {
		idle_remove(sup, s);
		proc_describe_status(status, how, sizeof(how));
		log_warnx("idle worker %u %s", s->index, how);
	}
	if (s->kill_reason != KILL_CANCEL)
		s->failures++;
	if (!sup->draining)
		slot_schedule_respawn(s);
	for (i = 0; i < nheld; i++)
		deliver_failure(sup, s, jobs[i], reason, msg);
}

static void
sup_on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct sup *sup = arg;
	unsigned i;
	int status;
	pid_t pid;

	for (i = 0; i < sup->cfg.workers; i++) {
		if (sup->slots[i].pid <= 0)
			continue;
		pid = waitpid(sup->slots[i].pid, &status, WNOHANG);
		if (pid == sup->slots[i].pid)
			slot_reaped(&sup->slots[i], status);
	}
	sup_dispatch(sup);
}

/* Room for one more encoded request in sup->out. */
static uint8_t *
out_reserve(struct sup *sup)
{
	if (sup->out_cap - sup->out_used < MSG_MAX) {
		sup->out_cap = sup->out_cap * 2 + MSG_MAX;
		sup->out = xreallocarray(sup->out, sup->out_cap, 1);
	}
	return sup->out + sup->out_used;
}

/*
 * Give job to worker s: its request is encoded now and sent with the
 * others of this dispatch by slot_flush().
 */
static void
slot_send(struct slot *s, struct job job)
{
	struct sup *sup = s->sup;
	struct msg_probe_req req;
	uint8_t *buf = out_reserve(sup);
	ssize_t n;

	memset(&req, 0, sizeof(req));
	req.id = job.id;
	req.timeout_us = job.target->timeout_us > 0
	    ? job.target->timeout_us
	    : sup->cfg.default_timeout_us;
	req.target = *job.target;
	req.target.spec = req.target.name = NULL;
	if (req.target.kind == TARGET_ICMP && req.target.count == 0)
		req.target.count = sup->cfg.default_count;
	if ((n = msg_encode_probe_req(&req, buf, MSG_MAX)) == -1)
		fatalx("probe request for %s does not fit", job.target->spec);
	if (s->npend == 0)
		sup->dirty[sup->ndirty++] = s->index;
	s->pend_off[s->npend] = sup->out_used;
	s->pend_len[s->npend++] = (size_t)n;
	sup->out_used += (size_t)n;
	job.sent_us = mono_now_us();
	job.sent_wall_us = wall_now_us();
	sweep_wait(s, &job);
	s->jobs[s->held++] = job;
	if (job.sweep)
		s->held_sweep++;
	if (job.side) {
		s->held_side++;
		s->side_kind = job.side;
	}
	/* A job joining a group may have the earliest deadline of all. */
	if (s->held == 1 || slot_grouped(s))
		slot_arm(s, false);
	if (slot_has_room(s))
		spare_push(sup, s);
}

/* The requests n and after never reached s: back to their queue. */
static void
slot_unsend(struct slot *s, unsigned n)
{
	struct sup *sup = s->sup;
	struct job job;
	unsigned i;

	for (i = s->npend; i > n; i--) {
		job = slot_remove(s, s->held - 1);
		jobq_unpop(&sup->queue[job_class(&job)], job);
	}
	if (s->held == 0)
		evtimer_del(s->ev_deadline);
	else
		slot_arm(s, false);
}

/*
 * Send the requests s was given, in one system call when they fit the
 * socket.  Those a full socket would not take go back to the head of
 * their queue until the worker has read what it holds; after any other
 * failure the worker is killed too.
 */
static void
slot_flush(struct slot *s)
{
	struct sup *sup = s->sup;
	struct mmsghdr m[SUP_HOLD_MAX];
	struct iovec iov[SUP_HOLD_MAX];
	unsigned i, sent = 0;
	bool full;
	int n;

	memset(m, 0, s->npend * sizeof(m[0]));
	for (i = 0; i < s->npend; i++) {
		iov[i].iov_base = sup->out + s->pend_off[i];
		iov[i].iov_len = s->pend_len[i];
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	while (sent < s->npend) {
		n = sendmmsg(s->fd, m + sent, s->npend - sent,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sent += (unsigned)n;
	}
	if (sent < s->npend) {
		full =
		    errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS;
		/* The unsent ones are the last held: the worker never saw them. */
		slot_unsend(s, sent);
		if (!full)
			slot_kill(s, KILL_PROTOCOL, "worker socket failed");
		else if (s->held == 0)
			idle_push(sup, s);
		else
			spare_push(sup, s);
		if (full)
			event_add(s->ev_write, NULL);
	}
	s->npend = 0;
}

/* Send every request encoded by this dispatch. */
static void
sup_flush(struct sup *sup)
{
	unsigned i;

	for (i = 0; i < sup->ndirty; i++)
		slot_flush(&sup->slots[sup->dirty[i]]);
	sup->ndirty = 0;
	sup->out_used = 0;
}

/*
 * With a rate cap, starts are spaced 1/rate apart.  True when the next
 * one may go now; else the rate timer is armed for it.
 */
static bool
rate_ready(struct sup *sup)
{
	struct timeval tv;
	int64_t now;

	if (sup->cfg.rate <= 0)
		return true;
	now = mono_now_us();
	if (sup->next_start_us <= now)
		return true;
	if (!evtimer_pending(sup->ev_rate, NULL)) {
		timeval_from_us(&tv, sup->next_start_us - now);
		evtimer_add(sup->ev_rate, &tv);
	}
	return false;
}

/* Count one start against the rate; an idle spell banks no burst. */
static void
rate_take(struct sup *sup)
{
	int64_t now, gap;

	if (sup->cfg.rate <= 0)
		return;
	now = mono_now_us();
	gap = (int64_t)(USEC_PER_SEC / sup->cfg.rate);
	if (sup->next_start_us + gap <= now)
		sup->next_start_us = now;
	sup->next_start_us += gap;
}

static void
sup_on_rate(evutil_socket_t fd, short what, void *arg)
{
	sup_dispatch(arg);
}

/* Pop a live slot from a spare stack that still has room, or NULL. */
static struct slot *
spare_pop(struct sup *sup, int class, bool sweep, uint8_t side)
{
	struct idle_stack *st = &sup->spare[class];
	struct slot *s;

	while (st->n > 0) {
		s = &sup->slots[st->v[--st->n]];
		s->in_spare = false;
		if (s->pid > 0 && s->kill_reason == KILL_NONE && s->held > 0 &&
		    s->held < slot_depth(s, sweep, side))
			return s;
	}
	return NULL;
}

static struct slot *
idle_pop(struct sup *sup, int class)
{
	struct idle_stack *st = &sup->idle[class];

	return st->n > 0 ? &sup->slots[st->v[--st->n]] : NULL;
}

/*
 * The slot for a job of class jc: for a job that runs beside others, a
 * spare slot running its kind; then an idle slot of its class, then (for
 * other jobs, while no ICMP job waits) an idle ICMP slot, then the same
 * order among spare slots.  NULL when none can take it.
 */
static struct slot *
slot_for(struct sup *sup, int jc)
{
	const struct jobq *q = &sup->queue[jc];
	bool any = jc == CLASS_PLAIN && sup->queue[CLASS_ICMP].len == 0;
	bool sweep = q->v[q->head].sweep;
	uint8_t side = q->v[q->head].side;
	struct slot *s;

	/*
	 * A probe that runs beside others goes to a worker already running
	 * some, while it has room: on a light load one worker wakes for many
	 * probes, instead of each waking for one.  A full load fills them all.
	 */
	if (side != 0 && (s = spare_pop(sup, jc, sweep, side)) != NULL)
		return s;
	if ((s = idle_pop(sup, jc)) != NULL)
		return s;
	if (any && (s = idle_pop(sup, CLASS_ICMP)) != NULL)
		return s;
	if ((s = spare_pop(sup, jc, sweep, side)) != NULL)
		return s;
	if (any && (s = spare_pop(sup, CLASS_ICMP, sweep, side)) != NULL)
		return s;
	return NULL;
}

static void
sup_dispatch(struct sup *sup)
{
	struct slot *s = NULL;
	struct job job;
	int jc;

	while (!sup->draining && rate_ready(sup)) {
		for (jc = 0; jc < CLASS_MAX; jc++)
			if (sup->queue[jc].len > 0 &&
			    (s = slot_for(sup, jc)) != NULL)
				break;
		if (jc == CLASS_MAX)
			break;
		rate_take(sup);
		job = jobq_pop(&sup->queue[jc]);
		slot_send(s, job);
	}
	sup_flush(sup);
}

void
sup_submit(struct sup *sup, const struct target *t, uint64_t id)
{
	struct job job = {t, id, target_sweepable(t),
	    target_runs_beside(t) ? (uint8_t)t->kind : 0, 0, 0};

	sup->stats.submitted++;
	if (sup->draining) {
		deliver_failure(sup, NULL, job, REASON_CANCELLED,
		    "cancelled: shutting down");
		return;
	}
	jobq_push(&sup->queue[job_class(&job)], job);
	/*
	 * Jobs submitted in the same turn of the event loop (the slots that
	 * serve starts together) go out together: one system call for each
	 * worker, one wake-up of it, instead of one for every job.
	 */
	if (!event_pending(sup->ev_dispatch, EV_TIMEOUT, NULL))
		event_active(sup->ev_dispatch, EV_TIMEOUT, 1);
}

static void
sup_on_dispatch(evutil_socket_t fd, short what, void *arg)
{
	sup_dispatch(arg);
}

size_t
sup_queued(const struct sup *sup)
{
	size_t n = sup->queue[CLASS_ICMP].len + sup->queue[CLASS_PLAIN].len;
	unsigned i;

	for (i = 0; i < sup->cfg.workers; i++)
		if (sup->slots[i].held > 1 && !slot_grouped(&sup->slots[i]))
			n += sup->slots[i].held - 1;
	return n;
}

unsigned
sup_workers(const struct sup *sup)
{
	return sup->cfg.workers;
}

unsigned
sup_workers_alive(const struct sup *sup)
{
	unsigned i, n = 0;

	for (i = 0; i < sup->cfg.workers; i++)
		n += sup->slots[i].pid != 0;
	return n;
}

size_t
sup_inflight(const struct sup *sup)
{
	const struct slot *s;
	size_t n = 0;
	unsigned i;

	for (i = 0; i < sup->cfg.workers; i++) {
		s = &sup->slots[i];
		n += slot_grouped(s) ? s->held : s->held > 0;
	}
	return n;
}

const struct sup_stats *
sup_stats(const struct sup *sup)
{
	return &sup->stats;
}

void
sup_cancel_inflight(struct sup *sup)
{
	unsigned i;

	for (i = 0; i < sup->cfg.workers; i++)
		if (sup->slots[i].held > 0)
			slot_kill(&sup->slots[i], KILL_CANCEL,
			    "still running when the grace period ended");
}

static void
sup_on_grace(evutil_socket_t fd, short what, void *arg)
{
	sup_cancel_inflight(arg);
}

/*
 * Jobs waiting in a worker have not started: report them cancelled now
 * and let their answers, if the worker gets to them, go unread.
 */
static void
slot_cancel_waiting(struct slot *s)
{
	unsigned i;

	if (slot_grouped(s))
		return; /* all of them may be running */
	for (i = 1; i < s->held; i++) {
		s->stale[s->nstale++] = s->jobs[i].id;
		deliver_failure(s->sup, NULL, s->jobs[i], REASON_CANCELLED,
		    "cancelled: shutting down before the probe started");
	}
	while (s->held > 1)
		slot_remove(s, s->held - 1);
}

void
sup_drain(struct sup *sup, int64_t grace_us)
{
	struct timeval tv;
	unsigned i;

	if (sup->draining)
		return;
	sup->draining = true;
	for (i = 0; i < sup->cfg.workers; i++)
		evtimer_del(sup->slots[i].ev_respawn);
	fail_queue(sup, REASON_CANCELLED,
	    "cancelled: shutting down before the probe started");
	for (i = 0; i < sup->cfg.workers; i++)
		slot_cancel_waiting(&sup->slots[i]);
	if (grace_us <= 0) {
		sup_cancel_inflight(sup);
		return;
	}
	timeval_from_us(&tv, grace_us);
	evtimer_add(sup->ev_grace, &tv);
}

/* A slot's inheritance: limits, identity, and its own ICMP sockets. */
static void
slot_ctx_init(struct sup *sup, struct slot *s, uint16_t ident_base)
{
	s->ctx.limits = sup->cfg.limits;
	s->ctx.drop = sup->cfg.drop;
	s->ctx.uid = sup->cfg.uid;
	s->ctx.gid = sup->cfg.gid;
	s->ctx.allow = sup->cfg.allow;
	s->ctx.sandbox = sup->cfg.sandbox;
	s->ctx.parallel = sup->cfg.parallel;
	/* Each probe under way holds a socket; leave room for the rest. */
	s->ctx.limits.open_files =
	    sup->cfg.limits.open_files + sup->cfg.parallel;
	s->ctx.icmp.v4.fd = s->ctx.icmp.v6.fd = -1;
	s->ctx.icmp.v4.err = s->ctx.icmp.v6.err = EPERM;
	s->class = CLASS_PLAIN;
	if (sup->cfg.icmp && s->index < SUP_ICMP_SLOTS_MAX) {
		icmp_socks_open(&s->ctx.icmp,
		    (uint16_t)(ident_base + s->index));
		s->class = CLASS_ICMP;
	}
}

void
sup_config_defaults(struct sup_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->slack_us = SUP_SLACK_US;
#ifdef PULSE_SANITIZERS
	cfg->limits.limit_memory = false;
#else
	cfg->limits.limit_memory = true;
#endif
	cfg->limits.memory_bytes = SUP_WORKER_MEMORY_BYTES;
	cfg->limits.open_files = SUP_WORKER_OPEN_FILES;
	cfg->default_count = 1;
	cfg->parallel = WORKER_PARALLEL_DEFAULT;
	cfg->sandbox = true;
}

struct sup *
sup_new(struct event_base *base, const struct sup_config *cfg)
{
	struct sup *sup = xcalloc(1, sizeof(*sup));
	uint16_t ident_base = (uint16_t)(getpid() * 31);
	struct slot *s;
	unsigned i;

	sup->base = base;
	sup->cfg = *cfg;
	sup->slots = xcalloc(cfg->workers, sizeof(*sup->slots));
	sup->idle[CLASS_ICMP].v = xcalloc(cfg->workers, sizeof(unsigned));
	sup->idle[CLASS_PLAIN].v = xcalloc(cfg->workers, sizeof(unsigned));
	sup->spare[CLASS_ICMP].v = xcalloc(cfg->workers, sizeof(unsigned));
	sup->spare[CLASS_PLAIN].v = xcalloc(cfg->workers, sizeof(unsigned));
	sup->dirty = xcalloc(cfg->workers, sizeof(unsigned));
	sup->ev_sigchld = evsignal_new(base, SIGCHLD, sup_on_sigchld, sup);
	sup->ev_grace = evtimer_new(base, sup_on_grace, sup);
	sup->ev_rate = evtimer_new(base, sup_on_rate, sup);
	sup->ev_dispatch = evtimer_new(base, sup_on_dispatch, sup);
	if (sup->ev_sigchld == NULL || sup->ev_grace == NULL ||
	    sup->ev_rate == NULL || sup->ev_dispatch == NULL ||
	    evsignal_add(sup->ev_sigchld, NULL) == -1)
		fatalx("sup_new: cannot set up events");
	if (cfg->http)
		probe_http_global_init();
	for (i = 0; i < cfg->workers; i++) {
		s = &sup->slots[i];
		s->sup = sup;
		s->index = i;
		s->fd = -1;
		slot_ctx_init(sup, s, ident_base);
		s->ev_deadline = evtimer_new(base, slot_on_deadline, s);
		s->ev_respawn = evtimer_new(base, slot_on_respawn, s);
		if (s->ev_deadline == NULL || s->ev_respawn == NULL)
			fatalx("sup_new: cannot set up timers");
		if (slot_spawn(s) == -1) {
			log_warn("cannot start worker %u", i);
			sup->stats.spawn_failures++;
			s->failures++;
			slot_schedule_respawn(s);
		}
	}
	if (sup->alive == 0) {
		sup_free(sup);
		return NULL;
	}
	return sup;
}

/* Wait for every worker: close their sockets, then escalate to SIGKILL. */
static void
sup_stop_workers(struct sup *sup)
{
	int64_t deadline = mono_now_us() + SUP_STOP_WAIT_US, delay = 1000;
	struct timespec ts;
	unsigned i, left;
	int status;

	for (i = 0; i < sup->cfg.workers; i++) {
		if (sup->slots[i].fd != -1)
			close(sup->slots[i].fd);
		sup->slots[i].fd = -1;
		/* Whatever a worker still runs, nobody waits for any more. */
		if (sup->slots[i].pid > 0 &&
		    (sup->slots[i].held > 0 || sup->slots[i].nstale > 0))
			kill(sup->slots[i].pid, SIGKILL);
	}
	do {
		for (i = 0, left = 0; i < sup->cfg.workers; i++) {
			if (sup->slots[i].pid <= 0)
				continue;
			if (waitpid(sup->slots[i].pid, &status, WNOHANG) != 0)
				sup->slots[i].pid = 0;
			else if (mono_now_us() >= deadline)
				kill(sup->slots[i].pid, SIGKILL);
			else
				left++;
		}
		ts.tv_sec = 0;
		ts.tv_nsec = delay * 1000;
		if (left > 0)
			nanosleep(&ts, NULL);
		if (delay < 100000)
			delay *= 2;
	} while (left > 0);
	for (i = 0; i < sup->cfg.workers; i++)
		if (sup->slots[i].pid > 0)
			waitpid(sup->slots[i].pid, &status, 0);
}

void
sup_free(struct sup *sup)
{
	unsigned i;

	if (sup == NULL)
		return;
	sup_stop_workers(sup);
	for (i = 0; i < sup->cfg.workers; i++) {
		if (sup->slots[i].ev_read != NULL)
			event_free(sup->slots[i].ev_read);
		if (sup->slots[i].ev_write != NULL)
			event_free(sup->slots[i].ev_write);
		if (sup->slots[i].ev_deadline != NULL)
			event_free(sup->slots[i].ev_deadline);
		if (sup->slots[i].ev_respawn != NULL)
			event_free(sup->slots[i].ev_respawn);
	}
	if (sup->ev_sigchld != NULL)
		event_free(sup->ev_sigchld);
	if (sup->ev_grace != NULL)
		event_free(sup->ev_grace);
	if (sup->ev_rate != NULL)
		event_free(sup->ev_rate);
	if (sup->ev_dispatch != NULL)
		event_free(sup->ev_dispatch);
	for (i = 0; i < sup->cfg.workers; i++)
		icmp_socks_close(&sup->slots[i].ctx.icmp);
	free(sup->slots);
	free(sup->idle[CLASS_ICMP].v);
	free(sup->idle[CLASS_PLAIN].v);
	free(sup->spare[CLASS_ICMP].v);
	free(sup->spare[CLASS_PLAIN].v);
	free(sup->queue[CLASS_ICMP].v);
	free(sup->queue[CLASS_PLAIN].v);
	free(sup->out);
	free(sup->dirty);
	if (sup->cfg.http)
		probe_http_global_cleanup();
	free(sup);
}
