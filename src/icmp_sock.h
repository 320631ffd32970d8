/*
 * ICMP sockets: opened by the supervisor while it may, one pair per worker
 * slot, and inherited by each worker that slot starts.
 */
#ifndef PULSE_ICMP_SOCK_H
#define PULSE_ICMP_SOCK_H

#include <stdbool.h>
#include <stdint.h>

struct icmp_sock {
	int fd;         /* -1: not available, see err */
	bool raw;       /* raw socket (else an unprivileged ping one) */
	uint16_t ident; /* echo identifier replies must carry */
	int err;        /* errno of the last attempt when fd is -1 */
};

struct icmp_socks {
	struct icmp_sock v4, v6;
};

#define ICMP_PERMISSION_HINT                                                   \
	"icmp: permission denied: run as root, grant CAP_NET_RAW, or allow "   \
	"ping sockets (sysctl net.ipv4.ping_group_range)"

/*
 * Open an IPv4 and an IPv6 socket: a ping (datagram) socket when the
 * system allows it, else a raw one with a kernel filter that passes only
 * replies and errors carrying raw_ident.  A family that cannot be had
 * keeps fd -1 and the reason in err.
 */
void icmp_socks_open(struct icmp_socks *, uint16_t raw_ident);
void icmp_socks_close(struct icmp_socks *);

#endif
