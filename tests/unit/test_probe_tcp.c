/*
 * Unit tests for probe_tcp.c against listeners made here on loopback:
 * one that accepts, a bound port that refuses, and a listener with a
 * full backlog that drops SYNs.  No traffic leaves the machine.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "allowlist.h"
#include "probe_tcp.h"
#include "result.h"
#include "target.h"
#include "util.h"

#define FILL_TRIES 64    /* connects tried to fill a backlog */
#define FILL_WAIT_MS 200 /* a loopback handshake takes microseconds */
#define FILLERS_MAX (FILL_TRIES + 1)

struct listeners {
	int open4; /* accepts (the kernel completes handshakes) */
	uint16_t open4_port;
	int refuse4; /* bound, not listening: RST */
	uint16_t refuse4_port;
	int hole4; /* listening, backlog full: SYNs dropped */
	uint16_t hole4_port;
	int fillers[FILLERS_MAX];
	size_t nfillers;
};

static uint16_t
bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* A TCP socket bound to a loopback address at port (0: any). */
static int
bind_loopback(int family, uint16_t port)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	int fd;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (family == AF_INET) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			return fd;
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		sin6.sin6_addr = in6addr_loopback;
		if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0)
			return fd;
	}
	close(fd);
	return -1;
}

static int
have_ipv6(void)
{
	int fd = bind_loopback(AF_INET6, 0);

	if (fd == -1)
		return 0;
	close(fd);
	return 1;
}

