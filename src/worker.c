/* The worker process: one probe at a time, under limits, over a socket. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "probe.h"
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
	if (!ctx->drop)
		return;
	if (setgroups(1, &ctx->gid) == -1 ||
	    setresgid(ctx->gid, ctx->gid, ctx->gid) == -1 ||
	    setresuid(ctx->uid, ctx->uid, ctx->uid) == -1)
		fatal("worker: cannot drop privileges");
	if (ctx->uid != 0 && setuid(0) != -1)
		fatalx("worker: regained root after dropping it");
}

/* Run one decoded request and send its result back. */
static int
worker_handle(int fd, struct msg_probe_req *req, struct probe_env *env)
{
	struct msg_probe_result res;
	uint8_t out[MSG_MAX];
	int64_t t0;
	ssize_t n;

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
	if ((n = msg_encode_probe_result(&res, out, sizeof(out))) == -1)
		fatalx("worker: result does not fit a message");
	if (send(fd, out, (size_t)n, MSG_NOSIGNAL) != n)
		return -1;
	return 0;
}

int
worker_main(int fd, void *arg)
{
	struct worker_ctx *ctx = arg;
	struct probe_env env = {&ctx->icmp, 0, 0};
	struct msg_probe_req req;
	uint8_t buf[MSG_MAX + 1];
	char why[128];
	ssize_t n;

	prctl(PR_SET_NAME, "pulse-worker", 0, 0, 0);
	worker_signals();
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	drop_privileges(ctx);
	/* Never outlive the supervisor; set after the uid change clears it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	apply_limits(&ctx->limits);
	probe_env_seed(&env);
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			return 0;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (msg_decode_probe_req(buf, (size_t)n, &req, why,
		        sizeof(why)) == -1) {
			log_errorx("worker: bad request: %s", why);
			return 3;
		}
		n = worker_handle(fd, &req, &env);
		target_clear(&req.target);
		if (n == -1)
			return 1;
	}
}
