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
 * Try one address.  Returns 1 connected, 0 failed fast (try the next
 * address), -1 failed for good (deadline spent or a local error).
 */
static int
try_connect(const struct sockaddr *sa, socklen_t salen, int64_t deadline_us,
    struct result *r)
{
	int fd, err = 0, rc;
	socklen_t errlen = sizeof(err);
	int64_t t0;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		result_fail(r, REASON_INTERNAL, "socket: %s", strerror(errno));
		return -1;
	}
	t0 = mono_now_us();
	if (connect(fd, sa, salen) == 0)
		goto connected;
	if (errno != EINPROGRESS) {
		connect_failed(r, errno);
		close(fd);
		return r->reason == REASON_INTERNAL ? -1 : 0;
	}
	if ((rc = wait_writable(fd, deadline_us)) <= 0) {
		if (rc == 0)
			result_fail(r, REASON_TIMEOUT, "connect timed out");
		else
			result_fail(r, REASON_INTERNAL, "poll: %s",
			    strerror(errno));
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) == -1)
		err = errno;
	/* A reset reaches only an established connection: the port accepted. */
	if (err == ECONNRESET)
		goto connected;
	if (err != 0) {
		connect_failed(r, err);
		close(fd);
		return 0;
	}
connected:
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
