/*
 * ICMP and ICMPv6 echo: build a request, and judge one received datagram.
 * Both are pure functions over byte buffers, with no sockets, so every
 * check can be tested and fuzzed.  The parser trusts nothing it reads: a
 * datagram is ours only if its identifier, sequence number, source (or,
 * for an error, the packet it quotes) and payload cookie all say so.
 */
#ifndef PULSE_ICMP_PARSE_H
#define PULSE_ICMP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An echo header: type, code, checksum, identifier, sequence number. */
#define ICMP_ECHO_HDR_LEN 8
/* The longest payload cookie a probe sends. */
#define ICMP_COOKIE_MAX 16

/* Verdicts on one received ICMP/ICMPv6 datagram. */
enum icmp_verdict {
	ICMP_IGNORE = 0, /* not for this probe: why[] says which check failed */
	ICMP_ECHO_REPLY, /* an echo reply to one of our requests */
	ICMP_ERROR,      /* an ICMP error quoting one of our requests */
};

/* What a datagram must match to belong to one probe. */
struct icmp_expect {
	int family; /* AF_INET or AF_INET6 */
	/* The buffer starts with the IPv4 header (raw IPv4 sockets). */
	bool ip_header;
	/* False for ping (DGRAM) sockets: the kernel rewrote the id. */
	bool check_ident;
	uint16_t ident;
	/* Ours are seq_first .. seq_first + seq_count - 1 (mod 65536). */
	uint16_t seq_first;
	uint16_t seq_count;
	const uint8_t *cookie; /* payload prefix every reply must echo */
	size_t cookie_len;     /* 0..ICMP_COOKIE_MAX */
	/* The address probed (a sockaddr_in or sockaddr_in6). */
	const struct sockaddr *target;
};

/* The verdict on one datagram, and what it said. */
struct icmp_reply {
	enum icmp_verdict verdict;
	uint16_t seq; /* the request answered or quoted; 0 when ignored */
	/* Reply TTL from the IPv4 header when ip_header, else -1. */
	int ttl;
	uint8_t type, code; /* as received (for errors: of the error) */
	char from[46];      /* textual source address (INET6_ADDRSTRLEN) */
	/* ICMP_ERROR: a phrase by code, e.g. "port unreachable (from ADDR)". */
	char error[96];
	/* ICMP_IGNORE: which check failed, e.g. "stale sequence". */
	char why[64];
};

/*
 * Parse pkt (len bytes, as returned by recvfrom) that came from `from`.
 * Always fills out; returns its verdict.  Never reads outside pkt[0..len).
 */
enum icmp_verdict icmp_parse(const struct icmp_expect *, const uint8_t *pkt,
    size_t len, const struct sockaddr *from, struct icmp_reply *out);

/*
 * Build an echo request (ICMP type 8 or ICMPv6 type 128) with ident, seq
 * and a payload of payload_len bytes starting with cookie (then a fixed
 * filler pattern).  IPv4: computes the checksum; IPv6: leaves it 0 (the
 * kernel computes it).  Returns the length or 0 if it does not fit in cap.
 */
size_t icmp_build_echo(int family, uint16_t ident, uint16_t seq,
    const uint8_t *cookie, size_t cookie_len, size_t payload_len, uint8_t *buf,
    size_t cap);

/* A plain phrase for an ICMP error type and code: "port unreachable". */
const char *icmp_error_phrase(int family, uint8_t type, uint8_t code);

#endif