static int
listen_loopback(int family, uint16_t port)
{
	int fd = bind_loopback(family, port);

	if (fd != -1 && listen(fd, 16) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Start a connect to lfd; 1 if it completed within FILL_WAIT_MS. */
static int
connect_completes(int lfd, int *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct pollfd pfd;
	int fd, n;

	assert_int_equal(getsockname(lfd, (struct sockaddr *)&ss, &len), 0);
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	*out = fd;
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		return 1;
	assert_int_equal(errno, EINPROGRESS);
	pfd.fd = fd;
	pfd.events = POLLOUT;
	n = poll(&pfd, 1, FILL_WAIT_MS);
	return n == 1;
}

/* A listener whose accept queue is full: the kernel drops new SYNs. */
static void
make_blackhole(struct listeners *l)
{
	size_t i;

	l->hole4 = bind_loopback(AF_INET, 0);
	assert_true(l->hole4 >= 0);
	assert_int_equal(listen(l->hole4, 0), 0);
	l->hole4_port = bound_port(l->hole4);
	for (i = 0; i < FILL_TRIES; i++)
		if (!connect_completes(l->hole4, &l->fillers[l->nfillers++]))
			return;
	fail_msg("blackhole backlog never filled");
}

static int
setup(void **state)
{
	struct listeners *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return -1;
	l->open4 = listen_loopback(AF_INET, 0);
	l->refuse4 = bind_loopback(AF_INET, 0);
	if (l->open4 == -1 || l->refuse4 == -1) {
		free(l);
		return -1;
	}
	l->open4_port = bound_port(l->open4);
	l->refuse4_port = bound_port(l->refuse4);
	make_blackhole(l);
	*state = l;
	return 0;
}

static int
teardown(void **state)
{
	struct listeners *l = *state;
	size_t i;

	close(l->open4);
	close(l->refuse4);
	close(l->hole4);
	for (i = 0; i < l->nfillers; i++)
		close(l->fillers[i]);
	free(l);
	return 0;
}

/* A target for host:port; the caller clears it. */
static void
make_target(struct target *t, const char *host, uint16_t port)
{
	memset(t, 0, sizeof(*t));
	t->kind = TARGET_TCP;
	t->host = xstrdup(host);
	t->port = port;
	xasprintf(&t->spec, "%s:%u", host, (unsigned)port);
}

/* Probe host:port with a timeout; return the elapsed microseconds. */
static int64_t
probe(const char *host, uint16_t port, int64_t timeout_us, struct result *r)
{
	struct target t;
	int64_t t0;

	make_target(&t, host, port);
	result_init(r);
	t0 = mono_now_us();
	probe_tcp_run(&t, t0 + timeout_us, r);
	target_clear(&t);
	return mono_now_us() - t0;
}

/* An accepting IPv4 listener is up: handshake timed, no lookup made. */
static void
test_open(void **state)
{
	struct listeners *l = *state;
	struct result r;
	int64_t took;

	took = probe("127.0.0.1", l->open4_port, 2 * USEC_PER_SEC, &r);
	if (!r.success)
		fail_msg("open port down: %s", r.error);
	assert_int_equal(r.reason, REASON_NONE);
	assert_string_equal(r.error, "");
	assert_string_equal(r.address, "127.0.0.1");
	assert_true(r.connect_us >= 0);
	assert_true(r.connect_us <= took);
	assert_int_equal(r.dns_us, -1);
	assert_true(took < USEC_PER_SEC);
}

/* A bound port with no listener refuses: reason refused, with the
 * address it tried and a message saying so. */
static void
test_refused(void **state)
{
	struct listeners *l = *state;
	struct result r;

	probe("127.0.0.1", l->refuse4_port, 2 * USEC_PER_SEC, &r);
	assert_false(r.success);
	assert_int_equal(r.reason, REASON_REFUSED);
	assert_non_null(strstr(r.error, "refused"));
	assert_string_equal(r.address, "127.0.0.1");
	assert_int_equal(r.connect_us, -1);
}

/* A listener on ::1 is up when the machine has IPv6 loopback. */
static void
test_ipv6(void **state)
{
	struct result r;
	uint16_t port;
	int fd;

	if ((fd = listen_loopback(AF_INET6, 0)) == -1) {
		skip();
		return;
	}
	port = bound_port(fd);
	probe("::1", port, 2 * USEC_PER_SEC, &r);
	close(fd);
	if (!r.success)
		fail_msg("::1 down: %s", r.error);
	assert_string_equal(r.address, "::1");
	assert_true(r.connect_us >= 0);
}

/* SYNs into a full backlog are dropped: reason timeout, on time. */
static void
test_blackhole_timeout(void **state)
{
	struct listeners *l = *state;
	struct result r;
	int64_t took;

	took = probe("127.0.0.1", l->hole4_port, 200 * USEC_PER_MSEC, &r);
	assert_false(r.success);
	assert_int_equal(r.reason, REASON_TIMEOUT);
	assert_true(r.error[0] != '\0');
	assert_int_equal(r.connect_us, -1);
	assert_true(took >= 190 * USEC_PER_MSEC);
	if (took > 300 * USEC_PER_MSEC)
		fail_msg("200ms probe took %lld us", (long long)took);
}

/* A deadline already past fails at once, even against an open port. */
static void
test_deadline_past(void **state)
{
	struct listeners *l = *state;
	struct target t;
	struct result r;
	int64_t t0, took;

	make_target(&t, "127.0.0.1", l->open4_port);
	result_init(&r);
	t0 = mono_now_us();
	probe_tcp_run(&t, t0 - USEC_PER_MSEC, &r);
	took = mono_now_us() - t0;
	target_clear(&t);
	assert_false(r.success);
	assert_int_equal(r.reason, REASON_TIMEOUT);
	assert_true(took < 100 * USEC_PER_MSEC);
}

/* "localhost" comes from the hosts file: resolution is timed, then the
 * address it gave is probed. */
static void
test_localhost(void **state)
{
	struct result r;
	uint16_t port = 0;
	int fd4 = -1, fd6 = -1, i, v6, listed = 0;
	char line[256];
	FILE *hosts;

	/* Only the hosts file may answer: a DNS query would leave loopback. */
	if ((hosts = fopen("/etc/hosts", "r")) != NULL) {
		while (fgets(line, sizeof(line), hosts) != NULL)
			if (line[0] != '#' && strstr(line, "localhost") != NULL)
				listed = 1;
		fclose(hosts);
	}
	if (!listed) {
		skip();
		return;
	}
	/* Listen on the same port on both loopbacks, whichever comes first. */
	v6 = have_ipv6();
	for (i = 0; i < 50; i++) {
		fd4 = listen_loopback(AF_INET, 0);
		assert_true(fd4 >= 0);
		port = bound_port(fd4);
		if (!v6 || (fd6 = listen_loopback(AF_INET6, port)) != -1)
			break;
		close(fd4);
		fd4 = -1;
	}
	assert_true(fd4 >= 0);
	probe("localhost", port, 2 * USEC_PER_SEC, &r);
	close(fd4);
	if (fd6 != -1)
		close(fd6);
	if (!r.success)
		fail_msg("localhost down: %s", r.error);
	assert_true(r.dns_us >= 0);
	assert_true(r.connect_us >= 0);
	assert_true(strcmp(r.address, "127.0.0.1") == 0 ||
	    strcmp(r.address, "::1") == 0);
}

/* Probe nonexistent.invalid in a child and send the result back. */
static void
dns_child(int wfd, int isolate)
{
	struct result r;

	if (isolate && unshare(CLONE_NEWNET) == -1)
		_exit(77);
	probe("nonexistent.invalid", 80, 2 * USEC_PER_SEC, &r);
	if (write(wfd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	_exit(0);
}

/* True when every nameserver the resolver would ask is on loopback. */
static int
resolver_is_local(void)
{
	FILE *f = fopen("/etc/resolv.conf", "r");
	char line[256], addr[128];
	int local = 1;

	if (f == NULL)
		return 1; /* glibc then asks 127.0.0.1 */
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " nameserver %127s", addr) == 1 &&
		    strncmp(addr, "127.", 4) != 0 && strcmp(addr, "::1") != 0)
			local = 0;
	fclose(f);
	return local;
}

/* Run dns_child; 77 if it could not isolate itself. */
static int
run_dns_child(int isolate, struct result *r, int64_t *took)
{
	int p[2], status;
	int64_t t0 = mono_now_us();
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		dns_child(p[1], isolate);
	}
	close(p[1]);
	n = read(p[0], r, sizeof(*r));
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	*took = mono_now_us() - t0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		return 77;
	assert_int_equal(n, sizeof(*r));
	return 0;
}

/*
 * A name that cannot resolve fails with reason dns, within its deadline.
 * The lookup runs in a network namespace of its own, so no query leaves
 * the machine; without one it runs only if the resolver is on loopback.
 */
static void
test_unresolvable(void **state)
{
	struct result r;
	int64_t took;

	if (run_dns_child(1, &r, &took) == 77) {
		if (!resolver_is_local()) {
			skip();
			return;
		}
		assert_int_equal(run_dns_child(0, &r, &took), 0);
	}
	assert_false(r.success);
	assert_int_equal(r.reason, REASON_DNS);
	assert_non_null(strstr(r.error, "nonexistent.invalid"));
	assert_true(r.dns_us >= 0);
	assert_int_equal(r.connect_us, -1);
	assert_true(took < 3 * USEC_PER_SEC);
}

/* --- batches ---------------------------------------------------------- */

#define BATCH_N 8 /* probes in the largest batch here */

/* What the done callback of a batch saw, by cookie. */
struct seen {
	unsigned calls[BATCH_N];
	int64_t at_us[BATCH_N];
	unsigned total;
};

static void
on_done(void *arg, void *cookie)
{
	struct seen *s = arg;
	uintptr_t i = (uintptr_t)cookie;

	if (i >= BATCH_N)
		fail_msg("done for unknown cookie %lu", (unsigned long)i);
	s->calls[i]++;
	s->at_us[i] = mono_now_us();
	s->total++;
}

/* Add a probe of host:port to b under cookie i; add()'s answer. */
static int
batch_add(struct probe_tcp_batch *b, struct target *t, const char *host,
    uint16_t port, int64_t timeout_us, struct result *r, uintptr_t i)
{
	make_target(t, host, port);
	result_init(r);
	return probe_tcp_batch_add(b, t, mono_now_us() + timeout_us, r,
	    (void *)i);
}

/* Run b until want probes have ended in all, or limit_us has passed. */
static void
run_batch(struct probe_tcp_batch *b, struct seen *s, unsigned want,
    int64_t limit_us)
{
	int64_t end = mono_now_us() + limit_us;

	while (s->total < want && mono_now_us() < end)
		assert_int_equal(probe_tcp_batch_run(b, -1, on_done, s), 0);
	if (s->total < want)
		fail_msg("%u of %u probes ended", s->total, want);
}

/* Descriptors this process has open. */
static unsigned
open_fds(void)
{
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	d = opendir("/proc/self/fd");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* A successful connect to 127.0.0.1, timed within took. */
static void
expect_up(const struct result *r, const char *addr, int64_t took)
{
	if (!r->success)
		fail_msg("%s down: %s", addr, r->error);
	assert_int_equal(r->reason, REASON_NONE);
	assert_string_equal(r->error, "");
	assert_string_equal(r->address, addr);
	assert_true(r->connect_us >= 0);
	assert_true(r->connect_us <= took);
	assert_int_equal(r->dns_us, -1);
}

/* A batch of accepting listeners: every probe succeeds, each done once
 * (or over at add(), then never done), and nothing stays active. */
static void
test_batch_open(void **state)
{
	struct probe_tcp_batch *b = probe_tcp_batch_new(BATCH_N);
	struct target t[BATCH_N];
	struct result r[BATCH_N];
	struct seen s = {{0}, {0}, 0};
	int fd[BATCH_N], rc[BATCH_N];
	unsigned i, pending = 0;
	int64_t t0 = mono_now_us(), took;

	for (i = 0; i < BATCH_N; i++) {
		fd[i] = listen_loopback(AF_INET, 0);
		assert_true(fd[i] >= 0);
	}
	for (i = 0; i < BATCH_N; i++) {
		rc[i] = batch_add(b, &t[i], "127.0.0.1", bound_port(fd[i]),
		    2 * USEC_PER_SEC, &r[i], i);
		assert_true(rc[i] == 0 || rc[i] == 1);
		pending += rc[i] == 0;
	}
	assert_int_equal(probe_tcp_batch_active(b), pending);
	run_batch(b, &s, pending, 2 * USEC_PER_SEC);
	took = mono_now_us() - t0;
	assert_int_equal(probe_tcp_batch_active(b), 0);
	for (i = 0; i < BATCH_N; i++) {
		expect_up(&r[i], "127.0.0.1", took);
		assert_int_equal(s.calls[i], rc[i] == 0 ? 1 : 0);
		target_clear(&t[i]);
		close(fd[i]);
	}
	assert_true(took < USEC_PER_SEC);
	probe_tcp_batch_free(b);
}

/* A bound port with no listener is refused, at add() or through done. */
static void
test_batch_refused(void **state)
{
	struct probe_tcp_batch *b = probe_tcp_batch_new(2);
	struct seen s = {{0}, {0}, 0};
	struct target t;
	struct result r;
	int fd = bind_loopback(AF_INET, 0), rc;

	assert_true(fd >= 0);
	rc = batch_add(b, &t, "127.0.0.1", bound_port(fd), 2 * USEC_PER_SEC, &r,
	    0);
	assert_true(rc == 0 || rc == 1);
	if (rc == 0)
		run_batch(b, &s, 1, 2 * USEC_PER_SEC);
	assert_int_equal(s.calls[0], rc == 0 ? 1 : 0);
	assert_int_equal(probe_tcp_batch_active(b), 0);
	assert_false(r.success);
	assert_int_equal(r.reason, REASON_REFUSED);
	assert_non_null(strstr(r.error, "refused"));
	assert_string_equal(r.address, "127.0.0.1");
	assert_int_equal(r.connect_us, -1);
	target_clear(&t);
	close(fd);
	probe_tcp_batch_free(b);
}

/* A blackhole times out at its own deadline while an accepting port in
 * the same batch is answered at once: the slow holds up nothing. */
static void
test_batch_slow_beside_fast(void **state)
{
	struct listeners *l = *state;
	struct probe_tcp_batch *b = probe_tcp_batch_new(2);
	struct seen s = {{0}, {0}, 0};
	struct target t[2];
	struct result r[2];
	int fd = listen_loopback(AF_INET, 0);
	int64_t t0 = mono_now_us();

	assert_true(fd >= 0);
	assert_int_equal(batch_add(b, &t[0], "127.0.0.1", l->hole4_port,
	                     300 * USEC_PER_MSEC, &r[0], 0),
	    0);
	assert_int_equal(batch_add(b, &t[1], "127.0.0.1", bound_port(fd),
	                     2 * USEC_PER_SEC, &r[1], 1),
	    0);
	run_batch(b, &s, 2, 2 * USEC_PER_SEC);
	expect_up(&r[1], "127.0.0.1", s.at_us[1] - t0);
	if (s.at_us[1] - t0 > 100 * USEC_PER_MSEC)
		fail_msg("open port answered after %lld us",
		    (long long)(s.at_us[1] - t0));
	assert_false(r[0].success);
	assert_int_equal(r[0].reason, REASON_TIMEOUT);
	assert_string_equal(r[0].error, "connect timed out");
	assert_string_equal(r[0].address, "127.0.0.1");
	assert_int_equal(r[0].connect_us, -1);
	assert_true(s.at_us[0] - t0 >= 300 * USEC_PER_MSEC);
	if (s.at_us[0] - t0 > 500 * USEC_PER_MSEC)
		fail_msg("300ms probe ended after %lld us",
		    (long long)(s.at_us[0] - t0));
	assert_int_equal(s.calls[0], 1);
	assert_int_equal(s.calls[1], 1);
	target_clear(&t[0]);
	target_clear(&t[1]);
	close(fd);
	probe_tcp_batch_free(b);
}

/* Two blackholes with different timeouts each end at their own. */
static void
test_batch_own_deadlines(void **state)
{
	struct listeners *l = *state;
	struct probe_tcp_batch *b = probe_tcp_batch_new(2);
	struct seen s = {{0}, {0}, 0};
	struct target t[2];
	struct result r[2];
	int64_t t0 = mono_now_us(), took0, took1;

	assert_int_equal(batch_add(b, &t[0], "127.0.0.1", l->hole4_port,
	                     400 * USEC_PER_MSEC, &r[0], 0),
	    0);
	assert_int_equal(batch_add(b, &t[1], "127.0.0.1", l->hole4_port,
	                     150 * USEC_PER_MSEC, &r[1], 1),
	    0);
	run_batch(b, &s, 2, 2 * USEC_PER_SEC);
	took0 = s.at_us[0] - t0;
	took1 = s.at_us[1] - t0;
	assert_int_equal(r[0].reason, REASON_TIMEOUT);
	assert_int_equal(r[1].reason, REASON_TIMEOUT);
	assert_true(took1 >= 150 * USEC_PER_MSEC);
	assert_true(took0 >= 400 * USEC_PER_MSEC);
	if (took1 > 300 * USEC_PER_MSEC || took0 > 600 * USEC_PER_MSEC)
		fail_msg("150ms and 400ms probes ended after %lld and %lld us",
		    (long long)took1, (long long)took0);
	target_clear(&t[0]);
	target_clear(&t[1]);
	probe_tcp_batch_free(b);
}

/* With every deadline far off, run() comes back within about a second,
 * having ended nothing. */
static void
test_batch_waits_a_second(void **state)
{
	struct listeners *l = *state;
	struct probe_tcp_batch *b = probe_tcp_batch_new(1);
	struct seen s = {{0}, {0}, 0};
	struct target t;
	struct result r;
	int64_t t0, took;

	assert_int_equal(batch_add(b, &t, "127.0.0.1", l->hole4_port,
	                     10 * USEC_PER_SEC, &r, 0),
	    0);
	t0 = mono_now_us();
	assert_int_equal(probe_tcp_batch_run(b, -1, on_done, &s), 0);
	took = mono_now_us() - t0;
	assert_int_equal(s.total, 0);
	assert_int_equal(probe_tcp_batch_active(b), 1);
	assert_true(took >= 990 * USEC_PER_MSEC);
	if (took > 1300 * USEC_PER_MSEC)
		fail_msg("run() waited %lld us", (long long)took);
	target_clear(&t);
	probe_tcp_batch_free(b);
}

/* add() to a full batch says so and leaves the result alone. */
static void
test_batch_full(void **state)
{
	struct listeners *l = *state;
	struct probe_tcp_batch *b = probe_tcp_batch_new(2);
	struct target t[3];
	struct result r[3];
	int fd = listen_loopback(AF_INET, 0);
	unsigned i;

	assert_true(fd >= 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(batch_add(b, &t[i], "127.0.0.1", l->hole4_port,
		                     5 * USEC_PER_SEC, &r[i], i),
		    0);
	assert_int_equal(batch_add(b, &t[2], "127.0.0.1", bound_port(fd),
	                     5 * USEC_PER_SEC, &r[2], 2),
	    -1);
	assert_int_equal(probe_tcp_batch_active(b), 2);
	assert_false(r[2].success);
	assert_int_equal(r[2].reason, REASON_NONE);
	assert_string_equal(r[2].address, "");
	assert_int_equal(r[2].connect_us, -1);
	for (i = 0; i < 3; i++)
		target_clear(&t[i]);
	close(fd);
	probe_tcp_batch_free(b);
}

/* active() counts the probes under way, as they start and end; one over
 * at add() never counts. */
static void
test_batch_active(void **state)
{
	struct listeners *l = *state;
	struct probe_tcp_batch *b = probe_tcp_batch_new(4);
	struct seen s = {{0}, {0}, 0};
	struct allowlist al = {0};
	struct target t[3];
	struct result r[3];
	char why[256];
	int fd = listen_loopback(AF_INET, 0);

	assert_true(fd >= 0);
	assert_int_equal(allowlist_add(&al, "127.0.0.2/32", why, sizeof(why)),
	    0);
	assert_int_equal(probe_tcp_batch_active(b), 0);
	assert_int_equal(batch_add(b, &t[0], "127.0.0.1", l->hole4_port,
	                     300 * USEC_PER_MSEC, &r[0], 0),
	    0);
	assert_int_equal(probe_tcp_batch_active(b), 1);
	assert_int_equal(batch_add(b, &t[1], "127.0.0.1", bound_port(fd),
	                     2 * USEC_PER_SEC, &r[1], 1),
	    0);
	assert_int_equal(probe_tcp_batch_active(b), 2);
	make_target(&t[2], "127.0.0.1", bound_port(fd));
	t[2].allow = &al;
	result_init(&r[2]);
	assert_int_equal(probe_tcp_batch_add(b, &t[2],
	                     mono_now_us() + USEC_PER_SEC, &r[2], (void *)2),
	    1);
	assert_int_equal(probe_tcp_batch_active(b), 2);
	run_batch(b, &s, 1, USEC_PER_SEC);
	assert_int_equal(s.calls[1], 1);
	assert_int_equal(probe_tcp_batch_active(b), 1);
	run_batch(b, &s, 2, 2 * USEC_PER_SEC);
	assert_int_equal(s.calls[0], 1);
	assert_int_equal(s.calls[2], 0);
	assert_int_equal(probe_tcp_batch_active(b), 0);
	target_clear(&t[0]);
	target_clear(&t[1]);
	target_clear(&t[2]);
	allowlist_free(&al);
	close(fd);
	probe_tcp_batch_free(b);
}

/* run() returns 1 as soon as the extra fd is readable, leaving probes
 * under way alone; 0 while it is not. */
static void
test_batch_fd_readable(void **state)
{
	struct listeners *l = *state;
	struct probe_tcp_batch *b = probe_tcp_batch_new(2);
	struct seen s = {{0}, {0}, 0};
	struct target t[2];
	struct result r[2];
	int p[2];
	char c = 'x';
	int64_t t0, took;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(batch_add(b, &t[0], "127.0.0.1", l->hole4_port,
	                     5 * USEC_PER_SEC, &r[0], 0),
	    0);
	assert_int_equal(write(p[1], &c, 1), 1);
	t0 = mono_now_us();
	assert_int_equal(probe_tcp_batch_run(b, p[0], on_done, &s), 1);
	took = mono_now_us() - t0;
	if (took > 100 * USEC_PER_MSEC)
		fail_msg("readable fd seen after %lld us", (long long)took);
	assert_int_equal(s.total, 0);
	assert_int_equal(probe_tcp_batch_active(b), 1);
	assert_int_equal(read(p[0], &c, 1), 1);
	/* Not readable: run() ends the 100ms probe and returns 0. */
	assert_int_equal(batch_add(b, &t[1], "127.0.0.1", l->hole4_port,
	                     100 * USEC_PER_MSEC, &r[1], 1),
	    0);
	t0 = mono_now_us();
	while (s.total == 0 && mono_now_us() - t0 < USEC_PER_SEC)
		assert_int_equal(probe_tcp_batch_run(b, p[0], on_done, &s), 0);
	assert_int_equal(s.calls[1], 1);
	assert_int_equal(r[1].reason, REASON_TIMEOUT);
	assert_int_equal(probe_tcp_batch_active(b), 1);
	/* The other end closed: readable too, so the caller sees it. */
	close(p[1]);
	assert_int_equal(probe_tcp_batch_run(b, p[0], on_done, &s), 1);
	assert_int_equal(s.calls[0], 0);
	close(p[0]);
	target_clear(&t[0]);
	target_clear(&t[1]);
	probe_tcp_batch_free(b);
}

/* Held to an allowlist without 127.0.0.1, the probe ends at add() as
 * denied, and no connection reaches the listener. */
static void
test_batch_denied(void **state)
{
	struct probe_tcp_batch *b = probe_tcp_batch_new(2);
	struct allowlist al = {0};
	struct pollfd pfd;
	struct target t;
	struct result r;
	char why[256];
	int fd = listen_loopback(AF_INET, 0);

	assert_true(fd >= 0);
	assert_int_equal(allowlist_add(&al, "127.0.0.2/32", why, sizeof(why)),
	    0);
	make_target(&t, "127.0.0.1", bound_port(fd));
	t.allow = &al;
	result_init(&r);
	assert_int_equal(probe_tcp_batch_add(b, &t,
	                     mono_now_us() + USEC_PER_SEC, &r, (void *)0),
	    1);
	assert_int_equal(probe_tcp_batch_active(b), 0);
	assert_false(r.success);
	assert_int_equal(r.reason, REASON_DENIED);
	assert_string_equal(r.error,
	    "address 127.0.0.1 is outside the allowlist");
	assert_string_equal(r.address, "127.0.0.1");
	assert_int_equal(r.connect_us, -1);
	pfd.fd = fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 50), 0);
	target_clear(&t);
	allowlist_free(&al);
	close(fd);
	probe_tcp_batch_free(b);
}

/* An IPv4 literal asked for over IPv6 ends at add() as a config error. */
static void
test_batch_wrong_family(void **state)
{
	struct probe_tcp_batch *b = probe_tcp_batch_new(2);
	struct target t;
	struct result r;

	make_target(&t, "127.0.0.1", 9);
	t.ipv = 6;
	result_init(&r);
	assert_int_equal(probe_tcp_batch_add(b, &t,
	                     mono_now_us() + USEC_PER_SEC, &r, (void *)0),
	    1);
	assert_int_equal(probe_tcp_batch_active(b), 0);
	assert_int_equal(r.reason, REASON_CONFIG);
	assert_string_equal(r.error, "127.0.0.1 is not an IPv6 address");
	assert_int_equal(r.connect_us, -1);
	target_clear(&t);
	probe_tcp_batch_free(b);
}

/* A listener on ::1 is up in a batch too, when there is IPv6 loopback. */
static void
test_batch_ipv6(void **state)
{
	struct probe_tcp_batch *b;
	struct seen s = {{0}, {0}, 0};
	struct target t;
	struct result r;
	int64_t t0 = mono_now_us();
	int fd, rc;

	if ((fd = listen_loopback(AF_INET6, 0)) == -1) {
		skip();
		return;
	}
	b = probe_tcp_batch_new(1);
	rc = batch_add(b, &t, "::1", bound_port(fd), 2 * USEC_PER_SEC, &r, 0);
	assert_true(rc == 0 || rc == 1);
	if (rc == 0)
		run_batch(b, &s, 1, 2 * USEC_PER_SEC);
	expect_up(&r, "::1", mono_now_us() - t0);
	target_clear(&t);
	close(fd);
	probe_tcp_batch_free(b);
}

/*
 * Connect a socket of our own to a listener, close the listener before
 * it accepts and return the connect's SO_ERROR: the kernel resets the
 * connection it had queued.
 */
static int
reset_error(void)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct pollfd pfd;
	int lfd = listen_loopback(AF_INET, 0), fd, err = 0;
	socklen_t errlen = sizeof(err);

	assert_true(lfd >= 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&ss, &len), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_true(connect(fd, (struct sockaddr *)&ss, len) == 0 ||
	    errno == EINPROGRESS);
	pfd.fd = lfd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	close(lfd);
	pfd.fd = fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen),
	    0);
	close(fd);
	return err;
}

