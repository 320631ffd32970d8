/*
 * Unit tests for supervisor.c: a real worker pool in a real libevent loop,
 * probing listeners made here on loopback.  Every loop is bounded by a
 * timer, so a supervisor that loses a result fails the test instead of
 * hanging it.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "msg.h"
#include "result.h"
#include "sandbox.h"
#include "supervisor.h"
#include "target.h"
#include "util.h"

#define NPROBES 32 /* ids 0..NPROBES-1 */

/*
 * worker_main and fork, as the supervisor sees them (-Wl,--wrap): a
 * worker may be made to answer garbage, and fork to fail with EAGAIN.
 */
enum worker_mode { WORKER_REAL, WORKER_GARBAGE, WORKER_FORBIDDEN };
static enum worker_mode worker_mode; /* read by each child as it starts */
static unsigned forks_to_fail, fork_calls;

int __real_worker_main(int fd, void *arg);
int __wrap_worker_main(int fd, void *arg);
pid_t __real_fork(void);
pid_t __wrap_fork(void);

int
__wrap_worker_main(int fd, void *arg)
{
	uint8_t buf[MSG_MAX];

	char why[128];
	char *argv[] = {"true", NULL};

	if (worker_mode == WORKER_REAL)
		return __real_worker_main(fd, arg);
	if (worker_mode == WORKER_FORBIDDEN) {
		/* A probe gone wrong: in the sandbox, it tries to run a program. */
		if (sandbox_worker(why, sizeof(why)) == -1 ||
		    recv(fd, buf, sizeof(buf), 0) <= 0)
			return 1;
		execv("/bin/true", argv);
		return 1;
	}
	if (recv(fd, buf, sizeof(buf), 0) > 0)
		(void)send(fd, "garbage", 7, MSG_NOSIGNAL);
	(void)recv(fd, buf, sizeof(buf), 0); /* until the supervisor kills */
	return 0;
}

pid_t
__wrap_fork(void)
{
	fork_calls++;
	if (forks_to_fail > 0) {
		forks_to_fail--;
		errno = EAGAIN;
		return -1;
	}
	return __real_fork();
}
#define FILL_TRIES 64
#define FILL_WAIT_MS 200
#define TICK_US (5 * USEC_PER_MSEC)

struct ctx {
	struct event_base *base;
	struct sup *sup;
	struct event *ev_accept;
	int open_fd, refuse_fd, hole_fd;
	int fillers[FILL_TRIES];
	size_t nfillers;
	struct target targets[NPROBES];
	unsigned count[NPROBES]; /* results seen per id */
	struct result results[NPROBES];
	int64_t at_us[NPROBES]; /* when each result came */
	size_t got;             /* results seen in all */
	unsigned strays;        /* results for unknown ids or targets */
	size_t want;            /* run_until(): results to wait for */
};

/* --- loopback listeners ---------------------------------------------- */

static uint16_t
bound_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

static int
bind_loopback(void)
{
	struct sockaddr_in sin;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* Start a connect to lfd; 1 if it completed within FILL_WAIT_MS. */
static int
connect_completes(int lfd, int *out)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct pollfd pfd;
	int fd;

	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	*out = fd;
	if (connect(fd, (struct sockaddr *)&sin, len) == 0)
		return 1;
	assert_int_equal(errno, EINPROGRESS);
	pfd.fd = fd;
	pfd.events = POLLOUT;
	return poll(&pfd, 1, FILL_WAIT_MS) == 1;
}

/* A listener whose accept queue is full: the kernel drops new SYNs. */
static void
make_blackhole(struct ctx *c)
{
	size_t i;

	c->hole_fd = bind_loopback();
	assert_int_equal(listen(c->hole_fd, 0), 0);
	for (i = 0; i < FILL_TRIES; i++)
		if (!connect_completes(c->hole_fd, &c->fillers[c->nfillers++]))
			return;
	fail_msg("blackhole backlog never filled");
}

/* Keep the accepting listener's queue empty however many probes come. */
static void
on_accept(evutil_socket_t fd, short what, void *arg)
{
	int cfd;

	while ((cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) != -1)
		close(cfd);
}

