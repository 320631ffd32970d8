/*
 * ICMP echo probe.  Requests go out on the worker's inherited socket;
 * replies are judged by icmp_parse() (identifier, sequence, source,
 * payload cookie) and timed with our own monotonic clock, never with
 * anything read from the payload.
 */
#include "config.h"

#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <math.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "icmp_parse.h"
#include "probe_icmp.h"
#include "allowlist.h"
#include "resolve.h"
#include "util.h"

#define ICMP_COOKIE_LEN 8
#define ICMP_PKT_MAX (ICMP_ECHO_HDR_LEN + TARGET_ICMP_SIZE_MAX)
#define ICMP_RECV_MAX 65536

enum echo_state { ECHO_PENDING, ECHO_REPLIED, ECHO_FAILED };

struct icmp_run {
	const struct target *t;
	const struct icmp_sock *sock;
	struct resolved_addr dst;
	struct icmp_expect expect;
	uint8_t cookie[ICMP_COOKIE_LEN];
	unsigned count, nsent, nrecv, ndup, nfailed;
	int64_t sent_at[TARGET_ICMP_COUNT_MAX];
	uint8_t state[TARGET_ICMP_COUNT_MAX];
	double sum, sumsq;
	int64_t min, max;
	int ttl;
	char error[RESULT_ERROR_MAX];
	enum reason error_reason;
	int64_t start, deadline, interval, next_send;
	bool active;  /* still sending or waiting */
	size_t index; /* in the group */
	struct result *r;
};

static uint8_t icmp_sendbuf[ICMP_PKT_MAX];
static uint8_t icmp_recvbuf[ICMP_RECV_MAX];

/* Record an echo reply for sequence seq at time now. */
static void
run_reply(struct icmp_run *run, uint16_t seq, int ttl, int64_t now)
{
	unsigned i = (uint16_t)(seq - run->expect.seq_first);
	int64_t rtt;

	if (i >= run->nsent)
		return;
	if (run->state[i] == ECHO_REPLIED) {
		run->ndup++;
		return;
	}
	if (run->state[i] == ECHO_FAILED)
		run->nfailed--;
	run->state[i] = ECHO_REPLIED;
	run->nrecv++;
	rtt = now - run->sent_at[i];
	run->sum += (double)rtt;
	run->sumsq += (double)rtt * (double)rtt;
	if (run->nrecv == 1 || rtt < run->min)
		run->min = rtt;
	if (run->nrecv == 1 || rtt > run->max)
		run->max = rtt;
	if (ttl >= 0)
		run->ttl = ttl;
}

/* Record an ICMP error that quoted our request seq. */
static void
run_error(struct icmp_run *run, uint16_t seq, const char *msg)
{
	unsigned i = (uint16_t)(seq - run->expect.seq_first);

	if (i >= run->nsent || run->state[i] != ECHO_PENDING)
		return;
	run->state[i] = ECHO_FAILED;
	run->nfailed++;
	if (run->error[0] == '\0') {
		snprintf(run->error, sizeof(run->error), "%s", msg);
		run->error_reason = REASON_UNREACHABLE;
	}
}

/* The TTL or hop limit the kernel attached to a received datagram. */
static int
cmsg_ttl(struct msghdr *mh)
{
	struct cmsghdr *c;
	int v;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
		    (c->cmsg_level == IPPROTO_IPV6 &&
		        c->cmsg_type == IPV6_HOPLIMIT)) {
			if (c->cmsg_len < CMSG_LEN(sizeof(int)))
				continue;
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			return v >= 0 && v <= 255 ? v : -1;
		}
	}
	return -1;
}

/* One received datagram with its source and ancillary data. */
struct icmp_msg {
	struct sockaddr_storage from;
	union {
		struct cmsghdr align;
		uint8_t buf[512];
	} ctl;
	struct iovec iov;
	struct msghdr mh;
};

/* recvmsg() into icmp_recvbuf; -1 when nothing is waiting. */
static ssize_t
recv_msg(int fd, struct icmp_msg *m, int flags)
{
	memset(&m->mh, 0, sizeof(m->mh));
	m->iov.iov_base = icmp_recvbuf;
	m->iov.iov_len = sizeof(icmp_recvbuf);
	m->mh.msg_name = &m->from;
	m->mh.msg_namelen = sizeof(m->from);
	m->mh.msg_iov = &m->iov;
	m->mh.msg_iovlen = 1;
	m->mh.msg_control = m->ctl.buf;
	m->mh.msg_controllen = sizeof(m->ctl.buf);
	return recvmsg(fd, &m->mh, flags | MSG_DONTWAIT);
}

