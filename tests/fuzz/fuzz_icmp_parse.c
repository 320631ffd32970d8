/*
 * libFuzzer target for icmp_parse(): each input is one received datagram,
 * judged as a raw IPv4 socket, an IPv4 ping socket and an ICMPv6 socket
 * would see it.  Beyond memory safety, every verdict must keep the
 * contract: one of the three verdicts, terminated strings, and a
 * sequence number in range whenever the datagram is accepted.  The seed
 * corpus (make_icmp_corpus.py) uses the same identifier, sequence numbers,
 * cookie and loopback targets as below.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "icmp_parse.h"

#define FUZZ_IDENT 0x1234
#define FUZZ_SEQ 100
#define FUZZ_NSEQ 4

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t cookie[8] = {'P', 'U', 'L', 'S', 'E', 'F', 'Z', '!'};

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static bool
terminated(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

static bool
seq_in(const struct icmp_expect *ex, uint16_t seq)
{
	return (uint16_t)(seq - ex->seq_first) < ex->seq_count;
}

/* Parse once and check every promise the contract makes about out. */
static void
run(const struct icmp_expect *ex, const uint8_t *data, size_t size,
    const struct sockaddr *from)
{
	struct icmp_reply out;
	enum icmp_verdict v;
	size_t hdr;

	memset(&out, 0xa5, sizeof(out));
	v = icmp_parse(ex, data, size, from, &out);
	CHECK(v == out.verdict);
	CHECK(v == ICMP_IGNORE || v == ICMP_ECHO_REPLY || v == ICMP_ERROR);
	CHECK(terminated(out.from, sizeof(out.from)));
	CHECK(terminated(out.error, sizeof(out.error)));
	CHECK(terminated(out.why, sizeof(out.why)));
	CHECK(out.ttl >= -1 && out.ttl <= 255);
	CHECK(ex->ip_header || out.ttl == -1);
	if (v == ICMP_IGNORE) {
		CHECK(out.why[0] != '\0' && out.error[0] == '\0');
		CHECK(out.seq == 0);
		return;
	}
	CHECK(seq_in(ex, out.seq));
	CHECK(out.why[0] == '\0' && out.from[0] != '\0');
	hdr = ex->ip_header ? 20 : 0;
	if (v == ICMP_ECHO_REPLY) {
		CHECK(size >= hdr + ICMP_ECHO_HDR_LEN + ex->cookie_len);
		CHECK(out.error[0] == '\0');
	} else {
		CHECK(size >= hdr + ICMP_ECHO_HDR_LEN * 2 + 20);
		CHECK(strstr(out.error, " (from ") != NULL);
	}
}

/* A request built from the input, answered as a peer would, is ours. */
static void
round_trip(const uint8_t *data, size_t size)
{
	struct icmp_expect ex;
	struct sockaddr_in6 t6;
	struct icmp_reply out;
	uint8_t buf[512];
	size_t n, payload;
	uint16_t seq;

	if (size < 3)
		return;
	seq = (uint16_t)(data[0] << 8 | data[1]);
	payload = sizeof(cookie) + data[2];
	n = icmp_build_echo(AF_INET6, FUZZ_IDENT, seq, cookie, sizeof(cookie),
	    payload, buf, sizeof(buf));
	CHECK(n == ICMP_ECHO_HDR_LEN + payload);
	buf[0] = 129;
	memset(&t6, 0, sizeof(t6));
	t6.sin6_family = AF_INET6;
	t6.sin6_addr = in6addr_loopback;
	memset(&ex, 0, sizeof(ex));
	ex.family = AF_INET6;
	ex.check_ident = true;
	ex.ident = FUZZ_IDENT;
	ex.seq_first = seq;
	ex.seq_count = 1;
	ex.cookie = cookie;
	ex.cookie_len = sizeof(cookie);
	ex.target = (const struct sockaddr *)&t6;
	CHECK(icmp_parse(&ex, buf, n, ex.target, &out) == ICMP_ECHO_REPLY);
	CHECK(out.seq == seq);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in t4;
	struct sockaddr_in6 t6;
	struct icmp_expect ex;

	memset(&t4, 0, sizeof(t4));
	t4.sin_family = AF_INET;
	t4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(&t6, 0, sizeof(t6));
	t6.sin6_family = AF_INET6;
	t6.sin6_addr = in6addr_loopback;

	memset(&ex, 0, sizeof(ex));
	ex.family = AF_INET;
	ex.ip_header = true;
	ex.check_ident = true;
	ex.ident = FUZZ_IDENT;
	ex.seq_first = FUZZ_SEQ;
	ex.seq_count = FUZZ_NSEQ;
	ex.cookie = cookie;
	ex.cookie_len = sizeof(cookie);
	ex.target = (const struct sockaddr *)&t4;
	run(&ex, data, size, ex.target);
	run(&ex, data, size, NULL);

	ex.ip_header = false;
	ex.check_ident = false;
	ex.seq_first = 65534;
	ex.seq_count = 65535;
	run(&ex, data, size, ex.target);

	ex.family = AF_INET6;
	ex.check_ident = true;
	ex.seq_first = FUZZ_SEQ;
	ex.seq_count = FUZZ_NSEQ;
	ex.target = (const struct sockaddr *)&t6;
	run(&ex, data, size, ex.target);
	ex.cookie_len = 0;
	run(&ex, data, size, ex.target);

	round_trip(data, size);
	return 0;
}
