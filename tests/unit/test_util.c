/* Unit tests for util.c: durations, integers, UTF-8, time, allocation. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util.h"

struct duration_case {
	const char *in;
	int64_t us;
};

/* Every unit and the combined forms parse to the exact microseconds. */
static void
test_duration_parse_good(void **state)
{
	static const struct duration_case cases[] = {
	    {"500ms", 500 * USEC_PER_MSEC},
	    {"5s", 5 * USEC_PER_SEC},
	    {"2m", 120 * USEC_PER_SEC},
	    {"1h", 3600 * USEC_PER_SEC},
	    {"250us", 250},
	    {"1us", 1},
	    {"1.5s", 1500 * USEC_PER_MSEC},
	    {"0.25s", 250 * USEC_PER_MSEC},
	    {"1m30s", 90 * USEC_PER_SEC},
	    {"1h1m1s", 3661 * USEC_PER_SEC},
	    {"1s500ms", 1500 * USEC_PER_MSEC},
	    {"24h", DURATION_MAX_US},
	    {"86400s", DURATION_MAX_US},
	    {"0", 0},
	    {"0s", 0},
	};
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t us = -12345;

		err[0] = '\0';
		if (duration_parse(cases[i].in, &us, err, sizeof(err)) != 0)
			fail_msg("\"%s\" rejected: %s", cases[i].in, err);
		if (us != cases[i].us)
			fail_msg("\"%s\": got %lld us, want %lld", cases[i].in,
			    (long long)us, (long long)cases[i].us);
	}
}

/* Malformed, negative, unitless and out-of-range durations are refused
 * with a message the user can read. */
static void
test_duration_parse_bad(void **state)
{
	static const char *cases[] = {
	    "",
	    "5",
	    "5x",
	    "-1s",
	    "s",
	    "ms",
	    "5 s",
	    " 5s",
	    "5s ",
	    "1.5",
	    "1.s",
	    ".5s",
	    "1..5s",
	    "5s5",
	    "s5",
	    "+-1s",
	    "1e3s",
	    "0x10s",
	    "99999999999h",
	    "9223372036854775807us",
	    "99999999999999999999s",
	    "25h",
	    "86401s",
	    "1441m",
	    "86400000001us",
	};
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t us = 0;

		memset(err, 0, sizeof(err));
		if (duration_parse(cases[i], &us, err, sizeof(err)) != -1)
			fail_msg("\"%s\" accepted as %lld us", cases[i],
			    (long long)us);
		if (err[0] == '\0')
			fail_msg("\"%s\" rejected without a message", cases[i]);
	}
}

/* A number without a unit is reported as such, not as a generic error. */
static void
test_duration_parse_missing_unit(void **state)
{
	char err[128] = "";
	int64_t us;

	assert_int_equal(duration_parse("5", &us, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unit"));
}

/* A tiny error buffer is filled without overflow and stays terminated. */
static void
test_duration_parse_small_errbuf(void **state)
{
	char err[8];
	int64_t us;

	memset(err, 'x', sizeof(err));
	assert_int_equal(duration_parse("5x", &us, err, 4), -1);
	assert_true(memchr(err, '\0', 4) != NULL);
	assert_int_equal(err[4], 'x');
}

/* The shortest form of whole units is the unit itself. */
static void
test_duration_format_units(void **state)
{
	static const struct duration_case cases[] = {
	    {"5s", 5 * USEC_PER_SEC},
	    {"500ms", 500 * USEC_PER_MSEC},
	    {"2m", 120 * USEC_PER_SEC},
	    {"1h", 3600 * USEC_PER_SEC},
	    {"250us", 250},
	    {"24h", DURATION_MAX_US},
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		duration_format(cases[i].us, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].in);
	}
}

/* Whatever duration_format writes, duration_parse reads back exactly. */
static void
test_duration_format_round_trip(void **state)
{
	static const int64_t values[] = {
	    1,
	    7,
	    999,
	    1000,
	    1001,
	    1500,
	    999999,
	    1000000,
	    1000001,
	    1500000,
	    59999999,
	    60000000,
	    90000000,
	    90500000,
	    3599999999LL,
	    3600000000LL,
	    3600000001LL,
	    3661000000LL,
	    86399999999LL,
	    DURATION_MAX_US,
	};
	char buf[64], err[128];
	size_t i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		int64_t us = -1;

		duration_format(values[i], buf, sizeof(buf));
		if (duration_parse(buf, &us, err, sizeof(err)) != 0)
			fail_msg("%lld formatted as \"%s\", refused: %s",
			    (long long)values[i], buf, err);
		if (us != values[i])
			fail_msg("%lld -> \"%s\" -> %lld", (long long)values[i],
			    buf, (long long)us);
	}
}