/* The kernel's word on an ICMP error that quoted one of our requests. */
static void
errqueue_message(struct icmp_run *run, struct msghdr *mh, size_t n)
{
	struct sock_extended_err ee;
	struct cmsghdr *c;
	char from[64], msg[RESULT_ERROR_MAX];
	struct resolved_addr off;
	uint16_t seq;

	if (n < ICMP_ECHO_HDR_LEN)
		return;
	seq = (uint16_t)(icmp_recvbuf[6] << 8 | icmp_recvbuf[7]);
	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (!((c->cmsg_level == IPPROTO_IP &&
		          c->cmsg_type == IP_RECVERR) ||
		        (c->cmsg_level == IPPROTO_IPV6 &&
		            c->cmsg_type == IPV6_RECVERR)) ||
		    c->cmsg_len < CMSG_LEN(sizeof(ee)))
			continue;
		memcpy(&ee, CMSG_DATA(c), sizeof(ee));
		if (ee.ee_origin != SO_EE_ORIGIN_ICMP &&
		    ee.ee_origin != SO_EE_ORIGIN_ICMP6)
			continue;
		memset(&off, 0, sizeof(off));
		memcpy(&off.ss,
		    SO_EE_OFFENDER((struct sock_extended_err *)CMSG_DATA(c)),
		    c->cmsg_len - CMSG_LEN(sizeof(ee)) < sizeof(off.ss)
		        ? c->cmsg_len - CMSG_LEN(sizeof(ee))
		        : sizeof(off.ss));
		if (off.ss.ss_family == AF_INET || off.ss.ss_family == AF_INET6)
			resolve_ntop(&off, from, sizeof(from));
		else
			snprintf(from, sizeof(from), "?");
		snprintf(msg, sizeof(msg), "%s (from %s)",
		    icmp_error_phrase(ee.ee_origin == SO_EE_ORIGIN_ICMP
		            ? AF_INET
		            : AF_INET6,
		        ee.ee_type, ee.ee_code),
		    from);
		run_error(run, seq, msg);
	}
}

/* Every request sent so far has its answer. */
static bool
run_done(const struct icmp_run *run)
{
	return run->nrecv + run->nfailed >= run->nsent;
}

static void
run_fail(struct icmp_run *run, enum reason reason, const char *what, int err)
{
	snprintf(run->error, sizeof(run->error), "%s%s%s", what,
	    *what != '\0' ? ": " : "", net_strerror(err));
	run->error_reason = reason;
}

/* Send the next request; a local failure ends the probe. */
static int
run_send(struct icmp_run *run)
{
	uint16_t seq = (uint16_t)(run->expect.seq_first + run->nsent);
	size_t len;
	ssize_t n;

	len = icmp_build_echo(run->dst.ss.ss_family, run->sock->ident, seq,
	    run->cookie, run->expect.cookie_len, run->t->size, icmp_sendbuf,
	    sizeof(icmp_sendbuf));
	run->sent_at[run->nsent] = mono_now_us();
	n = sendto(run->sock->fd, icmp_sendbuf, len, 0,
	    (struct sockaddr *)&run->dst.ss, run->dst.len);
	if (len > 0 && n == (ssize_t)len) {
		run->state[run->nsent++] = ECHO_PENDING;
		return 0;
	}
	if (errno == EPERM || errno == EACCES)
		run_fail(run, REASON_PERMISSION, "sending echo request", errno);
	else if (errno == ENETUNREACH || errno == EHOSTUNREACH)
		run_fail(run, REASON_UNREACHABLE, "", errno);
	else
		run_fail(run, REASON_INTERNAL, "sending echo request", errno);
	return -1;
}

/* Set the outgoing TTL or hop limit; -1 restores the system default. */
static void
set_ttl(const struct icmp_sock *sock, int family, int ttl)
{
	if (family == AF_INET)
		(void)setsockopt(sock->fd, IPPROTO_IP, IP_TTL, &ttl,
		    sizeof(ttl));
	else
		(void)setsockopt(sock->fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS,
		    &ttl, sizeof(ttl));
}

/* Pick the socket for the address's family, or explain why there is none. */
static const struct icmp_sock *
pick_socket(const struct probe_env *env, int family, struct result *r)
{
	const struct icmp_sock *s;

	if (env->icmp == NULL) {
		result_fail(r, REASON_INTERNAL, "icmp: no socket set up");
		return NULL;
	}
	s = family == AF_INET ? &env->icmp->v4 : &env->icmp->v6;
	if (s->fd != -1)
		return s;
	if (s->err == EACCES || s->err == EPERM)
		result_fail(r, REASON_PERMISSION, "%s", ICMP_PERMISSION_HINT);
	else
		result_fail(r, REASON_UNREACHABLE, "icmp: no %s socket: %s",
		    family == AF_INET ? "IPv4" : "IPv6", strerror(s->err));
	return NULL;
}

