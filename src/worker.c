/* The worker process: one probe at a time, under limits, over a socket. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "allowlist.h"
#include "log.h"
#include "msg.h"
#include "probe.h"
#include "probe_http.h"
#include "probe_tcp.h"
#include "priv.h"
#include "probe_icmp.h"
#include "sandbox.h"
#include "util.h"
#include "worker.h"

/* CPU seconds a probe may burn beyond its timeout before SIGXCPU. */
#define WORKER_CPU_SLACK_SEC 2

static void
set_limit(int resource, rlim_t soft, rlim_t hard, const char *what)
{
	struct rlimit rl = {soft, hard};

	if (setrlimit(resource, &rl) == -1)
		log_warn("worker: setrlimit %s", what);
}

/* Limits that hold for the worker's whole life. */
static void
apply_limits(const struct worker_limits *lim)
{
	set_limit(RLIMIT_CORE, 0, 0, "core");
	if (lim->open_files > 0)
		set_limit(RLIMIT_NOFILE, lim->open_files, lim->open_files,
		    "nofile");
	if (lim->limit_memory && lim->memory_bytes > 0)
		set_limit(RLIMIT_AS, lim->memory_bytes, lim->memory_bytes,
		    "as");
}

_Static_assert(WORKER_PARALLEL_MAX <= PROBE_HTTP_BATCH_MAX,
    "a worker's batch fits libcurl's");

/* Until when (monotonic) the alarm and the CPU limit cover probes. */
static int64_t alarm_until, cpu_until;

/*
 * Make the alarm and the CPU limit cover a probe of timeout_us that starts
 * now, touching them only when they fall short: a batch starts thousands
 * of probes a second.  The alarm is the backstop for a hung worker (the
 * supervisor's deadline should come first).  RLIMIT_CPU counts the whole
 * life of the process, so its soft limit moves to what has been used so
 * far plus the budget; the hard limit stays open to move it again.
 */
static void
budget_cover(int64_t timeout_us)
{
	int64_t now = mono_now_us(), need = now + timeout_us;
	rlim_t secs = (rlim_t)(timeout_us / USEC_PER_SEC) + 2;
	struct rusage ru;

	if (need > alarm_until) {
		alarm((unsigned)secs);
		alarm_until = now + (int64_t)(secs - 1) * USEC_PER_SEC;
	}
	if (need > cpu_until && getrusage(RUSAGE_SELF, &ru) == 0) {
		set_limit(RLIMIT_CPU,
		    (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + 1 +
		        secs + WORKER_CPU_SLACK_SEC,
		    RLIM_INFINITY, "cpu");
		cpu_until = now + (int64_t)(secs - 1) * USEC_PER_SEC;
	}
}

/* No probe runs: the worker may wait for work as long as it likes. */
static void
budget_clear(void)
{
	alarm(0);
	alarm_until = 0;
}

/* Signals the worker must not act on: the supervisor decides its fate. */
static void
worker_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
}

/*
 * Give up root for good before touching the network: groups, gid, uid,
 * then prove that root cannot be regained.
 */
static void
drop_privileges(const struct worker_ctx *ctx)
{
	if (ctx->drop && priv_drop(ctx->uid, ctx->gid) == -1)
		fatal("worker: cannot drop privileges");
	/* Started without root but with capabilities (systemd's ambient). */
	if (priv_clear_caps() == -1)
		fatal("worker: cannot clear capabilities");
}

