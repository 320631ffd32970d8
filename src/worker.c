/* The worker process: one probe at a time, under limits, over a socket. */
#include "config.h"

#include <errno.h>
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

/*
 * RLIMIT_CPU counts the whole life of the process, so each probe moves the
 * soft limit to what has been used so far plus this probe's budget; the
 * hard limit stays open so the next probe can move it again.
 */
static void
arm_cpu_budget(int64_t timeout_us)
{
	struct rusage ru;
	rlim_t used;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return;
	used = (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + 1;
	set_limit(RLIMIT_CPU,
	    used + (rlim_t)(timeout_us / USEC_PER_SEC) + WORKER_CPU_SLACK_SEC,
	    RLIM_INFINITY, "cpu");
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
	arm_cpu_budget(req->timeout_us);
	/* The backstop: the supervisor's own deadline should come first. */
	alarm((unsigned)(req->timeout_us / USEC_PER_SEC) + 2);
	res.result.start_us = wall_now_us();
	t0 = mono_now_us();
	probe_run(&req->target, t0 + req->timeout_us, env, &res.result);
	res.result.duration_us = mono_now_us() - t0;
	alarm(0);
	rc = worker_reply(fd, &res);
	result_release(&res.result);
	return rc;
}

struct group_reply {
	int fd;
	const struct msg_probe_req *reqs;
	struct result *r;
	int failed;
};

/* A probe of the sweep is over: answer it now, not when all are. */
static void
group_done(void *arg, size_t i)
{
	struct group_reply *g = arg;
	struct msg_probe_result res;

	memset(&res, 0, sizeof(res));
	res.id = g->reqs[i].id;
	res.result = g->r[i];
	if (worker_reply(g->fd, &res) == -1)
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
	arm_cpu_budget(longest);
	alarm((unsigned)(longest / USEC_PER_SEC) + 2);
	probe_icmp_group(t, dl, n, env, r, group_done, &g);
	alarm(0);
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

/* HTTP probes running together, each answered as soon as it ends. */
struct http_batch {
	int fd;
	struct msg_probe_req req[PROBE_HTTP_BATCH_MAX];
	struct msg_probe_result res[PROBE_HTTP_BATCH_MAX];
	int64_t t0[PROBE_HTTP_BATCH_MAX];
	bool used[PROBE_HTTP_BATCH_MAX];
	int failed;
};

static void
http_done(void *arg, void *cookie)
{
	struct http_batch *b = arg;
	size_t i = (size_t)(uintptr_t)cookie;

	b->res[i].result.duration_us = mono_now_us() - b->t0[i];
	if (worker_reply(b->fd, &b->res[i]) == -1)
		b->failed = 1;
	result_release(&b->res[i].result);
	target_clear(&b->req[i].target);
	b->used[i] = false;
}

/* Start b->req[i]; the alarm covers the longest probe running. */
static void
http_start(struct http_batch *b, size_t i, struct probe_env *env)
{
	const struct msg_probe_req *req = &b->req[i];
	unsigned want = (unsigned)(req->timeout_us / USEC_PER_SEC) + 2;
	unsigned left = alarm(0);

	alarm(left > want ? left : want);
	arm_cpu_budget(req->timeout_us);
	b->used[i] = true;
	memset(&b->res[i], 0, sizeof(b->res[i]));
	b->res[i].id = req->id;
	result_init(&b->res[i].result);
	b->res[i].result.start_us = wall_now_us();
	b->t0[i] = mono_now_us();
	if (probe_http_batch_add(env->http, &req->target,
	        b->t0[i] + req->timeout_us, &b->res[i].result,
	        (void *)(uintptr_t)i) == 1)
		http_done(b, (void *)(uintptr_t)i);
}

static int
http_free_slot(const struct http_batch *b)
{
	int i;

	for (i = 0; i < PROBE_HTTP_BATCH_MAX; i++)
		if (!b->used[i])
			return i;
	return -1;
}

/*
 * Run *first and every HTTP request that arrives while probes run, up to
 * PROBE_HTTP_BATCH_MAX at once.  Another kind of request ends the intake:
 * it is left in *next for after the batch.
 */
static int
worker_http_batch(int fd, struct msg_probe_req *first, struct probe_env *env,
    struct msg_probe_req *next, bool *have_next, bool *gone)
{
	static struct http_batch b;
	struct msg_probe_req req;
	int i, readable;

	memset(&b, 0, sizeof(b));
	b.fd = fd;
	if (env->http == NULL)
		env->http = probe_http_ctx_new();
	b.req[0] = *first;
	memset(first, 0, sizeof(*first));
	http_start(&b, 0, env);
	while (probe_http_batch_active(env->http) > 0 && !b.failed) {
		i = http_free_slot(&b);
		readable = probe_http_batch_run(env->http,
		    i >= 0 && !*have_next && !*gone ? fd : -1, http_done, &b);
		while (readable && (i = http_free_slot(&b)) >= 0 &&
		    !*have_next && !*gone &&
		    worker_read(fd, false, &req, gone, env) == 1) {
			if (req.target.kind != TARGET_HTTP) {
				*next = req;
				*have_next = true;
				break;
			}
			b.req[i] = req;
			http_start(&b, (size_t)i, env);
		}
	}
	alarm(0);
	for (i = 0; i < PROBE_HTTP_BATCH_MAX; i++)
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
	struct probe_env env = {&ctx->icmp, 0, 0, NULL,
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
		} else if (worker_read(fd, true, &reqs[0], &gone, &env) == 0)
			break;
		if (reqs[0].target.kind == TARGET_HTTP) {
			rc = worker_http_batch(fd, &reqs[0], &env, &next,
			    &have_next, &gone);
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
