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
	raw_le(r, 0, 2); /* reply TTL + 1 */
	raw_le(r, 0, 2); /* HTTP status */
	raw_le(r, 0, 1); /* HTTP version */
	raw_le(r, 0, 4); /* redirects */
	raw_le(r, 0, 8); /* content length */
	raw_le(r, 0, 1); /* body matched + 1 */
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