/* Send one result; -1 when the supervisor is gone. */
static int
worker_reply(int fd, const struct msg_probe_result *res)
{
	uint8_t out[MSG_MAX];
	ssize_t n;

	if ((n = msg_encode_probe_result(res, out, sizeof(out))) == -1)
		fatalx("worker: result does not fit a message");
	return send(fd, out, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

/* Run one decoded request and send its result back. */
static int
worker_handle(int fd, struct msg_probe_req *req, struct probe_env *env)
{
	struct msg_probe_result res;
	int64_t t0;
	int rc;

	memset(&res, 0, sizeof(res));
	res.id = req->id;
	result_init(&res.result);
	budget_cover(req->timeout_us);
	res.result.start_us = wall_now_us();
	t0 = mono_now_us();
	probe_run(&req->target, t0 + req->timeout_us, env, &res.result);
	res.result.duration_us = mono_now_us() - t0;
	rc = worker_reply(fd, &res);
	result_release(&res.result);
	return rc;
}

/*
 * Answers waiting to go: a batch of probes that end in the same wake-up
 * is answered with one system call.
 */
struct outbox {
	uint8_t buf[4 * MSG_MAX];
	size_t used;
	struct mmsghdr m[WORKER_PARALLEL_MAX];
	struct iovec iov[WORKER_PARALLEL_MAX];
	unsigned n;
};

/* One for the worker: only one batch or sweep runs at a time. */
static struct outbox outbox;

/* Send what waits in o; -1 when the supervisor is gone. */
static int
outbox_flush(int fd, struct outbox *o)
{
	unsigned done = 0;
	int n;

	while (done < o->n) {
		n = sendmmsg(fd, o->m + done, o->n - done, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (unsigned)n;
	}
	o->n = 0;
	o->used = 0;
	return 0;
}

/* Queue one answer, sending what waits first when there is no room. */
static int
outbox_add(int fd, struct outbox *o, const struct msg_probe_result *res)
{
	ssize_t n;

	if ((o->n == WORKER_PARALLEL_MAX ||
	        sizeof(o->buf) - o->used < MSG_MAX) &&
	    outbox_flush(fd, o) == -1)
		return -1;
	n = msg_encode_probe_result(res, o->buf + o->used,
	    sizeof(o->buf) - o->used);
	if (n == -1)
		fatalx("worker: result does not fit a message");
	o->iov[o->n] = (struct iovec){o->buf + o->used, (size_t)n};
	memset(&o->m[o->n], 0, sizeof(o->m[0]));
	o->m[o->n].msg_hdr.msg_iov = &o->iov[o->n];
	o->m[o->n].msg_hdr.msg_iovlen = 1;
	o->n++;
	o->used += (size_t)n;
	return 0;
}

struct group_reply {
	int fd;
	const struct msg_probe_req *reqs;
	struct result *r;
	int failed;
};

/* A probe of the sweep is over: its answer goes before the next wait. */
static void
group_done(void *arg, size_t i)
{
	struct group_reply *g = arg;
	struct msg_probe_result res;

	memset(&res, 0, sizeof(res));
	res.id = g->reqs[i].id;
	res.result = g->r[i];
	if (outbox_add(g->fd, &outbox, &res) == -1)
		g->failed = 1;
}

/* The sweep waits for replies: send the answers of those that ended. */
static void
group_flush(void *arg)
{
	struct group_reply *g = arg;

	if (outbox_flush(g->fd, &outbox) == -1)
		g->failed = 1;
}

/* Run ICMP requests together, as one sweep, and answer each. */
static int
worker_handle_group(int fd, struct msg_probe_req *reqs, size_t n,
    struct probe_env *env)
{
	static struct result r[PROBE_ICMP_GROUP_MAX];
	const struct target *t[PROBE_ICMP_GROUP_MAX];
	int64_t dl[PROBE_ICMP_GROUP_MAX], t0 = mono_now_us(), longest = 0;
	int64_t wall = wall_now_us();
	struct group_reply g = {fd, reqs, r, 0};
	size_t i;

	for (i = 0; i < n; i++) {
		result_init(&r[i]);
		r[i].start_us = wall;
		t[i] = &reqs[i].target;
		dl[i] = t0 + reqs[i].timeout_us;
		if (reqs[i].timeout_us > longest)
			longest = reqs[i].timeout_us;
	}
	budget_cover(longest);
	probe_icmp_group(t, dl, n, env, r, group_done, group_flush, &g);
	group_flush(&g);
	return g.failed ? -1 : 0;
}

/*
 * Read one request, blocking when wait is set; 1 with *req filled, 0 when
 * none is waiting or the supervisor is gone (*gone set), exit on garbage.
 */
static int
worker_read(int fd, bool wait, struct msg_probe_req *req, bool *gone,
    const struct probe_env *env)
{
	uint8_t buf[MSG_MAX + 1];
	char why[128];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), wait ? 0 : MSG_DONTWAIT);
		if (n == 0 || (n == -1 && errno != EINTR && errno != EAGAIN))
			*gone = true;
		if (n <= 0 && (n != -1 || errno != EINTR))
			return 0;
		if (n > 0)
			break;
	}
	if (msg_decode_probe_req(buf, (size_t)n, req, why, sizeof(why)) == -1) {
		log_errorx("worker: bad request: %s", why);
		exit(3);
	}
	req->target.allow = req->restricted ? env->allow : NULL;
	return 1;
}