/* Fill the result from what the run saw. */
static void
run_finish(struct icmp_run *run, struct result *r)
{
	double mean, var;

	r->duration_us = mono_now_us() - run->start;
	r->sent = run->nsent;
	r->received = run->nrecv;
	r->duplicates = run->ndup;
	if (run->nrecv > 0) {
		mean = run->sum / run->nrecv;
		var = run->sumsq / run->nrecv - mean * mean;
		r->rtt_min_us = run->min;
		r->rtt_max_us = run->max;
		r->rtt_avg_us = (int64_t)(mean + 0.5);
		r->rtt_stddev_us = var > 0 ? (int64_t)(sqrt(var) + 0.5) : 0;
		r->reply_ttl = run->ttl;
		r->success = true;
		r->reason = REASON_NONE;
		r->error[0] = '\0';
	} else if (run->error[0] != '\0')
		result_fail(r, run->error_reason, "%s", run->error);
	else
		result_fail(r, REASON_TIMEOUT, "no echo reply (%u sent)",
		    run->nsent);
}

static void
run_init(struct icmp_run *run, const struct target *t, struct probe_env *env)
{
	uint64_t c = probe_env_random(env);

	memset(run, 0, sizeof(*run));
	run->t = t;
	run->count = t->count > 0 ? t->count : 1;
	run->ttl = -1;
	memcpy(run->cookie, &c, sizeof(c));
	run->expect.cookie = run->cookie;
	run->expect.cookie_len =
	    t->size < ICMP_COOKIE_LEN ? t->size : ICMP_COOKIE_LEN;
	run->expect.seq_count = (uint16_t)run->count;
	run->expect.seq_first = env->echo_seq;
	env->echo_seq = (uint16_t)(env->echo_seq + run->count);
	run->interval =
	    t->interval_us > 0 ? t->interval_us : TARGET_ICMP_INTERVAL_US;
}

/* Resolve and pick a socket; -1 with r failed when the probe cannot run. */
static int
run_setup(struct icmp_run *run, const struct target *t, int64_t deadline,
    struct probe_env *env, struct result *r)
{
	struct resolved addrs;
	int64_t start = mono_now_us();
	int family = t->ipv == 4 ? AF_INET : t->ipv == 6 ? AF_INET6 : 0;

	if (resolve_host(t->host, 0, family, start + (deadline - start) / 2,
	        &addrs, r) == -1 ||
	    (t->allow != NULL && allowlist_filter(t->allow, &addrs, r) == -1))
		return -1;
	run_init(run, t, env);
	run->r = r;
	run->start = start;
	run->deadline = deadline;
	run->next_send = start;
	run->dst = addrs.v[0];
	resolve_ntop(&run->dst, r->address, sizeof(r->address));
	if ((run->sock = pick_socket(env, run->dst.ss.ss_family, r)) == NULL)
		return -1;
	run->expect.family = run->dst.ss.ss_family;
	run->expect.ip_header = run->sock->raw && run->expect.family == AF_INET;
	run->expect.check_ident = run->sock->raw;
	run->expect.ident = run->sock->ident;
	run->expect.target = (struct sockaddr *)&run->dst.ss;
	run->active = true;
	return 0;
}

static bool
same_address(const struct sockaddr_storage *a, const struct resolved_addr *b)
{
	if (a->ss_family != b->ss.ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)&b->ss)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	           &((const struct sockaddr_in6 *)&b->ss)->sin6_addr,
	           sizeof(struct in6_addr)) == 0;
}

/*
 * Give a datagram to the run it answers: first the runs whose target sent
 * it (echo replies), then the others (errors come from routers).
 */
static void
group_packet(struct icmp_run *runs, size_t n, const struct icmp_sock *sock,
    struct icmp_msg *m, size_t len)
{
	struct icmp_reply rep;
	enum icmp_verdict v;
	size_t i;
	int pass;
	bool own;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			if (!runs[i].active || runs[i].sock != sock)
				continue;
			own = same_address(&m->from, &runs[i].dst);
			if (own != (pass == 0))
				continue;
			v = icmp_parse(&runs[i].expect, icmp_recvbuf, len,
			    (struct sockaddr *)&m->from, &rep);
			if (v == ICMP_ECHO_REPLY) {
				run_reply(&runs[i], rep.seq,
				    rep.ttl >= 0 ? rep.ttl : cmsg_ttl(&m->mh),
				    mono_now_us());
				return;
			}
			if (v == ICMP_ERROR) {
				run_error(&runs[i], rep.seq, rep.error);
				return;
			}
		}
	}
}

