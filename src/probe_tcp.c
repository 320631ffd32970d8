/* TCP connect probe: resolve within a share of the deadline, then connect. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe_tcp.h"
#include "allowlist.h"
#include "log.h"
#include "resolve.h"
#include "util.h"

/* Classify a connect() errno into a reason with a plain message. */
static void
connect_failed(struct result *r, int err)
{
	switch (err) {
	case ECONNREFUSED:
		result_fail(r, REASON_REFUSED, "connection refused");
		break;
	case ETIMEDOUT:
		result_fail(r, REASON_TIMEOUT, "connection timed out");
		break;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
	case EADDRNOTAVAIL:
	case ENONET:
		result_fail(r, REASON_UNREACHABLE, "%s", net_strerror(err));
		break;
	case EACCES:
	case EPERM:
		result_fail(r, REASON_PERMISSION, "connect not permitted: %s",
		    net_strerror(err));
		break;
	default:
		result_fail(r, REASON_INTERNAL, "connect: %s", strerror(err));
		break;
	}
}

/* Wait until fd is writable or the deadline passes; 1, 0 on timeout. */
static int
wait_writable(int fd, int64_t deadline_us)
{
	struct pollfd pfd = {fd, POLLOUT, 0};
	struct timespec ts;
	int64_t left;
	int rc;

	for (;;) {
		left = deadline_us - mono_now_us();
		if (left <= 0)
			return 0;
		ts.tv_sec = left / USEC_PER_SEC;
		ts.tv_nsec = (left % USEC_PER_SEC) * 1000;
		rc = ppoll(&pfd, 1, &ts, NULL);
		if (rc > 0)
			return 1;
		if (rc == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/* Close with a reset: a prober must not pile up TIME_WAIT sockets. */
static void
close_reset(int fd)
{
	struct linger lg = {1, 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/*
 * Start a connect to sa: 1 connected at once, 0 under way (*fdp set),
 * -1 failed (r says why; *fdp is -1).
 */
static int
tcp_start(const struct sockaddr *sa, socklen_t salen, int *fdp,
    struct result *r)
{
	int fd;

	*fdp = -1;
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		result_fail(r, REASON_INTERNAL, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, sa, salen) == 0) {
		*fdp = fd;
		return 1;
	}
	if (errno != EINPROGRESS) {
		connect_failed(r, errno);
		close(fd);
		return -1;
	}
	*fdp = fd;
	return 0;
}

/*
 * A connect under way on fd came to an end (poll said so): 1 connected,
 * else 0 with r saying why.
 */
static int
tcp_finish(int fd, struct result *r)
{
	int err = 0;
	socklen_t errlen = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) == -1)
		err = errno;
	/* A reset reaches only an established connection: the port accepted. */
	if (err == 0 || err == ECONNRESET)
		return 1;
	connect_failed(r, err);
	return 0;
}

/*
 * Try one address.  Returns 1 connected, 0 failed fast (try the next
 * address), -1 failed for good (deadline spent or a local error).
 */
static int
try_connect(const struct sockaddr *sa, socklen_t salen, int64_t deadline_us,
    struct result *r)
{
	int fd, rc;
	int64_t t0 = mono_now_us();

	if ((rc = tcp_start(sa, salen, &fd, r)) == -1)
		return r->reason == REASON_INTERNAL ? -1 : 0;
	if (rc == 0 && (rc = wait_writable(fd, deadline_us)) <= 0) {
		if (rc == 0)
			result_fail(r, REASON_TIMEOUT, "connect timed out");
		else
			result_fail(r, REASON_INTERNAL, "poll: %s",
			    strerror(errno));
		close(fd);
		return -1;
	}
	if (rc == 1 && tcp_finish(fd, r) == 0) {
		close(fd);
		return 0;
	}
	r->connect_us = mono_now_us() - t0;
	close_reset(fd);
	return 1;
}

void
probe_tcp_run(const struct target *t, int64_t deadline_us, struct result *r)
{
	struct resolved addrs;
	int64_t start = mono_now_us();
	size_t i;
	int rc = 0;
	int family = t->ipv == 4 ? AF_INET : t->ipv == 6 ? AF_INET6 : 0;

	if (resolve_host(t->host, t->port, family,
	        start + (deadline_us - start) / 2, &addrs, r) == -1 ||
	    (t->allow != NULL && allowlist_filter(t->allow, &addrs, r) == -1))
		return;
	for (i = 0; i < addrs.n; i++) {
		resolve_ntop(&addrs.v[i], r->address, sizeof(r->address));
		if ((rc = try_connect((struct sockaddr *)&addrs.v[i].ss,
		         addrs.v[i].len, deadline_us, r)) != 0)
			break;
	}
	if (rc == 1) {
		r->success = true;
		r->reason = REASON_NONE;
		r->error[0] = '\0';
	}
}

/* One connect of a batch. */
struct tcp_entry {
	int fd; /* -1: the entry is free */
	int family;
	int64_t t0, deadline_us;
	struct result *r;
	void *cookie;
};

/*
 * A socket whose connection was cut with connect(AF_UNSPEC) is ready for
 * the next connect: keeping it spares a socket(2) and a close(2), and the
 * kernel the making and unmaking of a socket, on every probe.  At most
 * max sockets, spare and under way, are open.
 */
struct spare_socks {
	int *fd;
	unsigned n;
};

struct probe_tcp_batch {
	struct tcp_entry *v;
	struct pollfd *pfd; /* room for every entry and the caller's fd */
	unsigned *map;      /* pfd[i] watches v[map[i]] */
	unsigned max, active;
	struct spare_socks spare[2]; /* IPv4, IPv6 */
};

struct probe_tcp_batch *
probe_tcp_batch_new(unsigned max)
{
	struct probe_tcp_batch *b = xcalloc(1, sizeof(*b));
	unsigned i;

	b->max = max;
	b->v = xcalloc(max, sizeof(*b->v));
	b->pfd = xcalloc(max + 1, sizeof(*b->pfd));
	b->map = xcalloc(max, sizeof(*b->map));
	b->spare[0].fd = xcalloc(max, sizeof(int));
	b->spare[1].fd = xcalloc(max, sizeof(int));
	for (i = 0; i < max; i++)
		b->v[i].fd = -1;
	return b;
}

void
probe_tcp_batch_free(struct probe_tcp_batch *b)
{
	unsigned i;

	if (b == NULL)
		return;
	for (i = 0; i < b->max; i++)
		if (b->v[i].fd != -1)
			close(b->v[i].fd);
	for (i = 0; i < 2; i++) {
		while (b->spare[i].n > 0)
			close(b->spare[i].fd[--b->spare[i].n]);
		free(b->spare[i].fd);
	}
	free(b->v);
	free(b->pfd);
	free(b->map);
	free(b);
}

unsigned
probe_tcp_batch_active(const struct probe_tcp_batch *b)
{
	return b->active;
}

static struct spare_socks *
spare_of(struct probe_tcp_batch *b, int family)
{
	return &b->spare[family == AF_INET6 ? 1 : 0];
}

/*
 * The probe is connected: note the time and hang up with a reset, which
 * connect(AF_UNSPEC) sends, keeping the socket for another probe.
 */
static void
entry_connected(struct probe_tcp_batch *b, struct tcp_entry *e)
{
	static const struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	struct spare_socks *sp = spare_of(b, e->family);

	e->r->connect_us = mono_now_us() - e->t0;
	e->r->success = true;
	e->r->reason = REASON_NONE;
	e->r->error[0] = '\0';
	if (b->active + sp->n + b->spare[sp == b->spare].n <= b->max &&
	    connect(e->fd, &unspec, sizeof(unspec)) == 0)
		sp->fd[sp->n++] = e->fd;
	else
		close_reset(e->fd);
	e->fd = -1;
}

/* tcp_start(), on a spare socket of the family when there is one. */
static int
batch_start(struct probe_tcp_batch *b, const struct sockaddr *sa,
    socklen_t salen, int *fdp, struct result *r)
{
	struct spare_socks *sp = spare_of(b, sa->sa_family);
	int fd, err;

	while (sp->n > 0) {
		fd = sp->fd[--sp->n];
		*fdp = fd;
		if (connect(fd, sa, salen) == 0)
			return 1;
		if ((err = errno) == EINPROGRESS)
			return 0;
		close(fd);
		*fdp = -1;
		/* Refused and the like say the same of a new socket. */
		if (err != EISCONN && err != EALREADY && err != EINVAL &&
		    err != EBADF) {
			connect_failed(r, err);
			return -1;
		}
	}
	return tcp_start(sa, salen, fdp, r);
}

int
probe_tcp_batch_add(struct probe_tcp_batch *b, const struct target *t,
    int64_t deadline_us, struct result *r, void *cookie)
{
	struct resolved addrs;
	struct tcp_entry *e = NULL;
	int family = t->ipv == 4 ? AF_INET : t->ipv == 6 ? AF_INET6 : 0;
	unsigned i;
	int rc;

	for (i = 0; i < b->max && e == NULL; i++)
		if (b->v[i].fd == -1)
			e = &b->v[i];
	if (e == NULL)
		return -1;
	/* A literal: no lookup that could hold the others up. */
	if (resolve_host(t->host, t->port, family, deadline_us, &addrs, r) ==
	        -1 ||
	    (t->allow != NULL && allowlist_filter(t->allow, &addrs, r) == -1))
		return 1;
	resolve_ntop(&addrs.v[0], r->address, sizeof(r->address));
	e->t0 = mono_now_us();
	e->deadline_us = deadline_us;
	e->r = r;
	e->cookie = cookie;
	e->family = addrs.v[0].ss.ss_family;
	rc = batch_start(b, (struct sockaddr *)&addrs.v[0].ss, addrs.v[0].len,
	    &e->fd, r);
	if (rc == 0) {
		b->active++;
		return 0;
	}
	if (rc == 1)
		entry_connected(b, e);
	e->fd = -1;
	return 1;
}

/* Poll timeout: until the earliest deadline, at most a second. */
static int
batch_wait_ms(const struct probe_tcp_batch *b, int64_t now)
{
	int64_t first = now + USEC_PER_SEC;
	unsigned i;

	for (i = 0; i < b->max; i++)
		if (b->v[i].fd != -1 && b->v[i].deadline_us < first)
			first = b->v[i].deadline_us;
	return first <= now ? 0 : (int)((first - now + 999) / 1000);
}

/* Settle entry i after poll: connected, refused, or out of time. */
static bool
entry_settle(struct probe_tcp_batch *b, struct tcp_entry *e, short revents,
    int64_t now)
{
	if (revents != 0) {
		/* Writable with no error or hang-up: connected, nothing to ask. */
		if ((revents & (POLLERR | POLLHUP)) == 0 ||
		    tcp_finish(e->fd, e->r) == 1) {
			entry_connected(b, e);
			return true;
		}
	} else if (now >= e->deadline_us)
		result_fail(e->r, REASON_TIMEOUT, "connect timed out");
	else
		return false;
	close(e->fd);
	e->fd = -1;
	return true;
}

int
probe_tcp_batch_run(struct probe_tcp_batch *b, int fd, probe_tcp_done_cb done,
    void *arg)
{
	unsigned i, n = 0;
	int64_t now = mono_now_us();
	int rc, readable = 0;

	for (i = 0; i < b->max; i++) {
		if (b->v[i].fd == -1)
			continue;
		b->pfd[n] = (struct pollfd){b->v[i].fd, POLLOUT, 0};
		b->map[n++] = i;
	}
	b->pfd[n] = (struct pollfd){fd, POLLIN, 0};
	rc = poll(b->pfd, n + (fd >= 0), batch_wait_ms(b, now));
	if (rc == -1 && errno != EINTR)
		fatal("poll");
	now = mono_now_us();
	for (i = 0; i < n; i++) {
		if (!entry_settle(b, &b->v[b->map[i]],
		        rc > 0 ? b->pfd[i].revents : 0, now))
			continue;
		b->active--;
		done(arg, b->v[b->map[i]].cookie);
	}
	if (rc > 0 && fd >= 0 && (b->pfd[n].revents & (POLLIN | POLLHUP)))
		readable = 1;
	return readable;
}