/*
 * The next request: one waiting now keeps the alarm armed; before waiting
 * for one the alarm is cleared, so an idle worker may wait for good.
 */
static int
worker_next(int fd, struct msg_probe_req *req, bool *gone,
    const struct probe_env *env)
{
	if (worker_read(fd, false, req, gone, env) == 1)
		return 1;
	if (*gone)
		return 0;
	budget_clear();
	return worker_read(fd, true, req, gone, env);
}

/*
 * Probes of one kind (TCP to addresses, or HTTP) running side by side,
 * each answered as soon as it ends.
 */
struct side_batch {
	int fd;
	enum target_kind kind;
	unsigned max;
	struct probe_env *env;
	struct msg_probe_req req[WORKER_PARALLEL_MAX];
	struct msg_probe_result res[WORKER_PARALLEL_MAX];
	int64_t t0[WORKER_PARALLEL_MAX];
	bool used[WORKER_PARALLEL_MAX];
	int failed;
};

static void
side_done(void *arg, void *cookie)
{
	struct side_batch *b = arg;
	size_t i = (size_t)(uintptr_t)cookie;

	b->res[i].result.duration_us = mono_now_us() - b->t0[i];
	if (outbox_add(b->fd, &outbox, &b->res[i]) == -1)
		b->failed = 1;
	result_release(&b->res[i].result);
	target_clear(&b->req[i].target);
	b->used[i] = false;
}

/* Start b->req[i]. */
static void
side_start(struct side_batch *b, size_t i)
{
	const struct msg_probe_req *req = &b->req[i];
	struct probe_env *env = b->env;
	int64_t deadline;
	int rc;

	budget_cover(req->timeout_us);
	b->used[i] = true;
	memset(&b->res[i], 0, sizeof(b->res[i]));
	b->res[i].id = req->id;
	result_init(&b->res[i].result);
	b->res[i].result.start_us = wall_now_us();
	b->t0[i] = mono_now_us();
	deadline = b->t0[i] + req->timeout_us;
	if (b->kind == TARGET_HTTP)
		rc = probe_http_batch_add(env->http, &req->target, deadline,
		    &b->res[i].result, (void *)(uintptr_t)i);
	else
		rc = probe_tcp_batch_add(env->tcp, &req->target, deadline,
		    &b->res[i].result, (void *)(uintptr_t)i);
	if (rc == -1) /* never with parallel within the batch's size */
		result_fail(&b->res[i].result, REASON_INTERNAL,
		    "no room in the worker's batch");
	if (rc != 0)
		side_done(b, (void *)(uintptr_t)i);
}

static int
side_free_slot(const struct side_batch *b)
{
	unsigned i;

	for (i = 0; i < b->max; i++)
		if (!b->used[i])
			return (int)i;
	return -1;
}

static unsigned
side_active(const struct side_batch *b)
{
	return b->kind == TARGET_HTTP ? probe_http_batch_active(b->env->http)
	                              : probe_tcp_batch_active(b->env->tcp);
}

/* Wait for the batch's sockets and fd (-1: not it); 1 when fd is readable. */
static int
side_run(struct side_batch *b, int fd)
{
	if (b->kind == TARGET_HTTP)
		return probe_http_batch_run(b->env->http, fd, side_done, b);
	return probe_tcp_batch_run(b->env->tcp, fd, side_done, b);
}

/* Take every request waiting in the socket that can join the batch. */
static void
side_intake(struct side_batch *b, struct msg_probe_req *next, bool *have_next,
    bool *gone)
{
	struct msg_probe_req req;
	int i;

	while ((i = side_free_slot(b)) >= 0 && !*have_next && !*gone &&
	    worker_read(b->fd, false, &req, gone, b->env) == 1) {
		if (req.target.kind != b->kind ||
		    !target_runs_beside(&req.target)) {
			*next = req;
			*have_next = true;
			break;
		}
		b->req[i] = req;
		side_start(b, (size_t)i);
	}
}

