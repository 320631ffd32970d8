/*
 * Unit tests for msg.c: round trips, and a decoder that refuses every
 * malformed datagram.  Hostile datagrams are built by hand here, byte by
 * byte, following the wire format: an 8-byte header (u16 magic, u8
 * version, u8 type, u32 payload length) then little-endian integers and
 * u16-length-prefixed strings.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "msg.h"
#include "util.h"

/* A datagram under construction. */
struct raw {
	uint8_t b[MSG_MAX * 2];
	size_t len;
};

static void
raw_bytes(struct raw *r, const void *p, size_t n)
{
	assert_true(r->len + n <= sizeof(r->b));
	memcpy(r->b + r->len, p, n);
	r->len += n;
}

static void
raw_le(struct raw *r, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t byte = (uint8_t)(v >> (8 * i));

		raw_bytes(r, &byte, 1);
	}
}

static void
raw_str(struct raw *r, const char *s, size_t n)
{
	raw_le(r, n, 2);
	raw_bytes(r, s, n);
}

static void
raw_header(struct raw *r, unsigned type)
{
	r->len = 0;
	raw_le(r, MSG_MAGIC, 2);
	raw_le(r, MSG_VERSION, 1);
	raw_le(r, type, 1);
	raw_le(r, 0, 4);
}

/* Set the header's payload length to what the datagram holds. */
static void
raw_finish(struct raw *r)
{
	size_t i, payload = r->len - MSG_HDR_LEN;

	for (i = 0; i < 4; i++)
		r->b[4 + i] = (uint8_t)(payload >> (8 * i));
}

/* A request datagram with the given host bytes. */
static void
raw_req(struct raw *r, const char *host, size_t hostlen, int64_t timeout_us)
{
	raw_header(r, MSG_PROBE_REQ);
	raw_le(r, 7, 8);
	raw_le(r, (uint64_t)timeout_us, 8);
	raw_le(r, TARGET_TCP, 1);
	raw_str(r, host, hostlen);
	raw_le(r, 80, 2);
	raw_le(r, 0, 1); /* ipv */
	raw_le(r, 0, 2); /* count */
	raw_le(r, 0, 8); /* interval */
	raw_le(r, 0, 4); /* size */
	raw_le(r, 0, 1); /* ttl */
	raw_le(r, 0, 1); /* restricted */
	raw_finish(r);
}

/* A result datagram with the given strings and fields. */
static void
raw_result(struct raw *r, unsigned success, unsigned reason, const char *err,
    size_t errlen, const char *addr, size_t addrlen, int64_t dns_us)
{
	raw_header(r, MSG_PROBE_RESULT);
	raw_le(r, 9, 8);
	raw_le(r, success, 1);
	raw_le(r, reason, 1);
	raw_str(r, err, errlen);
	raw_str(r, addr, addrlen);
	raw_le(r, 1700000000000000ULL, 8);
	raw_le(r, 1500, 8);
	raw_le(r, (uint64_t)dns_us, 8);
	raw_le(r, 700, 8);
	raw_le(r, 0, 4);            /* sent */
	raw_le(r, 0, 4);            /* received */
	raw_le(r, 0, 4);            /* duplicates */
	raw_le(r, (uint64_t)-1, 8); /* rtt min, avg, max, stddev */
	raw_le(r, (uint64_t)-1, 8);
	raw_le(r, (uint64_t)-1, 8);
	raw_le(r, (uint64_t)-1, 8);
	raw_le(r, 0, 2);            /* reply TTL + 1 */
	raw_le(r, 0, 2);            /* HTTP status */
	raw_le(r, 0, 1);            /* HTTP version */
	raw_le(r, 0, 4);            /* redirects */
	raw_le(r, 0, 8);            /* content length */
	raw_le(r, 0, 1);            /* body matched + 1 */
	raw_le(r, (uint64_t)-1, 8); /* tls, processing, transfer */
	raw_le(r, (uint64_t)-1, 8);
	raw_le(r, (uint64_t)-1, 8);
	raw_str(r, "", 0); /* TLS version */
	raw_str(r, "", 0); /* cipher */
	raw_le(r, 0, 8);   /* certificate expiry */
	raw_str(r, "", 0); /* final URL */
	raw_finish(r);
}

static int
decode_req(const struct raw *r, char *err, size_t errlen)
{
	struct msg_probe_req m;
	int rc;

	memset(err, 0, errlen);
	rc = msg_decode_probe_req(r->b, r->len, &m, err, errlen);
	if (rc == 0)
		target_clear(&m.target);
	return rc;
}

static int
decode_result(const struct raw *r, char *err, size_t errlen)
{
	struct msg_probe_result m;

	memset(err, 0, errlen);
	return msg_decode_probe_result(r->b, r->len, &m, err, errlen);
}