/* Integers inside the range parse; anything else is refused with a reason. */
static void
test_parse_int_range(void **state)
{
	static const char *bad[] = {
	    "",
	    "abc",
	    "12abc",
	    "1.5",
	    "0",
	    "101",
	    "-1",
	    "0x10",
	    "99999999999999999999",
	    "-99999999999999999999",
	    "1 2",
	};
	char err[128];
	long long v;
	size_t i;

	assert_int_equal(parse_int_range("42", 1, 100, &v, err, sizeof(err)),
	    0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_int_range("1", 1, 100, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1);
	assert_int_equal(parse_int_range("100", 1, 100, &v, err, sizeof(err)),
	    0);
	assert_int_equal(v, 100);
	assert_int_equal(parse_int_range("-5", -10, 10, &v, err, sizeof(err)),
	    0);
	assert_int_equal(v, -5);
	assert_int_equal(parse_int_range("4096", 1, 4096, &v, err, sizeof(err)),
	    0);
	assert_int_equal(v, 4096);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(err, 0, sizeof(err));
		v = 777;
		if (parse_int_range(bad[i], 1, 100, &v, err, sizeof(err)) != -1)
			fail_msg("\"%s\" accepted as %lld", bad[i], v);
		if (err[0] == '\0')
			fail_msg("\"%s\" rejected without a message", bad[i]);
	}
}

/* Well-formed UTF-8 passes; overlong, surrogate, truncated and
 * out-of-range sequences fail. */
static void
test_utf8_valid(void **state)
{
	static const char *good[] = {
	    "",
	    "plain ascii",
	    "caf\xc3\xa9",
	    "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80",
	    "\xed\x9f\xbf",
	    "\xee\x80\x80",
	    "\xf4\x8f\xbf\xbf",
	    "\xc2\x80",
	    "\xdf\xbf",
	};
	static const char *bad[] = {
	    "\xc0\xaf",
	    "\xc1\xbf",
	    "\xe0\x80\xaf",
	    "\xe0\x9f\xbf",
	    "\xf0\x80\x80\xaf",
	    "\xf0\x8f\xbf\xbf",
	    "\xed\xa0\x80",
	    "\xed\xbf\xbf",
	    "\xc3",
	    "caf\xc3",
	    "\xe2\x82",
	    "\xf0\x9f\x98",
	    "\x80",
	    "\xbf",
	    "\xf4\x90\x80\x80",
	    "\xf5\x80\x80\x80",
	    "\xff",
	    "\xfe",
	    "a\xe2\x28\xa1",
	    "\xc3\x28",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!utf8_valid(good[i]))
			fail_msg("good[%zu] refused", i);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (utf8_valid(bad[i]))
			fail_msg("bad[%zu] accepted", i);
}