/* --- the pool under test --------------------------------------------- */

static void
on_result(void *arg, uint64_t id, const struct target *t,
    const struct result *r)
{
	struct ctx *c = arg;

	c->got++;
	if (id >= NPROBES || t != &c->targets[id]) {
		c->strays++;
		return;
	}
	c->count[id]++;
	c->results[id] = *r;
	c->at_us[id] = mono_now_us();
}

static void
set_target(struct ctx *c, uint64_t id, int fd, int64_t timeout_us)
{
	struct target *t = &c->targets[id];

	target_clear(t);
	t->kind = TARGET_TCP;
	t->host = xstrdup("127.0.0.1");
	t->port = bound_port(fd);
	t->timeout_us = timeout_us;
	xasprintf(&t->spec, "127.0.0.1:%u", (unsigned)t->port);
}

/* A pool whose workers run up to parallel TCP probes side by side. */
static void
start_pool_parallel(struct ctx *c, unsigned workers, int64_t slack_us,
    unsigned parallel)
{
	struct sup_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.workers = workers;
	cfg.parallel = parallel;
	cfg.default_timeout_us = 2 * USEC_PER_SEC;
	cfg.slack_us = slack_us;
	cfg.limits.limit_memory = false;
	cfg.limits.open_files = 64;
	cfg.on_result = on_result;
	cfg.arg = c;
	c->sup = sup_new(c->base, &cfg);
	assert_non_null(c->sup);
}

/* A pool whose workers run one probe at a time. */
static void
start_pool(struct ctx *c, unsigned workers, int64_t slack_us)
{
	start_pool_parallel(c, workers, slack_us, 1);
}

/* Submit, and let the pool dispatch it, as the next turn of the loop would. */
static void
submit(struct ctx *c, uint64_t id)
{
	sup_submit(c->sup, &c->targets[id], id);
	event_base_loop(c->base, EVLOOP_NONBLOCK);
}

struct waiter {
	int (*pred)(struct ctx *);
	struct ctx *c;
	int64_t deadline;
};

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct waiter *w = arg;

	if (w->pred(w->c) || mono_now_us() >= w->deadline)
		event_base_loopbreak(w->c->base);
}

/* Run the loop until pred holds or timeout_us passes; return pred. */
static int
run_until(struct ctx *c, int (*pred)(struct ctx *), int64_t timeout_us)
{
	struct waiter w = {pred, c, mono_now_us() + timeout_us};
	struct timeval tv = {0, TICK_US};
	struct event *ev;

	ev = event_new(c->base, -1, EV_PERSIST, on_tick, &w);
	assert_non_null(ev);
	assert_int_equal(event_add(ev, &tv), 0);
	if (!pred(c))
		assert_int_not_equal(event_base_dispatch(c->base), -1);
	event_free(ev);
	return pred(c);
}

static int
have_wanted(struct ctx *c)
{
	return c->got >= c->want;
}

static int
never(struct ctx *c)
{
	return 0;
}

/* Run the loop for a while, to catch results that should not come. */
static void
run_for(struct ctx *c, int64_t us)
{
	run_until(c, never, us);
}

static void
wait_results(struct ctx *c, size_t n, int64_t timeout_us)
{
	c->want = n;
	if (!run_until(c, have_wanted, timeout_us))
		fail_msg("%zu of %zu results after %lld ms", c->got, n,
		    (long long)(timeout_us / USEC_PER_MSEC));
}

/* Children of this process (named comm, if given), found in /proc. */
static size_t
children(pid_t *pids, size_t max, const char *comm)
{
	char path[64], buf[512], *lp, *rp;
	struct dirent *de;
	size_t n = 0;
	DIR *d;
	FILE *f;
	int pid, ppid;

	d = opendir("/proc");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL && n < max) {
		if ((pid = atoi(de->d_name)) <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		lp = fgets(buf, sizeof(buf), f);
		fclose(f);
		/* "pid (comm) state ppid ...": comm may hold anything. */
		if (lp == NULL || (lp = strchr(buf, '(')) == NULL ||
		    (rp = strrchr(buf, ')')) == NULL ||
		    sscanf(rp + 1, " %*c %d", &ppid) != 1 || ppid != getpid())
			continue;
		*rp = '\0';
		if (comm != NULL && strcmp(lp + 1, comm) != 0)
			continue;
		pids[n++] = pid;
	}
	closedir(d);
	return n;
}

