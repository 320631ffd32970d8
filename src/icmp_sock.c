/* Open ICMP sockets, ping sockets first, raw ones with kernel filters. */
#include "config.h"

#include <errno.h>
#include <linux/filter.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <linux/icmp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "icmp_sock.h"
#include "log.h"

#define BPF_ACCEPT 0x40000 /* the whole packet */

/*
 * Raw IPv4 sockets see the IP header first.  Pass echo replies whose
 * identifier is ours, and destination unreachable, time exceeded and
 * parameter problem errors whose quoted echo request carries it.
 */
static int
attach_filter4(int fd, uint16_t ident)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0), /* X = IHL */
	    BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0),  /* type */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP_ECHOREPLY, 0, 2),
	    BPF_STMT(BPF_LD | BPF_H | BPF_IND, 4), /* id */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ident, 10, 11),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP_DEST_UNREACH, 2, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP_TIME_EXCEEDED, 1, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP_PARAMETERPROB, 0, 8),
	    BPF_STMT(BPF_LD | BPF_B | BPF_IND, 8), /* inner IHL */
	    BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf),
	    BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 2),
	    BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0),
	    BPF_STMT(BPF_MISC | BPF_TAX, 0),
	    BPF_STMT(BPF_LD | BPF_H | BPF_IND, 12), /* quoted id */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ident, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, BPF_ACCEPT),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};
	struct icmp_filter types;

	/* ICMP_FILTER takes the types to drop. */
	types.data = ~((1U << ICMP_ECHOREPLY) | (1U << ICMP_DEST_UNREACH) |
	    (1U << ICMP_TIME_EXCEEDED) | (1U << ICMP_PARAMETERPROB));
	if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &types, sizeof(types)) == -1)
		return -1;
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog));
}

/* Raw ICMPv6 sockets start at the ICMPv6 header; errors quote 40 + 8. */
static int
attach_filter6(int fd, uint16_t ident)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), /* type */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP6_ECHO_REPLY, 0, 2),
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 4), /* id */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ident, 6, 7),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP6_DST_UNREACH, 3, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP6_PACKET_TOO_BIG, 2, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP6_TIME_EXCEEDED, 1, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP6_PARAM_PROB, 0, 3),
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 8 + 40 + 4), /* quoted */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ident, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, BPF_ACCEPT),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};
	struct icmp6_filter types;

	ICMP6_FILTER_SETBLOCKALL(&types);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &types);
	ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &types);
	ICMP6_FILTER_SETPASS(ICMP6_PACKET_TOO_BIG, &types);
	ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &types);
	ICMP6_FILTER_SETPASS(ICMP6_PARAM_PROB, &types);
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &types,
	        sizeof(types)) == -1)
		return -1;
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog));
}

/*
 * Ask for the reply's TTL, and for ICMP errors on the error queue: a
 * probe connects its socket to the target, after which errors sent by a
 * router reach it only there.
 */
static void
set_recv_options(int fd, int family)
{
	int on = 1;

	if (family == AF_INET) {
		(void)setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on));
		(void)setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
	} else {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on,
		    sizeof(on));
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on,
		    sizeof(on));
	}
}

/* A ping socket's identifier is its local port, chosen at bind. */
static int
bind_ping_socket(int fd, int family, uint16_t *ident)
{
	struct sockaddr_storage ss;
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in)
	                                  : sizeof(struct sockaddr_in6);

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	*ident =
	    ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

/*
 * Ping sockets need no privilege where net.ipv4.ping_group_range allows
 * our group; they fail with EACCES (group not allowed), EPERM (policy),
 * EAFNOSUPPORT or EPROTONOSUPPORT (kernel without them).  Only then try a
 * raw socket, which needs root or CAP_NET_RAW (EPERM otherwise).
 */
static void
open_one(struct icmp_sock *s, int family, uint16_t raw_ident)
{
	int proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	int flags = SOCK_NONBLOCK | SOCK_CLOEXEC;

	s->fd = socket(family, SOCK_DGRAM | flags, proto);
	if (s->fd != -1 && bind_ping_socket(s->fd, family, &s->ident) == 0) {
		s->raw = false;
		set_recv_options(s->fd, family);
		return;
	}
	if (s->fd != -1)
		close(s->fd);
	s->fd = socket(family, SOCK_RAW | flags, proto);
	if (s->fd == -1) {
		s->err = errno;
		return;
	}
	s->raw = true;
	s->ident = raw_ident;
	if ((family == AF_INET ? attach_filter4(s->fd, raw_ident)
	                       : attach_filter6(s->fd, raw_ident)) == -1) {
		s->err = errno;
		log_warn("icmp: cannot filter raw socket");
		close(s->fd);
		s->fd = -1;
		return;
	}
	set_recv_options(s->fd, family);
}

void
icmp_socks_open(struct icmp_socks *socks, uint16_t raw_ident)
{
	memset(socks, 0, sizeof(*socks));
	open_one(&socks->v4, AF_INET, raw_ident);
	open_one(&socks->v6, AF_INET6, raw_ident);
}

void
icmp_socks_close(struct icmp_socks *socks)
{
	if (socks->v4.fd != -1)
		close(socks->v4.fd);
	if (socks->v6.fd != -1)
		close(socks->v6.fd);
	socks->v4.fd = socks->v6.fd = -1;
}