/* Timestamps are UTC, RFC 3339, with exactly three fractional digits. */
static void
test_format_rfc3339(void **state)
{
	char buf[64];

	format_rfc3339(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	format_rfc3339(1700000000LL * USEC_PER_SEC + 123456, buf, sizeof(buf));
	assert_string_equal(buf, "2023-11-14T22:13:20.123Z");
	format_rfc3339(951782400LL * USEC_PER_SEC + 5000, buf, sizeof(buf));
	assert_string_equal(buf, "2000-02-29T00:00:00.005Z");
}

/* The wall clock agrees with time(2); the monotonic clock never goes back. */
static void
test_clocks(void **state)
{
	int64_t wall = wall_now_us();
	int64_t a, b;
	struct timespec ts = {0, 2000000};

	assert_true(llabs(wall / USEC_PER_SEC - (int64_t)time(NULL)) <= 2);
	a = mono_now_us();
	nanosleep(&ts, NULL);
	b = mono_now_us();
	assert_true(a > 0);
	assert_true(b - a >= 2000);
	assert_true(b - a < 2 * USEC_PER_SEC);
}

/* The x* allocators return usable, independent memory. */
static void
test_xalloc(void **state)
{
	char *s, *p;
	int *v;
	size_t i;

	s = xstrdup("pulse");
	assert_string_equal(s, "pulse");
	free(s);

	s = xstrndup("pulse-worker", 5);
	assert_string_equal(s, "pulse");
	free(s);
	s = xstrndup("ab", 10);
	assert_string_equal(s, "ab");
	free(s);

	assert_int_equal(xasprintf(&p, "%s:%d", "host", 80), 7);
	assert_string_equal(p, "host:80");
	free(p);

	v = xcalloc(64, sizeof(*v));
	for (i = 0; i < 64; i++)
		assert_int_equal(v[i], 0);
	v[63] = 7;
	v = xreallocarray(v, 128, sizeof(*v));
	assert_int_equal(v[63], 7);
	v[127] = 9;
	free(v);

	p = xmalloc(16);
	memset(p, 'a', 16);
	free(p);
}

/* Network errors read as short lower-case phrases; others fall back to
 * strerror. */
static void
test_net_strerror(void **state)
{
	assert_string_equal(net_strerror(EHOSTUNREACH), "no route to host");
	assert_string_equal(net_strerror(ENETUNREACH), "network unreachable");
	assert_string_equal(net_strerror(ECONNREFUSED), "connection refused");
	assert_string_equal(net_strerror(ENOENT), strerror(ENOENT));
}

/* Sizes in bytes with k, M and G (and KiB, KB, MiB, ... in any case) as
 * powers of 1024. */
static void
test_size_parse_good(void **state)
{
	static const struct {
		const char *in;
		uint64_t bytes;
	} cases[] = {
	    {"0", 0},
	    {"512", 512},
	    {"1b", 1},
	    {"64k", 65536},
	    {"64K", 65536},
	    {"64KiB", 65536},
	    {"64kb", 65536},
	    {"1M", 1 << 20},
	    {"1m", 1 << 20},
	    {"1MiB", 1 << 20},
	    {"2MB", 2 << 20},
	    {"256MiB", 256ULL << 20},
	    {"1G", 1ULL << 30},
	    {"3gib", 3ULL << 30},
	    {"16G", 16ULL << 30},
	    {"0042", 42},
	};
	char err[128];
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		if (size_parse(cases[i].in, 0, UINT64_MAX, &v, err,
		        sizeof(err)) != 0)
			fail_msg("\"%s\": %s", cases[i].in, err);
		if (v != cases[i].bytes)
			fail_msg("\"%s\" gave %llu, want %llu", cases[i].in,
			    (unsigned long long)v,
			    (unsigned long long)cases[i].bytes);
	}
}

/* Malformed sizes, unknown units and sizes outside [min, max] are
 * refused with a reason, leaving the output alone. */
static void
test_size_parse_bad(void **state)
{
	static const char *bad[] = {
	    "",
	    "k",
	    "-1",
	    "+1",
	    " 1",
	    "1 k",
	    "1.5M",
	    "1T",
	    "1KiBs",
	    "12x",
	    "0x10",
	    "99999999999999999999",
	    "1025",
	    "2k",
	    "0",
	};
	char err[128];
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(err, 0, sizeof(err));
		v = 777;
		if (size_parse(bad[i], 1, 1024, &v, err, sizeof(err)) != -1)
			fail_msg("\"%s\" accepted as %llu", bad[i],
			    (unsigned long long)v);
		if (err[0] == '\0')
			fail_msg("\"%s\" refused without a message", bad[i]);
		assert_int_equal(v, 777);
	}
	assert_int_equal(size_parse("1k", 1, 1024, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(size_parse("1", 1, 1024, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1);
}

/* A size too large for 64 bits once its unit is applied is refused, not
 * wrapped around to a small one. */
static void
test_size_parse_overflow(void **state)
{
	static const char *big[] = {
	    "17179869184G",                       /* 2^34 GiB = 2^64 bytes */
	    "17179869185G",                       /* 2^64 + 1 GiB */
	    "99999999999G", "18014398509481984k", /* 2^54 KiB = 2^64 bytes */
	};
	char err[128];
	size_t i, wrong = 0;
	uint64_t v;

	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		memset(err, 0, sizeof(err));
		v = 777;
		if (size_parse(big[i], 0, UINT64_MAX, &v, err, sizeof(err)) !=
		        -1 ||
		    err[0] == '\0') {
			print_error("\"%s\" accepted as %llu\n", big[i],
			    (unsigned long long)v);
			wrong++;
		}
	}
	assert_int_equal(wrong, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration_parse_good),
	    cmocka_unit_test(test_duration_parse_bad),
	    cmocka_unit_test(test_duration_parse_missing_unit),
	    cmocka_unit_test(test_duration_parse_small_errbuf),
	    cmocka_unit_test(test_duration_format_units),
	    cmocka_unit_test(test_duration_format_round_trip),
	    cmocka_unit_test(test_parse_int_range),
	    cmocka_unit_test(test_utf8_valid),
	    cmocka_unit_test(test_format_rfc3339),
	    cmocka_unit_test(test_clocks),
	    cmocka_unit_test(test_xalloc),
	    cmocka_unit_test(test_net_strerror),
	    cmocka_unit_test(test_size_parse_good),
	    cmocka_unit_test(test_size_parse_bad),
	    cmocka_unit_test(test_size_parse_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