static size_t
kill_children(int sig)
{
	pid_t pids[16];
	size_t i, n = children(pids, 16, NULL);

	for (i = 0; i < n; i++)
		assert_int_equal(kill(pids[i], sig), 0);
	return n;
}

/* Sockets open in process pid. */
static unsigned
sockets_of(pid_t pid)
{
	char dir[64], path[320], link[64];
	struct dirent *de;
	unsigned n = 0;
	ssize_t len;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (strncmp(link, "socket:", 7) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static int
setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	c->base = event_base_new();
	assert_non_null(c->base);
	c->open_fd = bind_loopback();
	assert_int_equal(listen(c->open_fd, 128), 0);
	assert_int_equal(fcntl(c->open_fd, F_SETFL, O_NONBLOCK), 0);
	c->ev_accept =
	    event_new(c->base, c->open_fd, EV_READ | EV_PERSIST, on_accept, c);
	assert_int_equal(event_add(c->ev_accept, NULL), 0);
	c->refuse_fd = bind_loopback();
	make_blackhole(c);
	worker_mode = WORKER_REAL;
	forks_to_fail = 0;
	*state = c;
	return 0;
}

/* Free the pool, then prove no worker was left behind, not even a
 * zombie. */
static int
teardown(void **state)
{
	struct ctx *c = *state;
	size_t i;
	int status;

	sup_free(c->sup);
	errno = 0;
	assert_int_equal(waitpid(-1, &status, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	event_free(c->ev_accept);
	event_base_free(c->base);
	close(c->open_fd);
	close(c->refuse_fd);
	close(c->hole_fd);
	for (i = 0; i < c->nfillers; i++)
		close(c->fillers[i]);
	for (i = 0; i < NPROBES; i++)
		target_clear(&c->targets[i]);
	free(c);
	return 0;
}

/* --- tests ----------------------------------------------------------- */

/* Two workers, many probes: every id gets exactly one result, the right
 * one, and the counters agree. */
static void
test_every_id_once(void **state)
{
	struct ctx *c = *state;
	const struct sup_stats *st;
	uint64_t id;

	for (id = 0; id < 20; id++)
		set_target(c, id, id % 2 == 0 ? c->open_fd : c->refuse_fd, 0);
	start_pool(c, 2, USEC_PER_SEC);
	for (id = 0; id < 20; id++)
		submit(c, id);
	assert_true(sup_inflight(c->sup) <= 2);
	/* A quick answer may have come while the loop dispatched. */
	assert_int_equal(c->got + sup_queued(c->sup) + sup_inflight(c->sup),
	    20);
	wait_results(c, 20, 10 * USEC_PER_SEC);
	run_for(c, 100 * USEC_PER_MSEC);
	assert_int_equal(c->got, 20);
	assert_int_equal(c->strays, 0);
	for (id = 0; id < 20; id++) {
		assert_int_equal(c->count[id], 1);
		if (id % 2 == 0) {
			if (!c->results[id].success)
				fail_msg("id %u: %s", (unsigned)id,
				    c->results[id].error);
			assert_true(c->results[id].connect_us >= 0);
		} else {
			assert_false(c->results[id].success);
			assert_int_equal(c->results[id].reason, REASON_REFUSED);
		}
		assert_string_equal(c->results[id].address, "127.0.0.1");
	}
	st = sup_stats(c->sup);
	assert_int_equal(st->submitted, 20);
	assert_int_equal(st->completed, 20);
	assert_int_equal(st->crashes, 0);
	assert_int_equal(st->deadline_kills, 0);
	assert_int_equal(sup_queued(c->sup), 0);
	assert_int_equal(sup_inflight(c->sup), 0);
}

/* The workers are direct children named pulse-worker. */
static void
test_workers_are_children(void **state)
{
	struct ctx *c = *state;
	int64_t end;
	pid_t pids[8];
	size_t n = 0;

	start_pool(c, 2, USEC_PER_SEC);
	for (end = mono_now_us() + 2 * USEC_PER_SEC; mono_now_us() < end;
	     usleep(10000))
		if ((n = children(pids, 8, "pulse-worker")) == 2)
			break;
	assert_int_equal(n, 2);
	assert_int_equal(children(pids, 8, NULL), 2);
}

/* A probe into a blackhole ends as a timeout from the worker itself,
 * close to the target's own timeout. */
static void
test_blackhole_timeout(void **state)
{
	struct ctx *c = *state;
	int64_t t0, took;

	set_target(c, 0, c->hole_fd, 200 * USEC_PER_MSEC);
	start_pool(c, 2, USEC_PER_SEC);
	t0 = mono_now_us();
	submit(c, 0);
	wait_results(c, 1, 3 * USEC_PER_SEC);
	took = c->at_us[0] - t0;
	assert_false(c->results[0].success);
	assert_int_equal(c->results[0].reason, REASON_TIMEOUT);
	assert_true(took >= 190 * USEC_PER_MSEC);
	if (took > 700 * USEC_PER_MSEC)
		fail_msg("200ms timeout reported after %lld ms",
		    (long long)(took / USEC_PER_MSEC));
	assert_int_equal(sup_stats(c->sup)->deadline_kills, 0);
	assert_int_equal(sup_stats(c->sup)->crashes, 0);
}

/* Draining cancels queued probes at once, lets in-flight ones run until
 * the grace period ends, then cancels them too; later submissions are
 * cancelled on the spot. */
static void
test_drain(void **state)
{
	struct ctx *c = *state;
	int64_t t0;
	uint64_t id;

	set_target(c, 0, c->hole_fd, 5 * USEC_PER_SEC);
	set_target(c, 1, c->hole_fd, 5 * USEC_PER_SEC);
	for (id = 2; id < 5; id++)
		set_target(c, id, c->open_fd, 0);
	set_target(c, 5, c->open_fd, 0);
	start_pool(c, 2, USEC_PER_SEC);
	for (id = 0; id < 5; id++)
		submit(c, id);
	assert_int_equal(sup_inflight(c->sup), 2);
	assert_int_equal(sup_queued(c->sup), 3);
	run_for(c, 50 * USEC_PER_MSEC);
	assert_int_equal(c->got, 0);

	t0 = mono_now_us();
	sup_drain(c->sup, 300 * USEC_PER_MSEC);
	wait_results(c, 3, 50 * USEC_PER_MSEC);
	for (id = 2; id < 5; id++) {
		assert_int_equal(c->count[id], 1);
		assert_int_equal(c->results[id].reason, REASON_CANCELLED);
		assert_int_equal(strncmp(c->results[id].error, "cancelled", 9),
		    0);
	}
	assert_int_equal(c->count[0] + c->count[1], 0);
	assert_int_equal(sup_queued(c->sup), 0);

	submit(c, 5);
	wait_results(c, 4, 50 * USEC_PER_MSEC);
	assert_int_equal(c->results[5].reason, REASON_CANCELLED);

	wait_results(c, 6, 2 * USEC_PER_SEC);
	for (id = 0; id < 2; id++) {
		assert_int_equal(c->count[id], 1);
		assert_false(c->results[id].success);
		assert_int_equal(c->results[id].reason, REASON_CANCELLED);
		assert_int_equal(strncmp(c->results[id].error, "cancelled", 9),
		    0);
		assert_true(c->at_us[id] - t0 >= 290 * USEC_PER_MSEC);
		assert_true(c->at_us[id] - t0 < 1300 * USEC_PER_MSEC);
	}
	run_for(c, 100 * USEC_PER_MSEC);
	assert_int_equal(c->got, 6);
	assert_int_equal(c->strays, 0);
	assert_int_equal(sup_inflight(c->sup), 0);
	assert_int_equal(sup_stats(c->sup)->crashes, 0);
	assert_int_equal(sup_stats(c->sup)->submitted, 6);
	assert_int_equal(sup_stats(c->sup)->completed, 6);
}

/* A second signal ends the grace period at once. */
static void
test_cancel_inflight(void **state)
{
	struct ctx *c = *state;
	int64_t t0;

	set_target(c, 0, c->hole_fd, 5 * USEC_PER_SEC);
	start_pool(c, 2, USEC_PER_SEC);
	submit(c, 0);
	run_for(c, 50 * USEC_PER_MSEC);
	sup_drain(c->sup, 10 * USEC_PER_SEC);
	run_for(c, 50 * USEC_PER_MSEC);
	assert_int_equal(c->got, 0);
	t0 = mono_now_us();
	sup_cancel_inflight(c->sup);
	wait_results(c, 1, USEC_PER_SEC);
	assert_int_equal(c->results[0].reason, REASON_CANCELLED);
	assert_true(c->at_us[0] - t0 < 500 * USEC_PER_MSEC);
}

/* A worker killed by SIGSEGV mid-probe yields a crash result for that
 * probe only; an idle worker's death yields none; the pool recovers. */
static void
test_crash_sigsegv(void **state)
{
	struct ctx *c = *state;
	const struct sup_stats *st;

	set_target(c, 0, c->hole_fd, 3 * USEC_PER_SEC);
	set_target(c, 1, c->open_fd, 0);
	start_pool(c, 2, USEC_PER_SEC);
	submit(c, 0);
	run_for(c, 100 * USEC_PER_MSEC);
	assert_int_equal(sup_inflight(c->sup), 1);
	assert_int_equal(kill_children(SIGSEGV), 2);
	wait_results(c, 1, 2 * USEC_PER_SEC);
	assert_false(c->results[0].success);
	assert_int_equal(c->results[0].reason, REASON_CRASH);
	assert_string_equal(c->results[0].error, "worker crashed: SIGSEGV");
	run_for(c, 200 * USEC_PER_MSEC);
	assert_int_equal(c->got, 1);

	st = sup_stats(c->sup);
	assert_int_equal(st->crashes, 1);
	assert_int_equal(st->respawns, 2);
	submit(c, 1);
	wait_results(c, 2, 3 * USEC_PER_SEC);
	if (!c->results[1].success)
		fail_msg("after respawn: %s", c->results[1].error);
	assert_int_equal(c->strays, 0);
	assert_int_equal(st->submitted, 2);
	assert_int_equal(st->completed, 2);
}

/* A worker that stops answering (SIGSTOP) is killed at its deadline, and
 * its probe reported as deadline exceeded. */
static void
test_deadline_sigstop(void **state)
{
	struct ctx *c = *state;
	int64_t t0, took;

	set_target(c, 0, c->hole_fd, 300 * USEC_PER_MSEC);
	start_pool(c, 1, 200 * USEC_PER_MSEC);
	t0 = mono_now_us();
	submit(c, 0);
	run_for(c, 50 * USEC_PER_MSEC);
	assert_int_equal(kill_children(SIGSTOP), 1);
	wait_results(c, 1, 3 * USEC_PER_SEC);
	took = c->at_us[0] - t0;
	assert_int_equal(c->results[0].reason, REASON_DEADLINE);
	assert_int_equal(strncmp(c->results[0].error, "deadline exceeded", 17),
	    0);
	assert_true(took >= 490 * USEC_PER_MSEC);
	assert_true(took < 1500 * USEC_PER_MSEC);
	assert_int_equal(sup_stats(c->sup)->deadline_kills, 1);
}

/* A worker that answers garbage is killed, its probe reported with what
 * was wrong, and the worker that replaces it probes as usual. */
static void
test_garbage_from_worker(void **state)
{
	struct ctx *c = *state;

	set_target(c, 0, c->open_fd, 0);
	set_target(c, 1, c->open_fd, 0);
	worker_mode = WORKER_GARBAGE;
	start_pool(c, 1, USEC_PER_SEC);
	worker_mode = WORKER_REAL;
	submit(c, 0);
	wait_results(c, 1, 3 * USEC_PER_SEC);
	assert_false(c->results[0].success);
	assert_int_equal(c->results[0].reason, REASON_CRASH);
	if (strstr(c->results[0].error, "worker sent a malformed message") ==
	    NULL)
		fail_msg("error: %s", c->results[0].error);
	submit(c, 1);
	wait_results(c, 2, 3 * USEC_PER_SEC);
	if (!c->results[1].success)
		fail_msg("after the garbage: %s", c->results[1].error);
	assert_int_equal(c->strays, 0);
}

/* fork failing with EAGAIN is retried with a growing delay, not in a
 * busy loop; a probe queued meanwhile waits and runs once fork works. */
static void
test_fork_failure_backoff(void **state)
{
	struct ctx *c = *state;
	unsigned calls;

	set_target(c, 0, c->open_fd, 0);
	start_pool(c, 1, USEC_PER_SEC);
	run_for(c, 100 * USEC_PER_MSEC);
	forks_to_fail = 1000;
	fork_calls = 0;
	assert_int_equal(kill_children(SIGKILL), 1);
	/* Submitted once the death is seen, the probe waits for a worker. */
	run_for(c, 200 * USEC_PER_MSEC);
	submit(c, 0);
	run_for(c, 1300 * USEC_PER_MSEC);
	calls = fork_calls;
	/* At once, then after 50, 100, 200, 400 and 800 ms: six or so. */
	if (calls < 3 || calls > 10)
		fail_msg("%u forks tried in 1.5 s", calls);
	assert_int_equal(c->got, 0);
	assert_true(sup_stats(c->sup)->spawn_failures >= calls - 1);
	forks_to_fail = 0;
	wait_results(c, 1, 5 * USEC_PER_SEC);
	if (!c->results[0].success)
		fail_msg("once fork works: %s", c->results[0].error);
}

/* A probe that makes a call the sandbox forbids has its worker killed by
 * SIGSYS: the probe is reported as that crash, and the pool goes on. */
static void
test_forbidden_syscall(void **state)
{
	struct ctx *c = *state;

	set_target(c, 0, c->open_fd, 0);
	set_target(c, 1, c->open_fd, 0);
	worker_mode = WORKER_FORBIDDEN;
	start_pool(c, 1, USEC_PER_SEC);
	worker_mode = WORKER_REAL;
	submit(c, 0);
	wait_results(c, 1, 3 * USEC_PER_SEC);
	assert_false(c->results[0].success);
	assert_int_equal(c->results[0].reason, REASON_CRASH);
	assert_string_equal(c->results[0].error, "worker crashed: SIGSYS");
	assert_int_equal(sup_stats(c->sup)->crashes, 1);
	submit(c, 1);
	wait_results(c, 2, 3 * USEC_PER_SEC);
	if (!c->results[1].success)
		fail_msg("after SIGSYS: %s", c->results[1].error);
}

/* One worker running four probes side by side: eight probes of an
 * accepting port all succeed, each reported exactly once. */
static void
test_parallel_every_id_once(void **state)
{
	struct ctx *c = *state;
	const struct sup_stats *st;
	uint64_t id;

	for (id = 0; id < 8; id++)
		set_target(c, id, c->open_fd, 0);
	start_pool_parallel(c, 1, USEC_PER_SEC, 4);
	for (id = 0; id < 8; id++)
		submit(c, id);
	/* At most 4 at once; quick answers may have come already. */
	assert_true(sup_inflight(c->sup) <= 4);
	assert_int_equal(c->got + sup_queued(c->sup) + sup_inflight(c->sup), 8);
	wait_results(c, 8, 5 * USEC_PER_SEC);
	run_for(c, 100 * USEC_PER_MSEC);
	assert_int_equal(c->got, 8);
	assert_int_equal(c->strays, 0);
	for (id = 0; id < 8; id++) {
		assert_int_equal(c->count[id], 1);
		if (!c->results[id].success)
			fail_msg("id %u: %s", (unsigned)id,
			    c->results[id].error);
		assert_true(c->results[id].connect_us >= 0);
		assert_string_equal(c->results[id].address, "127.0.0.1");
	}
	st = sup_stats(c->sup);
	assert_int_equal(st->completed, 8);
	assert_int_equal(st->crashes, 0);
	assert_int_equal(st->deadline_kills, 0);
	assert_int_equal(sup_inflight(c->sup), 0);
}

/* Beside three blackholes an accepting port is answered at once, and a
 * fourth blackhole takes its place at once: each slow probe ends at its
 * own timeout, not one after another. */
static void
test_parallel_slow_beside_fast(void **state)
{
	struct ctx *c = *state;
	int64_t t0, took;
	uint64_t id;

	for (id = 0; id < 5; id++)
		set_target(c, id, id == 3 ? c->open_fd : c->hole_fd,
		    id == 3 ? 0 : USEC_PER_SEC);
	start_pool_parallel(c, 1, USEC_PER_SEC, 4);
	t0 = mono_now_us();
	for (id = 0; id < 5; id++)
		submit(c, id);
	wait_results(c, 5, 4 * USEC_PER_SEC);
	if (!c->results[3].success)
		fail_msg("open port: %s", c->results[3].error);
	took = c->at_us[3] - t0;
	if (took > 300 * USEC_PER_MSEC)
		fail_msg("open port answered after %lld ms",
		    (long long)(took / USEC_PER_MSEC));
	for (id = 0; id < 5; id++) {
		assert_int_equal(c->count[id], 1);
		if (id == 3)
			continue;
		assert_false(c->results[id].success);
		assert_int_equal(c->results[id].reason, REASON_TIMEOUT);
		took = c->at_us[id] - t0;
		assert_true(took >= USEC_PER_SEC);
		if (took > 1700 * USEC_PER_MSEC)
			fail_msg("id %u: 1s timeout reported after %lld ms",
			    (unsigned)id, (long long)(took / USEC_PER_MSEC));
	}
	assert_int_equal(c->strays, 0);
	assert_int_equal(sup_stats(c->sup)->crashes, 0);
	assert_int_equal(sup_stats(c->sup)->deadline_kills, 0);
}

/* A worker runs no more than parallel probes: a third waits until one
 * of two blackholes times out. */
static void
test_parallel_cap(void **state)
{
	struct ctx *c = *state;
	int64_t t0;

	set_target(c, 0, c->hole_fd, 400 * USEC_PER_MSEC);
	set_target(c, 1, c->hole_fd, 400 * USEC_PER_MSEC);
	set_target(c, 2, c->open_fd, 0);
	start_pool_parallel(c, 1, USEC_PER_SEC, 2);
	t0 = mono_now_us();
	submit(c, 0);
	submit(c, 1);
	submit(c, 2);
	assert_int_equal(sup_inflight(c->sup), 2);
	assert_int_equal(sup_queued(c->sup), 1);
	wait_results(c, 3, 3 * USEC_PER_SEC);
	if (!c->results[2].success)
		fail_msg("open port: %s", c->results[2].error);
	assert_true(c->at_us[2] - t0 >= 400 * USEC_PER_MSEC);
	assert_int_equal(c->results[0].reason, REASON_TIMEOUT);
	assert_int_equal(c->results[1].reason, REASON_TIMEOUT);
}

/* A worker killed while it runs four probes side by side: each of the
 * four is reported as that crash, once, and the pool goes on. */
static void
test_parallel_sigkill(void **state)
{
	struct ctx *c = *state;
	const struct sup_stats *st;
	int64_t end;
	pid_t pid;
	uint64_t id;

	for (id = 0; id < 4; id++)
		set_target(c, id, c->hole_fd, 3 * USEC_PER_SEC);
	set_target(c, 4, c->open_fd, 0);
	start_pool_parallel(c, 1, USEC_PER_SEC, 4);
	for (id = 0; id < 4; id++)
		submit(c, id);
	assert_int_equal(sup_inflight(c->sup), 4);
	/* The worker holds its socket to us and one per probe under way. */
	end = mono_now_us() + USEC_PER_SEC;
	do
		run_for(c, 20 * USEC_PER_MSEC);
	while (children(&pid, 1, NULL) == 1 && sockets_of(pid) < 5 &&
	    mono_now_us() < end);
	assert_int_equal(children(&pid, 1, NULL), 1);
	assert_int_equal(sockets_of(pid), 5);
	assert_int_equal(kill_children(SIGKILL), 1);
	wait_results(c, 4, 2 * USEC_PER_SEC);
	for (id = 0; id < 4; id++) {
		assert_int_equal(c->count[id], 1);
		assert_false(c->results[id].success);
		assert_int_equal(c->results[id].reason, REASON_CRASH);
		assert_string_equal(c->results[id].error,
		    "worker crashed: SIGKILL");
	}
	st = sup_stats(c->sup);
	assert_int_equal(st->crashes, 1);
	submit(c, 4);
	wait_results(c, 5, 3 * USEC_PER_SEC);
	if (!c->results[4].success)
		fail_msg("after SIGKILL: %s", c->results[4].error);
	run_for(c, 100 * USEC_PER_MSEC);
	assert_int_equal(c->got, 5);
	assert_int_equal(c->strays, 0);
	assert_int_equal(st->respawns, 1);
	assert_int_equal(st->completed, 5);
}

/* HTTP requests too many for the worker's socket buffer at once (64
 * bodies of 32 KiB, more than the 1 MiB it holds) wait their turn: no
 * probe is reported as a crash because the supervisor filled a socket. */
static void
test_parallel_big_requests(void **state)
{
	struct ctx *c = *state;
	char path[] = "/tmp/pulse-body-XXXXXX", line[256], why[256];
	static char body[TARGET_HTTP_BODY_MAX];
	unsigned crashed = 0, timedout = 0;
	uint64_t id;
	int fd;

	assert_true(NPROBES >= 32);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	memset(body, 'b', sizeof(body));
	assert_int_equal(write(fd, body, sizeof(body)), sizeof(body));
	close(fd);
	for (id = 0; id < NPROBES; id++) {
		target_clear(&c->targets[id]);
		snprintf(line, sizeof(line),
		    "http://127.0.0.1:%u/p%u body_file=%s timeout=1s",
		    (unsigned)bound_port(c->hole_fd), (unsigned)id, path);
		if (target_parse_line(line, strlen(line), &c->targets[id], why,
		        sizeof(why)) != 1)
			fail_msg("%s: %s", line, why);
	}
	unlink(path);
	start_pool_parallel(c, 1, USEC_PER_SEC, 64);
	for (id = 0; id < NPROBES; id++)
		submit(c, id);
	wait_results(c, NPROBES, 8 * USEC_PER_SEC);
	for (id = 0; id < NPROBES; id++) {
		crashed += c->results[id].reason == REASON_CRASH;
		timedout += c->results[id].reason == REASON_TIMEOUT;
	}
	if (crashed > 0)
		fail_msg("%u of %u probes crashed (\"%s\"), %u timed out",
		    crashed, (unsigned)NPROBES, c->results[0].error, timedout);
	assert_int_equal(timedout, NPROBES);
	assert_int_equal(sup_stats(c->sup)->crashes, 0);
}

/* Every test here runs between setup() and teardown(). */
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(test_every_id_once),
	    TEST(test_workers_are_children),
	    TEST(test_blackhole_timeout),
	    TEST(test_drain),
	    TEST(test_cancel_inflight),
	    TEST(test_crash_sigsegv),
	    TEST(test_deadline_sigstop),
	    TEST(test_garbage_from_worker),
	    TEST(test_fork_failure_backoff),
	    TEST(test_forbidden_syscall),
	    TEST(test_parallel_every_id_once),
	    TEST(test_parallel_slow_beside_fast),
	    TEST(test_parallel_cap),
	    TEST(test_parallel_sigkill),
	    TEST(test_parallel_big_requests),
	};

	log_init("test_supervisor", LOG_LEVEL_WARN);
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