/* A port whose listener resets the connection before run() looks at it
 * still accepted it: the probe counts as up. */
static void
test_batch_reset_is_up(void **state)
{
	struct probe_tcp_batch *b;
	struct seen s = {{0}, {0}, 0};
	struct pollfd pfd;
	struct target t;
	struct result r;
	int64_t t0 = mono_now_us();
	int fd, rc;

	if (reset_error() != ECONNRESET) {
		skip(); /* this kernel does not reset queued connections */
		return;
	}
	fd = listen_loopback(AF_INET, 0);
	assert_true(fd >= 0);
	b = probe_tcp_batch_new(1);
	rc = batch_add(b, &t, "127.0.0.1", bound_port(fd), 2 * USEC_PER_SEC, &r,
	    0);
	assert_true(rc == 0 || rc == 1);
	pfd.fd = fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	close(fd);
	if (rc == 0)
		run_batch(b, &s, 1, 2 * USEC_PER_SEC);
	expect_up(&r, "127.0.0.1", mono_now_us() - t0);
	target_clear(&t);
	probe_tcp_batch_free(b);
}

/* free() with probes under way closes their sockets: no descriptor is
 * left behind. */
static void
test_batch_free_closes(void **state)
{
	struct listeners *l = *state;
	struct probe_tcp_batch *b;
	struct target t[4];
	struct result r[4];
	unsigned before, i;

	before = open_fds();
	b = probe_tcp_batch_new(4);
	assert_int_equal(open_fds(), before);
	for (i = 0; i < 4; i++) {
		assert_int_equal(batch_add(b, &t[i], "127.0.0.1", l->hole4_port,
		                     5 * USEC_PER_SEC, &r[i], i),
		    0);
		target_clear(&t[i]);
	}
	assert_int_equal(open_fds(), before + 4);
	probe_tcp_batch_free(b);
	assert_int_equal(open_fds(), before);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_blackhole_timeout),
	    cmocka_unit_test(test_deadline_past),
	    cmocka_unit_test(test_localhost),
	    cmocka_unit_test(test_unresolvable),
	    cmocka_unit_test(test_batch_open),
	    cmocka_unit_test(test_batch_refused),
	    cmocka_unit_test(test_batch_slow_beside_fast),
	    cmocka_unit_test(test_batch_own_deadlines),
	    cmocka_unit_test(test_batch_waits_a_second),
	    cmocka_unit_test(test_batch_full),
	    cmocka_unit_test(test_batch_active),
	    cmocka_unit_test(test_batch_fd_readable),
	    cmocka_unit_test(test_batch_denied),
	    cmocka_unit_test(test_batch_wrong_family),
	    cmocka_unit_test(test_batch_ipv6),
	    cmocka_unit_test(test_batch_reset_is_up),
	    cmocka_unit_test(test_batch_free_closes),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