/*
 * Run *first and every request of its kind that arrives while probes run,
 * up to ctx->parallel at once.  Another kind of request ends the intake:
 * it is left in *next for after the batch.
 */
static int
worker_side_batch(int fd, struct msg_probe_req *first, struct probe_env *env,
    unsigned parallel, struct msg_probe_req *next, bool *have_next, bool *gone)
{
	static struct side_batch b;
	unsigned i;
	int readable;

	memset(&b, 0, sizeof(b));
	b.fd = fd;
	b.kind = first->target.kind;
	b.max = parallel;
	b.env = env;
	if (b.kind == TARGET_HTTP && env->http == NULL)
		env->http = probe_http_ctx_new();
	if (b.kind == TARGET_TCP && env->tcp == NULL)
		env->tcp = probe_tcp_batch_new(WORKER_PARALLEL_MAX);
	b.req[0] = *first;
	memset(first, 0, sizeof(*first));
	side_start(&b, 0);
	side_intake(&b, next, have_next, gone);
	while (side_active(&b) > 0 && !b.failed) {
		if (outbox_flush(fd, &outbox) == -1) {
			b.failed = 1;
			break;
		}
		readable = side_run(&b,
		    side_free_slot(&b) >= 0 && !*have_next && !*gone ? fd : -1);
		if (readable)
			side_intake(&b, next, have_next, gone);
	}
	if (!b.failed && outbox_flush(fd, &outbox) == -1)
		b.failed = 1;
	for (i = 0; i < WORKER_PARALLEL_MAX; i++)
		if (b.used[i])
			target_clear(&b.req[i].target);
	return b.failed ? -1 : 0;
}

int
worker_main(int fd, void *arg)
{
	struct worker_ctx *ctx = arg;
	/* A restricted probe without an allowlist may go nowhere. */
	static const struct allowlist nowhere;
	struct probe_env env = {&ctx->icmp, 0, 0, NULL, NULL,
	    ctx->allow != NULL ? ctx->allow : &nowhere};
	static struct msg_probe_req reqs[PROBE_ICMP_GROUP_MAX + 1];
	static struct msg_probe_req next;
	size_t n, i;
	bool gone = false, more, have_next = false;
	char why[256];
	int rc = 0;

	prctl(PR_SET_NAME, "pulse-worker", 0, 0, 0);
	worker_signals();
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	drop_privileges(ctx);
	/* Never outlive the supervisor; set after the uid change clears it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	apply_limits(&ctx->limits);
	probe_env_seed(&env);
	if (ctx->sandbox && sandbox_worker(why, sizeof(why)) == -1)
		fatalx("worker: %s", why);
	while (rc == 0 && !gone) {
		if (have_next) {
			reqs[0] = next;
			have_next = false;
		} else if (worker_next(fd, &reqs[0], &gone, &env) == 0)
			break;
		if (target_runs_beside(&reqs[0].target)) {
			rc = worker_side_batch(fd, &reqs[0], &env,
			    ctx->parallel, &next, &have_next, &gone);
			continue;
		}
		/* Sweepable requests waiting behind this one run with it. */
		n = 1;
		more = target_sweepable(&reqs[0].target);
		while (more && n < PROBE_ICMP_GROUP_MAX &&
		    worker_read(fd, false, &reqs[n], &gone, &env) == 1) {
			more = target_sweepable(&reqs[n].target);
			n++;
		}
		if (n > 1 && !more) /* the last one read is not sweepable */
			rc = worker_handle_group(fd, reqs, n - 1, &env) == -1 ||
			    worker_handle(fd, &reqs[n - 1], &env) == -1;
		else if (n > 1)
			rc = worker_handle_group(fd, reqs, n, &env);
		else
			rc = worker_handle(fd, &reqs[0], &env);
		for (i = 0; i < n; i++)
			target_clear(&reqs[i].target);
	}
	if (have_next)
		target_clear(&next.target);
	probe_env_free(&env);
	return rc != 0 ? 1 : 0;
}