/* Read everything waiting on sock: errors, then replies. */
static void
group_drain(struct icmp_run *runs, size_t n, const struct icmp_sock *sock,
    short revents)
{
	struct icmp_msg m;
	ssize_t len;
	size_t i;

	if (revents & POLLERR) {
		while ((len = recv_msg(sock->fd, &m, MSG_ERRQUEUE)) >= 0)
			for (i = 0; i < n; i++)
				if (runs[i].active && runs[i].sock == sock)
					errqueue_message(&runs[i], &m.mh,
					    (size_t)len);
	}
	if (revents & POLLIN) {
		while ((len = recv_msg(sock->fd, &m, 0)) >= 0)
			if (m.mh.msg_namelen >= sizeof(struct sockaddr_in))
				group_packet(runs, n, sock, &m, (size_t)len);
	}
}

/* Wait until `until` for datagrams on the sockets the active runs use. */
static void
group_receive(struct icmp_run *runs, size_t n, int64_t until)
{
	struct pollfd pfd[2];
	const struct icmp_sock *socks[2];
	struct timespec ts;
	size_t i, j, np = 0;
	int64_t left;

	for (i = 0; i < n; i++) {
		if (!runs[i].active)
			continue;
		for (j = 0; j < np && socks[j] != runs[i].sock; j++)
			;
		if (j == np && np < 2) {
			socks[np] = runs[i].sock;
			pfd[np].fd = runs[i].sock->fd;
			pfd[np].events = POLLIN;
			pfd[np++].revents = 0;
		}
	}
	if (np == 0 || (left = until - mono_now_us()) <= 0)
		return;
	ts.tv_sec = left / USEC_PER_SEC;
	ts.tv_nsec = (left % USEC_PER_SEC) * 1000;
	if (ppoll(pfd, np, &ts, NULL) <= 0)
		return;
	for (j = 0; j < np; j++)
		if (pfd[j].revents != 0)
			group_drain(runs, n, socks[j], pfd[j].revents);
}

/*
 * Send what is due for one run; returns the time it next needs the loop,
 * or -1 once it is finished (and its result filled).
 */
static int64_t
run_step(struct icmp_run *run, int64_t now, int *ttl_set)
{
	int want = run->t->ttl > 0 ? (int)run->t->ttl : -1;
	int *cur = &ttl_set[run->dst.ss.ss_family == AF_INET ? 0 : 1];

	while (now < run->deadline && run->nsent < run->count &&
	    now >= run->next_send) {
		if (*cur != want) {
			set_ttl(run->sock, run->dst.ss.ss_family, want);
			*cur = want;
		}
		if (run_send(run) == -1) {
			run->count = run->nsent; /* nothing more goes out */
			break;
		}
		run->next_send = run->sent_at[run->nsent - 1] + run->interval;
	}
	if (now >= run->deadline ||
	    (run->nsent >= run->count && run_done(run))) {
		run_finish(run, run->r);
		run->active = false;
		return -1;
	}
	return run->nsent < run->count && run->next_send < run->deadline
	    ? run->next_send
	    : run->deadline;
}

void
probe_icmp_group(const struct target *const *t, const int64_t *deadline,
    size_t n, struct probe_env *env, struct result *r, probe_done_cb done,
    probe_wait_cb wait, void *arg)
{
	static struct icmp_run runs[PROBE_ICMP_GROUP_MAX];
	int ttl_set[2] = {-2, -2};
	int64_t now, wake, next;
	size_t i, nactive;

	if (n > PROBE_ICMP_GROUP_MAX)
		n = PROBE_ICMP_GROUP_MAX;
	for (i = 0; i < n; i++) {
		if (run_setup(&runs[i], t[i], deadline[i], env, &r[i]) == -1) {
			runs[i].active = false;
			if (done != NULL)
				done(arg, i);
		}
	}
	for (;;) {
		now = mono_now_us();
		wake = INT64_MAX;
		for (i = 0, nactive = 0; i < n; i++) {
			if (!runs[i].active)
				continue;
			if ((next = run_step(&runs[i], now, ttl_set)) == -1) {
				if (done != NULL)
					done(arg, i);
				continue;
			}
			nactive++;
			if (next < wake)
				wake = next;
		}
		if (nactive == 0)
			break;
		if (wait != NULL)
			wait(arg);
		group_receive(runs, n, wake);
	}
}

void
probe_icmp_run(const struct target *t, int64_t deadline_us,
    struct probe_env *env, struct result *r)
{
	probe_icmp_group(&t, &deadline_us, 1, env, r, NULL, NULL, NULL);
}