/* Expect the decoders to refuse r with a reason. */
static void
refuse_req(const struct raw *r)
{
	char err[128];

	assert_int_equal(decode_req(r, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
}

static void
refuse_result(const struct raw *r)
{
	char err[128];

	assert_int_equal(decode_result(r, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
}

static void
make_req(struct msg_probe_req *m, const char *host)
{
	memset(m, 0, sizeof(*m));
	m->id = UINT64_MAX - 1;
	m->timeout_us = DURATION_MAX_US;
	m->target.kind = TARGET_TCP;
	m->target.host = xstrdup(host);
	m->target.port = 65535;
}

/* A failed result with every string at its longest. */
static void
make_result(struct msg_probe_result *m)
{
	memset(m, 0, sizeof(*m));
	m->id = 0x0102030405060708ULL;
	result_init(&m->result);
	memset(m->result.error, 'e', RESULT_ERROR_MAX - 1);
	m->result.error[0] = 'E';
	memset(m->result.address, 'a', RESULT_ADDR_MAX - 1);
	m->result.success = false;
	m->result.reason = REASON_TIMEOUT;
	m->result.start_us = 1764081589123456LL;
	m->result.duration_us = DURATION_MAX_US;
	m->result.dns_us = -1;
	m->result.connect_us = 0;
}

/* A request survives encoding with a 253-octet host and extreme values. */
static void
test_req_round_trip(void **state)
{
	struct msg_probe_req in, out;
	uint8_t buf[MSG_MAX];
	char host[TARGET_HOST_MAX + 1], err[128] = "";
	ssize_t n;
	int rc;

	memset(host, 'h', TARGET_HOST_MAX);
	host[TARGET_HOST_MAX] = '\0';
	make_req(&in, host);
	n = msg_encode_probe_req(&in, buf, sizeof(buf));
	assert_true(n > MSG_HDR_LEN);
	assert_int_equal(msg_type(buf, (size_t)n), MSG_PROBE_REQ);
	if (msg_decode_probe_req(buf, (size_t)n, &out, err, sizeof(err)) != 0)
		fail_msg("decode: %s", err);
	assert_int_equal(out.id, in.id);
	assert_int_equal(out.timeout_us, in.timeout_us);
	assert_int_equal(out.target.kind, TARGET_TCP);
	assert_string_equal(out.target.host, host);
	assert_int_equal(out.target.port, 65535);
	target_clear(&out.target);
	target_clear(&in.target);

	make_req(&in, "::1");
	in.id = 0;
	in.timeout_us = 1;
	in.target.port = 1;
	n = msg_encode_probe_req(&in, buf, sizeof(buf));
	rc = msg_decode_probe_req(buf, (size_t)n, &out, err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_int_equal(out.id, 0);
	assert_int_equal(out.timeout_us, 1);
	assert_string_equal(out.target.host, "::1");
	assert_int_equal(out.target.port, 1);
	assert_false(out.restricted);
	assert_null(out.target.allow);
	target_clear(&out.target);

	/* A probe held to an allowlist says so; the list stays behind. */
	in.target.allow = (const struct allowlist *)&in;
	n = msg_encode_probe_req(&in, buf, sizeof(buf));
	assert_int_equal(msg_decode_probe_req(buf, (size_t)n, &out, err,
	                     sizeof(err)),
	    0);
	assert_true(out.restricted);
	assert_null(out.target.allow);
	in.target.allow = NULL;
	target_clear(&out.target);
	target_clear(&in.target);
}

/* A result survives encoding with the longest error and address. */
static void
test_result_round_trip(void **state)
{
	struct msg_probe_result in, out;
	uint8_t buf[MSG_MAX];
	char err[128] = "";
	ssize_t n;

	make_result(&in);
	n = msg_encode_probe_result(&in, buf, sizeof(buf));
	assert_true(n > MSG_HDR_LEN);
	assert_int_equal(msg_type(buf, (size_t)n), MSG_PROBE_RESULT);
	if (msg_decode_probe_result(buf, (size_t)n, &out, err, sizeof(err)) !=
	    0)
		fail_msg("decode: %s", err);
	assert_int_equal(out.id, in.id);
	assert_false(out.result.success);
	assert_int_equal(out.result.reason, REASON_TIMEOUT);
	assert_string_equal(out.result.error, in.result.error);
	assert_int_equal(strlen(out.result.error), RESULT_ERROR_MAX - 1);
	assert_string_equal(out.result.address, in.result.address);
	assert_int_equal(out.result.start_us, in.result.start_us);
	assert_int_equal(out.result.duration_us, in.result.duration_us);
	assert_int_equal(out.result.dns_us, -1);
	assert_int_equal(out.result.connect_us, 0);
}

/* A success carries no reason and keeps its timings. */
static void
test_result_round_trip_success(void **state)
{
	struct msg_probe_result in, out;
	uint8_t buf[MSG_MAX];
	char err[128] = "";
	ssize_t n;

	memset(&in, 0, sizeof(in));
	in.id = 1;
	result_init(&in.result);
	in.result.success = true;
	snprintf(in.result.address, sizeof(in.result.address), "127.0.0.1");
	in.result.duration_us = 120;
	in.result.dns_us = 15;
	in.result.connect_us = 100;
	n = msg_encode_probe_result(&in, buf, sizeof(buf));
	assert_true(n > 0);
	if (msg_decode_probe_result(buf, (size_t)n, &out, err, sizeof(err)) !=
	    0)
		fail_msg("decode: %s", err);
	assert_true(out.result.success);
	assert_int_equal(out.result.reason, REASON_NONE);
	assert_string_equal(out.result.error, "");
	assert_string_equal(out.result.address, "127.0.0.1");
	assert_int_equal(out.result.dns_us, 15);
	assert_int_equal(out.result.connect_us, 100);
}

/* The hand-built datagrams of these tests are what the encoder writes. */
static void
test_wire_format(void **state)
{
	struct msg_probe_req m;
	struct raw r;
	uint8_t buf[MSG_MAX];
	ssize_t n;

	raw_req(&r, "localhost", 9, 5 * USEC_PER_SEC);
	memset(&m, 0, sizeof(m));
	m.id = 7;
	m.timeout_us = 5 * USEC_PER_SEC;
	m.target.kind = TARGET_TCP;
	m.target.host = xstrdup("localhost");
	m.target.port = 80;
	n = msg_encode_probe_req(&m, buf, sizeof(buf));
	assert_int_equal(n, r.len);
	assert_memory_equal(buf, r.b, r.len);
	target_clear(&m.target);
}

/* Every proper prefix of a valid datagram is refused. */
static void
test_truncated(void **state)
{
	struct msg_probe_req req;
	struct msg_probe_result res, rout;
	struct msg_probe_req rqout;
	uint8_t buf[MSG_MAX];
	char err[128];
	ssize_t n, i;
	int rc;

	make_req(&req, "example.com");
	n = msg_encode_probe_req(&req, buf, sizeof(buf));
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		err[0] = '\0';
		rc = msg_decode_probe_req(buf, (size_t)i, &rqout, err,
		    sizeof(err));
		if (rc != -1)
			fail_msg("request cut to %zd of %zd bytes accepted", i,
			    n);
		assert_true(err[0] != '\0');
	}
	target_clear(&req.target);

	make_result(&res);
	n = msg_encode_probe_result(&res, buf, sizeof(buf));
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		err[0] = '\0';
		rc = msg_decode_probe_result(buf, (size_t)i, &rout, err,
		    sizeof(err));
		if (rc != -1)
			fail_msg("result cut to %zd of %zd bytes accepted", i,
			    n);
		assert_true(err[0] != '\0');
	}
}

/* A datagram larger than MSG_MAX is refused even if self-consistent. */
static void
test_oversized(void **state)
{
	struct raw r;

	raw_result(&r, 0, REASON_TIMEOUT, "x", 1, "", 0, -1);
	memset(r.b + r.len, 0, MSG_MAX + 1 - r.len);
	r.len = MSG_MAX + 1;
	raw_finish(&r);
	refuse_result(&r);
	assert_int_equal(msg_type(r.b, r.len), -1);

	raw_req(&r, "h", 1, USEC_PER_SEC);
	memset(r.b + r.len, 0, MSG_MAX + 1 - r.len);
	r.len = MSG_MAX + 1;
	raw_finish(&r);
	refuse_req(&r);
}

/* Bad magic, version or type in the header is refused. */
static void
test_bad_header(void **state)
{
	struct raw r;

	raw_req(&r, "h", 1, USEC_PER_SEC);
	r.b[0] ^= 0xff;
	refuse_req(&r);
	assert_int_equal(msg_type(r.b, r.len), -1);

	raw_req(&r, "h", 1, USEC_PER_SEC);
	r.b[1] ^= 0x01;
	refuse_req(&r);

	raw_req(&r, "h", 1, USEC_PER_SEC);
	r.b[2] = MSG_VERSION + 1;
	refuse_req(&r);
	assert_int_equal(msg_type(r.b, r.len), -1);

	raw_req(&r, "h", 1, USEC_PER_SEC);
	r.b[2] = 0;
	refuse_req(&r);

	/* A request is not a result, and neither is an unknown type. */
	raw_req(&r, "h", 1, USEC_PER_SEC);
	refuse_result(&r);
	r.b[3] = 0;
	refuse_req(&r);
	r.b[3] = 0xff;
	refuse_req(&r);

	raw_result(&r, 1, REASON_NONE, "", 0, "::1", 3, 5);
	refuse_req(&r);
}

/* A payload length that disagrees with the datagram size is refused. */
static void
test_length_mismatch(void **state)
{
	struct raw r;

	raw_req(&r, "h", 1, USEC_PER_SEC);
	r.b[4]++;
	refuse_req(&r);
	r.b[4] -= 2;
	refuse_req(&r);
	raw_finish(&r);
	r.b[7] = 0x80;
	refuse_req(&r);

	raw_result(&r, 1, REASON_NONE, "", 0, "::1", 3, 5);
	r.b[4]++;
	refuse_result(&r);
}

/* A string length running past the end of the datagram is refused. */
static void
test_string_past_end(void **state)
{
	struct raw r;
	size_t off;

	raw_req(&r, "hostname", 8, USEC_PER_SEC);
	off = MSG_HDR_LEN + 8 + 8 + 1; /* the host's length */
	assert_int_equal(r.b[off], 8);
	r.b[off] = 0xff;
	r.b[off + 1] = 0xff;
	refuse_req(&r);
	r.b[off] = 8 + 2 + 1; /* one past the port */
	r.b[off + 1] = 0;
	refuse_req(&r);

	raw_result(&r, 0, REASON_REFUSED, "refused", 7, "::1", 3, -1);
	off = MSG_HDR_LEN + 8 + 1 + 1; /* the error's length */
	assert_int_equal(r.b[off], 7);
	r.b[off] = 0xf0;
	r.b[off + 1] = 0x3f;
	refuse_result(&r);
}

/* A NUL inside a string is refused rather than silently cutting it. */
static void
test_string_with_nul(void **state)
{
	struct raw r;

	raw_req(&r, "evil\0host", 9, USEC_PER_SEC);
	refuse_req(&r);
	raw_result(&r, 0, REASON_REFUSED, "bad\0news", 8, "::1", 3, -1);
	refuse_result(&r);
	raw_result(&r, 0, REASON_REFUSED, "bad", 3, "::1\0", 4, -1);
	refuse_result(&r);
}

/* A string longer than the field it decodes into is refused. */
static void
test_string_too_long(void **state)
{
	char big[RESULT_ERROR_MAX + 1];
	struct raw r;
	char err[128];

	memset(big, 'x', sizeof(big));
	raw_req(&r, big, TARGET_HOST_MAX, USEC_PER_SEC);
	assert_int_equal(decode_req(&r, err, sizeof(err)), 0);
	raw_req(&r, big, TARGET_HOST_MAX + 1, USEC_PER_SEC);
	refuse_req(&r);

	raw_result(&r, 0, REASON_DNS, big, RESULT_ERROR_MAX - 1, "", 0, -1);
	assert_int_equal(decode_result(&r, err, sizeof(err)), 0);
	raw_result(&r, 0, REASON_DNS, big, RESULT_ERROR_MAX, "", 0, -1);
	refuse_result(&r);
	raw_result(&r, 0, REASON_DNS, "e", 1, big, RESULT_ADDR_MAX - 1, -1);
	assert_int_equal(decode_result(&r, err, sizeof(err)), 0);
	raw_result(&r, 0, REASON_DNS, "e", 1, big, RESULT_ADDR_MAX, -1);
	refuse_result(&r);
}

/* Bytes after the last field are refused, even when the header counts
 * them. */
static void
test_trailing_garbage(void **state)
{
	struct raw r;

	raw_req(&r, "h", 1, USEC_PER_SEC);
	raw_le(&r, 0, 1);
	raw_finish(&r);
	refuse_req(&r);

	raw_result(&r, 1, REASON_NONE, "", 0, "::1", 3, 5);
	raw_le(&r, 0xdeadbeef, 4);
	raw_finish(&r);
	refuse_result(&r);
}

/* Field values no encoder would write are refused: unknown kind, a
 * timeout outside 1us..24h, success with a reason, an unknown reason, a
 * negative duration, invalid UTF-8. */
static void
test_bad_values(void **state)
{
	struct raw r;
	size_t kind_off = MSG_HDR_LEN + 8 + 8;

	raw_req(&r, "h", 1, USEC_PER_SEC);
	r.b[kind_off] = 0;
	refuse_req(&r);
	r.b[kind_off] = TARGET_ICMP + 1;
	refuse_req(&r);
	raw_req(&r, "h", 1, 0);
	refuse_req(&r);
	raw_req(&r, "h", 1, -5);
	refuse_req(&r);
	raw_req(&r, "h", 1, DURATION_MAX_US + 1);
	refuse_req(&r);
	raw_req(&r, "h", 1, USEC_PER_SEC);
	r.b[r.len - 1] = 2; /* restricted is a boolean */
	refuse_req(&r);

	raw_result(&r, 1, REASON_TIMEOUT, "", 0, "", 0, -1);
	refuse_result(&r);
	raw_result(&r, 0, REASON_NONE, "x", 1, "", 0, -1);
	refuse_result(&r);
	raw_result(&r, 2, REASON_NONE, "", 0, "", 0, -1);
	refuse_result(&r);
	raw_result(&r, 0, REASON_MAX, "x", 1, "", 0, -1);
	refuse_result(&r);
	raw_result(&r, 0, 0xff, "x", 1, "", 0, -1);
	refuse_result(&r);
	raw_result(&r, 0, REASON_DNS, "x", 1, "", 0, -2);
	refuse_result(&r);
	raw_result(&r, 0, REASON_DNS, "x", 1, "", 0, INT64_MIN);
	refuse_result(&r);
	raw_result(&r, 0, REASON_DNS, "\xc3\x28", 2, "", 0, -1);
	refuse_result(&r);
}

/* msg_type names the type of a sane header and -1 for anything else. */
static void
test_msg_type(void **state)
{
	struct raw r;

	raw_req(&r, "h", 1, USEC_PER_SEC);
	assert_int_equal(msg_type(r.b, r.len), MSG_PROBE_REQ);
	assert_int_equal(msg_type(r.b, MSG_HDR_LEN), MSG_PROBE_REQ);
	assert_int_equal(msg_type(r.b, MSG_HDR_LEN - 1), -1);
	assert_int_equal(msg_type(r.b, 0), -1);
	raw_result(&r, 1, REASON_NONE, "", 0, "", 0, -1);
	assert_int_equal(msg_type(r.b, r.len), MSG_PROBE_RESULT);
}

/* Encoding into any buffer too small fails instead of overflowing it. */
static void
test_encode_small_buffer(void **state)
{
	struct msg_probe_result res;
	struct msg_probe_req req;
	uint8_t buf[MSG_MAX + 16];
	ssize_t n, cap, got;

	make_req(&req, "example.com");
	n = msg_encode_probe_req(&req, buf, sizeof(buf));
	assert_true(n > 0);
	for (cap = 0; cap < n; cap++) {
		memset(buf, 0xee, sizeof(buf));
		assert_int_equal(msg_encode_probe_req(&req, buf, (size_t)cap),
		    -1);
		assert_int_equal(buf[cap], 0xee);
	}
	assert_int_equal(msg_encode_probe_req(&req, buf, (size_t)n), n);
	target_clear(&req.target);

	make_result(&res);
	n = msg_encode_probe_result(&res, buf, sizeof(buf));
	assert_true(n > 0);
	for (cap = 0; cap < n; cap++) {
		memset(buf, 0xee, sizeof(buf));
		got = msg_encode_probe_result(&res, buf, (size_t)cap);
		assert_int_equal(got, -1);
		assert_int_equal(buf[cap], 0xee);
	}
}

/* A decode error message fits a tiny buffer without overflowing it. */
static void
test_small_errbuf(void **state)
{
	struct msg_probe_req m;
	char err[16];
	struct raw r;

	raw_req(&r, "h", 1, USEC_PER_SEC);
	r.b[0] = 0;
	memset(err, 'z', sizeof(err));
	assert_int_equal(msg_decode_probe_req(r.b, r.len, &m, err, 4), -1);
	assert_non_null(memchr(err, '\0', 4));
	assert_int_equal(err[4], 'z');
}

/* A temp file holding data; the caller unlinks and frees the path. */
static char *
http_temp_file(const void *data, size_t len)
{
	char *path = xstrdup("/tmp/pulse-msg.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

/* A request for the target on line (printf-style); the caller clears
 * its target. */
static void make_http_req(struct msg_probe_req *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
make_http_req(struct msg_probe_req *m, const char *fmt, ...)
{
	char line[TARGET_LINE_MAX], err[256] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	memset(m, 0, sizeof(*m));
	m->id = 42;
	m->timeout_us = 3 * USEC_PER_SEC;
	if (target_parse_line(line, strlen(line), &m->target, err,
	        sizeof(err)) != 1)
		fail_msg("\"%s\": %s", line, err);
}

static void
want_same_str(const char *what, const char *a, const char *b)
{
	if (a == NULL && b == NULL)
		return;
	if (a == NULL || b == NULL || strcmp(a, b) != 0)
		fail_msg("%s: \"%s\" became \"%s\"", what, a ? a : "(null)",
		    b ? b : "(null)");
}

/* Every field a worker reads came through unchanged. */
static void
want_same_http_req(const struct target *a, const struct target *b)
{
	const struct target_http *x = a->http, *y = b->http;
	unsigned i;

	assert_int_equal(b->kind, TARGET_HTTP);
	assert_non_null(y);
	assert_string_equal(b->host, a->host);
	assert_int_equal(b->port, a->port);
	assert_int_equal(b->ipv, a->ipv);
	want_same_str("url", x->url, y->url);
	assert_int_equal(y->tls, x->tls);
	want_same_str("method", x->method, y->method);
	assert_int_equal(y->nheaders, x->nheaders);
	for (i = 0; i < x->nheaders; i++)
		want_same_str("header", x->headers[i], y->headers[i]);
	if (y->nheaders > 0)
		assert_null(y->headers[y->nheaders]);
	assert_int_equal(y->has_body, x->has_body);
	assert_int_equal(y->body_len, x->body_len);
	if (x->body_len > 0)
		assert_memory_equal(y->body, x->body, x->body_len);
	assert_memory_equal(y->expect, x->expect, sizeof(x->expect));
	want_same_str("match", x->match, y->match);
	want_same_str("not_match", x->not_match, y->not_match);
	assert_int_equal(y->follow, x->follow);
	assert_int_equal(y->insecure, x->insecure);
	want_same_str("ca", x->ca, y->ca);
	assert_int_equal(y->ca_len, x->ca_len);
	assert_int_equal(y->ca_pem == NULL, x->ca_pem == NULL);
	if (x->ca_len > 0)
		assert_memory_equal(y->ca_pem, x->ca_pem, x->ca_len);
	want_same_str("host", x->host_header, y->host_header);
	want_same_str("sni", x->sni, y->sni);
	assert_int_equal(y->version, x->version);
	assert_int_equal(y->max_body, x->max_body);
}

/* Encode and decode in, which must come back the same. */
static void
http_req_round_trip(struct msg_probe_req *in)
{
	struct msg_probe_req out;
	uint8_t buf[MSG_MAX];
	char err[128] = "";
	ssize_t n;

	n = msg_encode_probe_req(in, buf, sizeof(buf));
	assert_true(n > MSG_HDR_LEN);
	if (msg_decode_probe_req(buf, (size_t)n, &out, err, sizeof(err)) != 0)
		fail_msg("decode: %s", err);
	assert_int_equal(out.id, in->id);
	assert_int_equal(out.timeout_us, in->timeout_us);
	want_same_http_req(&in->target, &out.target);
	target_clear(&out.target);
}

/* An HTTP request with every option, a body of NULs and a CA file,
 * comes back field by field; so does one with every default. */
static void
test_http_req_round_trip(void **state)
{
	static const char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n";
	char *body = http_temp_file("a\0b\0\0c", 6);
	char *ca = http_temp_file(pem, sizeof(pem) - 1);
	struct msg_probe_req in;

	make_http_req(&in,
	    "https://u:s3cret@www.example.test:8443/p?q=1 method=PATCH "
	    "header='X-A: 1' header=\"X-B: two words\" body_file=%s "
	    "expect=200,3xx,404-410,599 match='^ok$' not_match=error "
	    "follow=20 insecure ca=%s host=h.example.test "
	    "sni=s.example.test http_version=2 max_body=256MiB ipv=6",
	    body, ca);
	assert_int_equal(in.target.http->body_len, 6);
	http_req_round_trip(&in);
	target_clear(&in.target);

	make_http_req(&in, "http://127.0.0.1/");
	http_req_round_trip(&in);
	target_clear(&in.target);

	make_http_req(&in,
	    "http://[::1]:8080/ body= follow=0 "
	    "http_version=1.1 max_body=1");
	http_req_round_trip(&in);
	target_clear(&in.target);
	unlink(body);
	unlink(ca);
	free(body);
	free(ca);
}

/* Ways a worker's request could be tampered with, each refused. */
enum http_req_bad {
	BAD_HEADER_CRLF,
	BAD_HEADER_LF,
	BAD_FOLLOW,
	BAD_VERSION,
	BAD_MAX_BODY,
	BAD_HEADER_COUNT,
	BAD_URL_LONG,
	BAD_METHOD_LONG,
	BAD_BODY_LONG,
	BAD_MATCH_LONG,
	BAD_HOST_LONG,
	BAD_MAX
};

/* A string of n copies of c; the caller frees it. */
static char *
repeat(char c, size_t n)
{
	char *s = xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void
http_req_tamper(struct target_http *h, enum http_req_bad how)
{
	unsigned i;

	switch (how) {
	case BAD_HEADER_CRLF:
		free(h->headers[0]);
		h->headers[0] = xstrdup("X-A: 1\r\nX-Evil: 2");
		break;
	case BAD_HEADER_LF:
		free(h->headers[0]);
		h->headers[0] = xstrdup("X-A: 1\n");
		break;
	case BAD_FOLLOW:
		h->follow = TARGET_HTTP_FOLLOW_MAX + 1;
		break;
	case BAD_VERSION:
		h->version = 12;
		break;
	case BAD_MAX_BODY:
		h->max_body = TARGET_HTTP_MAX_BODY_MAX + 1;
		break;
	case BAD_HEADER_COUNT:
		h->headers = xreallocarray(h->headers,
		    TARGET_HTTP_HEADERS_MAX + 2, sizeof(*h->headers));
		for (i = h->nheaders; i <= TARGET_HTTP_HEADERS_MAX; i++)
			h->headers[i] = xstrdup("X-N: 1");
		h->nheaders = TARGET_HTTP_HEADERS_MAX + 1;
		h->headers[h->nheaders] = NULL;
		break;
	case BAD_URL_LONG:
		free(h->url);
		h->url = repeat('u', TARGET_URL_MAX + 1);
		break;
	case BAD_METHOD_LONG:
		free(h->method);
		h->method = repeat('M', 33);
		break;
	case BAD_BODY_LONG:
		free(h->body);
		h->body = repeat('b', TARGET_HTTP_BODY_MAX + 1);
		h->body_len = TARGET_HTTP_BODY_MAX + 1;
		break;
	case BAD_MATCH_LONG:
		free(h->match);
		h->match = repeat('m', TARGET_HTTP_REGEX_MAX + 1);
		break;
	case BAD_HOST_LONG:
		free(h->host_header);
		h->host_header = repeat('h', TARGET_HOST_MAX + 1);
		break;
	case BAD_MAX:
		break;
	}
}

/* A request with a line break in a header, an option out of range or
 * a field longer than the parser allows is refused, and what the
 * decoder had built is freed (the sanitizers check). */
static void
test_http_req_hostile(void **state)
{
	struct msg_probe_req in, out;
	uint8_t buf[MSG_MAX];
	char err[128];
	ssize_t n;
	int how;

	for (how = 0; how < BAD_MAX; how++) {
		make_http_req(&in,
		    "http://127.0.0.1/ method=PUT header='X-A: 1' body=x "
		    "match=ok host=h.example.test");
		http_req_tamper(in.target.http, (enum http_req_bad)how);
		n = msg_encode_probe_req(&in, buf, sizeof(buf));
		assert_true(n > MSG_HDR_LEN);
		err[0] = '\0';
		if (msg_decode_probe_req(buf, (size_t)n, &out, err,
		        sizeof(err)) != -1)
			fail_msg("tampered request %d accepted", how);
		assert_true(err[0] != '\0');
		assert_null(out.target.http);
		assert_null(out.target.host);
		target_clear(&in.target);
	}
}

/* A NUL inside a header is refused, not cut short. */
static void
test_http_req_nul_in_header(void **state)
{
	struct msg_probe_req in;
	uint8_t buf[MSG_MAX], *p;
	struct raw r;
	ssize_t n;

	make_http_req(&in, "http://127.0.0.1/ header='X-A: 1'");
	n = msg_encode_probe_req(&in, buf, sizeof(buf));
	assert_true(n > 0);
	p = memmem(buf, (size_t)n, "X-A: 1", 6);
	assert_non_null(p);
	p[3] = '\0';
	memcpy(r.b, buf, (size_t)n);
	r.len = (size_t)n;
	refuse_req(&r);
	target_clear(&in.target);
}

/* Every proper prefix of an HTTP request is refused without a leak. */
static void
test_http_req_truncated(void **state)
{
	struct msg_probe_req in, out;
	uint8_t buf[MSG_MAX];
	char err[128];
	ssize_t n, i;

	make_http_req(&in,
	    "https://u:p@127.0.0.1/ method=PUT header='X-A: 1' "
	    "header='X-B: 2' body=abc expect=404 match=a not_match=b "
	    "follow=2 host=h.example.test sni=s.example.test max_body=1k");
	n = msg_encode_probe_req(&in, buf, sizeof(buf));
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		err[0] = '\0';
		if (msg_decode_probe_req(buf, (size_t)i, &out, err,
		        sizeof(err)) != -1)
			fail_msg("request cut to %zd of %zd bytes accepted", i,
			    n);
		assert_true(err[0] != '\0');
	}
	target_clear(&in.target);
}

/* A request for an https:// target with the largest ca= and body_file=
 * the parser takes and nheaders headers of the longest; its encoded
 * length, or -1 when it does not fit. */
static ssize_t
encode_largest(struct msg_probe_req *m, unsigned nheaders)
{
	char *pem = xmalloc(TARGET_HTTP_CA_MAX), *ca, *body, *value, err[256];
	uint8_t *buf = xmalloc(MSG_MAX);
	unsigned i;
	ssize_t n;

	memset(pem, 'A', TARGET_HTTP_CA_MAX);
	memcpy(pem, "-----BEGIN CERTIFICATE-----\n", 28);
	ca = http_temp_file(pem, TARGET_HTTP_CA_MAX);
	body = http_temp_file(pem, TARGET_HTTP_BODY_MAX);
	make_http_req(m, "https://127.0.0.1/ ca=%s body_file=%s", ca, body);
	value = repeat('v', TARGET_HTTP_HEADER_MAX);
	memcpy(value, "X-Pad: ", 7);
	for (i = 0; i < nheaders; i++)
		if (target_apply_option(&m->target, "header", value, err,
		        sizeof(err)) != 0)
			fail_msg("header %u: %s", i, err);
	n = msg_encode_probe_req(m, buf, MSG_MAX);
	unlink(ca);
	unlink(body);
	free(ca);
	free(body);
	free(value);
	free(pem);
	free(buf);
	return n;
}

/* The largest targets-file line, with the largest ca= and body_file=,
 * fits in one message to a worker. */
static void
test_http_req_largest_line_fits(void **state)
{
	struct msg_probe_req m;

	/* A line of 4096 bytes holds no more than one header of 4 KiB. */
	assert_true(encode_largest(&m, 1) > 0);
	target_clear(&m.target);
}

/*
 * Every target the parser accepts can be sent to a worker, also one that
 * "pulse check" builds from flags.  32 headers of 4 KiB with the largest
 * ca= and body would not fit: the parser refuses that target, as a usage
 * error, rather than the supervisor failing the run.
 */
static void
test_http_req_largest_flags_fit(void **state)
{
	struct msg_probe_req m;
	char err[256];
	ssize_t n = encode_largest(&m, TARGET_HTTP_HEADERS_MAX);

	if (target_check(&m.target, err, sizeof(err)) == 0 && n <= 0)
		fail_msg("a target the parser accepts does not fit in %d "
		         "bytes",
		    MSG_MAX);
	assert_int_equal(target_check(&m.target, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "together are larger"));
	target_clear(&m.target);
}

/* An HTTPS result with every HTTP field set. */
static void
make_http_result(struct msg_probe_result *m)
{
	memset(m, 0, sizeof(*m));
	m->id = 77;
	result_init(&m->result);
	result_fail(&m->result, REASON_STATUS, "status 404, expected 2xx");
	snprintf(m->result.address, sizeof(m->result.address), "::1");
	m->result.start_us = 1764081589123456LL;
	m->result.duration_us = 12345;
	m->result.dns_us = 10;
	m->result.connect_us = 20;
	m->result.http.status = 404;
	m->result.http.version = 20;
	m->result.http.redirects = TARGET_HTTP_FOLLOW_MAX;
	m->result.http.content_length = (int64_t)TARGET_HTTP_MAX_BODY_MAX;
	m->result.http.body_matched = 0;
	m->result.http.tls_us = 30;
	m->result.http.processing_us = 40;
	m->result.http.transfer_us = 0;
	snprintf(m->result.http.tls_version, sizeof(m->result.http.tls_version),
	    "TLSv1.3");
	memset(m->result.http.tls_cipher, 'c', RESULT_TLS_CIPHER_MAX - 1);
	m->result.http.cert_not_after = 1798761600;
	m->result.http.final_url =
	    xstrdup("https://u:xxxxx@www.example.test/caf\xc3\xa9");
}

/* Every HTTP field of a result comes back, the final URL included. */
static void
test_http_result_round_trip(void **state)
{
	struct msg_probe_result in, out;
	const struct result_http *a = &in.result.http, *b = &out.result.http;
	uint8_t buf[MSG_MAX];
	char err[128] = "";
	ssize_t n;

	make_http_result(&in);
	n = msg_encode_probe_result(&in, buf, sizeof(buf));
	assert_true(n > 0);
	if (msg_decode_probe_result(buf, (size_t)n, &out, err, sizeof(err)) !=
	    0)
		fail_msg("decode: %s", err);
	assert_int_equal(out.result.reason, REASON_STATUS);
	assert_string_equal(out.result.error, in.result.error);
	assert_int_equal(b->status, a->status);
	assert_int_equal(b->version, a->version);
	assert_int_equal(b->redirects, a->redirects);
	assert_int_equal(b->content_length, a->content_length);
	assert_int_equal(b->body_matched, a->body_matched);
	assert_int_equal(b->tls_us, a->tls_us);
	assert_int_equal(b->processing_us, a->processing_us);
	assert_int_equal(b->transfer_us, a->transfer_us);
	assert_string_equal(b->tls_version, a->tls_version);
	assert_string_equal(b->tls_cipher, a->tls_cipher);
	assert_int_equal(b->cert_not_after, a->cert_not_after);
	assert_non_null(b->final_url);
	assert_string_equal(b->final_url, a->final_url);
	result_release(&out.result);
	result_release(&in.result);

	/* A result with no response: the absent fields stay absent. */
	memset(&in, 0, sizeof(in));
	result_init(&in.result);
	result_fail(&in.result, REASON_REFUSED, "connection refused");
	n = msg_encode_probe_result(&in, buf, sizeof(buf));
	assert_int_equal(msg_decode_probe_result(buf, (size_t)n, &out, err,
	                     sizeof(err)),
	    0);
	assert_int_equal(b->status, 0);
	assert_int_equal(b->version, 0);
	assert_int_equal(b->body_matched, -1);
	assert_int_equal(b->tls_us, -1);
	assert_int_equal(b->processing_us, -1);
	assert_int_equal(b->transfer_us, -1);
	assert_null(b->final_url);
}

/* Ways a worker's HTTP result could be out of range, each refused. */
enum http_res_bad {
	RBAD_STATUS_HIGH,
	RBAD_STATUS_LOW,
	RBAD_VERSION,
	RBAD_REDIRECTS,
	RBAD_MATCHED,
	RBAD_LENGTH_NEGATIVE,
	RBAD_LENGTH_HUGE,
	RBAD_CERT_NEGATIVE,
	RBAD_TLS_US,
	RBAD_FINAL_URL_UTF8,
	RBAD_FINAL_URL_LONG,
	RBAD_TLS_VERSION_UTF8,
	RBAD_CIPHER_UTF8,
	RBAD_ICMP_AFTER_URL,
	RBAD_MAX
};

static void
http_result_tamper(struct result *r, enum http_res_bad how)
{
	struct result_http *h = &r->http;

	switch (how) {
	case RBAD_STATUS_HIGH:
		h->status = 600;
		break;
	case RBAD_STATUS_LOW:
		h->status = 99;
		break;
	case RBAD_VERSION:
		h->version = 12;
		break;
	case RBAD_REDIRECTS:
		h->redirects = TARGET_HTTP_FOLLOW_MAX + 1;
		break;
	case RBAD_MATCHED:
		h->body_matched = 2;
		break;
	case RBAD_LENGTH_NEGATIVE:
		h->content_length = -1;
		break;
	case RBAD_LENGTH_HUGE:
		h->content_length = (int64_t)TARGET_HTTP_MAX_BODY_MAX + 1;
		break;
	case RBAD_CERT_NEGATIVE:
		h->cert_not_after = -1;
		break;
	case RBAD_TLS_US:
		h->tls_us = -2;
		break;
	case RBAD_FINAL_URL_UTF8:
		free(h->final_url);
		h->final_url = xstrdup("https://h.example/\xff");
		break;
	case RBAD_FINAL_URL_LONG:
		free(h->final_url);
		h->final_url = repeat('u', TARGET_URL_MAX + 1);
		break;
	case RBAD_TLS_VERSION_UTF8:
		snprintf(h->tls_version, sizeof(h->tls_version), "TLS\xc3(");
		break;
	case RBAD_CIPHER_UTF8:
		snprintf(h->tls_cipher, sizeof(h->tls_cipher), "\xed\xa0\x80");
		break;
	case RBAD_ICMP_AFTER_URL:
		/* Decoded after the final URL: it must be freed too. */
		r->sent = 1;
		r->received = 2;
		break;
	case RBAD_MAX:
		break;
	}
}

/* An HTTP result out of range (status 600, a bad version, a final URL
 * that is not UTF-8 or too long, ...) is refused, and a final URL the
 * decoder had allocated is freed and cleared. */
static void
test_http_result_hostile(void **state)
{
	struct msg_probe_result in, out;
	uint8_t buf[MSG_MAX];
	char err[128];
	ssize_t n;
	int how;

	for (how = 0; how < RBAD_MAX; how++) {
		make_http_result(&in);
		http_result_tamper(&in.result, (enum http_res_bad)how);
		n = msg_encode_probe_result(&in, buf, sizeof(buf));
		assert_true(n > MSG_HDR_LEN);
		err[0] = '\0';
		if (msg_decode_probe_result(buf, (size_t)n, &out, err,
		        sizeof(err)) != -1)
			fail_msg("tampered result %d accepted", how);
		assert_true(err[0] != '\0');
		assert_null(out.result.http.final_url);
		result_release(&in.result);
	}
}

/* Every proper prefix of an HTTP result is refused without a leak, and
 * trailing bytes after its final URL too. */
static void
test_http_result_truncated(void **state)
{
	struct msg_probe_result in, out;
	uint8_t buf[MSG_MAX];
	struct raw r;
	char err[128];
	ssize_t n, i;

	make_http_result(&in);
	n = msg_encode_probe_result(&in, buf, sizeof(buf));
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		err[0] = '\0';
		if (msg_decode_probe_result(buf, (size_t)i, &out, err,
		        sizeof(err)) != -1)
			fail_msg("result cut to %zd of %zd bytes accepted", i,
			    n);
		assert_true(err[0] != '\0');
		assert_null(out.result.http.final_url);
	}
	memcpy(r.b, buf, (size_t)n);
	r.len = (size_t)n;
	raw_le(&r, 0, 1);
	raw_finish(&r);
	refuse_result(&r);
	result_release(&in.result);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_req_round_trip),
	    cmocka_unit_test(test_result_round_trip),
	    cmocka_unit_test(test_result_round_trip_success),
	    cmocka_unit_test(test_wire_format),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_oversized),
	    cmocka_unit_test(test_bad_header),
	    cmocka_unit_test(test_length_mismatch),
	    cmocka_unit_test(test_string_past_end),
	    cmocka_unit_test(test_string_with_nul),
	    cmocka_unit_test(test_string_too_long),
	    cmocka_unit_test(test_trailing_garbage),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_msg_type),
	    cmocka_unit_test(test_encode_small_buffer),
	    cmocka_unit_test(test_small_errbuf),
	    cmocka_unit_test(test_http_req_round_trip),
	    cmocka_unit_test(test_http_req_hostile),
	    cmocka_unit_test(test_http_req_nul_in_header),
	    cmocka_unit_test(test_http_req_truncated),
	    cmocka_unit_test(test_http_req_largest_line_fits),
	    cmocka_unit_test(test_http_req_largest_flags_fit),
	    cmocka_unit_test(test_http_result_round_trip),
	    cmocka_unit_test(test_http_result_hostile),
	    cmocka_unit_test(test_http_result_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
