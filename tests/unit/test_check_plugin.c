/*
 * Unit tests for check_plugin.c: thresholds, their verdict, performance
 * data and the status line of "pulse check --plugin".
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

#include "check_plugin.h"
#include "log.h"
#include "result.h"
#include "target.h"
#include "util.h"

#define START_US (1764081589LL * USEC_PER_SEC + 123456)
#define DEFAULT_TIMEOUT_US (5 * USEC_PER_SEC)
#define MS(n) ((int64_t)(n)*USEC_PER_MSEC)

/* Parse line into t or fail the test. */
static void
parse(struct target *t, const char *line)
{
	char err[256] = "";

	if (target_parse_line(line, strlen(line), t, err, sizeof(err)) != 1)
		fail_msg("\"%s\": %s", line, err);
}

static void
fresh(struct result *r)
{
	result_init(r);
	r->start_us = START_US;
}

/* A TCP probe that took us, up. */
static void
tcp_up(struct result *r, int64_t us)
{
	fresh(r);
	r->success = true;
	r->duration_us = us;
	r->connect_us = us;
	snprintf(r->address, sizeof(r->address), "127.0.0.1");
}

/* An ICMP probe: received of sent answered, rtt avg avg_us. */
static void
icmp_result(struct result *r, uint32_t sent, uint32_t received, int64_t avg_us)
{
	fresh(r);
	r->sent = sent;
	r->received = received;
	r->duration_us = MS(200);
	snprintf(r->address, sizeof(r->address), "127.0.0.1");
	if (received == 0) {
		result_fail(r, REASON_TIMEOUT, "no echo reply (%u sent)", sent);
		return;
	}
	r->success = true;
	r->rtt_min_us = avg_us / 2;
	r->rtt_avg_us = avg_us;
	r->rtt_max_us = avg_us * 2;
	r->rtt_stddev_us = 0;
	r->reply_ttl = 64;
}

static void
thresholds(struct check_thresholds *th, const char *warn, const char *crit)
{
	char why[128] = "";

	check_thresholds_init(th);
	if (warn != NULL &&
	    check_limit_parse(warn, &th->warning, why, sizeof(why)) == -1)
		fail_msg("--warning %s: %s", warn, why);
	if (crit != NULL &&
	    check_limit_parse(crit, &th->critical, why, sizeof(why)) == -1)
		fail_msg("--critical %s: %s", crit, why);
}

/* --- parsing ------------------------------------------------------------ */

static void
want_limit(const char *spec, int64_t latency_us, int loss_cp)
{
	struct check_limit l;
	char why[128] = "";

	if (check_limit_parse(spec, &l, why, sizeof(why)) == -1)
		fail_msg("\"%s\": %s", spec, why);
	if (l.latency_us != latency_us || l.loss_cp != loss_cp)
		fail_msg("\"%s\": latency %lld loss %d, want %lld and %d", spec,
		    (long long)l.latency_us, l.loss_cp, (long long)latency_us,
		    loss_cp);
}

/* Durations as pulse writes them, a loss with up to two decimals. */
static void
test_parse_good(void **state)
{
	(void)state;
	want_limit("200ms", MS(200), -1);
	want_limit("1s", USEC_PER_SEC, -1);
	want_limit("1.5s", 1500 * USEC_PER_MSEC, -1);
	want_limit("250us", 250, -1);
	want_limit("0", 0, -1);
	want_limit("0ms", 0, -1);
	want_limit("200ms,5%", MS(200), 500);
	want_limit("5%,200ms", MS(200), 500);
	want_limit("5%", -1, 500);
	want_limit("0%", -1, 0);
	want_limit("100%", -1, 10000);
	want_limit("2.5%", -1, 250);
	want_limit("0.25%", -1, 25);
	want_limit("33.33%", -1, 3333);
	want_limit("100.00%", -1, 10000);
}

/* A bad spec fails with a reason, and leaves nothing set. */
static void
want_bad(const char *spec, const char *reason)
{
	struct check_limit l;
	char why[128] = "";

	if (check_limit_parse(spec, &l, why, sizeof(why)) != -1)
		fail_msg("\"%s\" parsed", spec);
	if (strstr(why, reason) == NULL)
		fail_msg("\"%s\": reason \"%s\", want \"%s\"", spec, why,
		    reason);
	assert_int_equal(l.latency_us, -1);
	assert_int_equal(l.loss_cp, -1);
}

static void
test_parse_bad(void **state)
{
	(void)state;
	want_bad("", "empty part");
	want_bad("5", "missing unit");
	want_bad("200", "missing unit");
	want_bad("5x", "unknown unit");
	want_bad("-5ms", "expected a number");
	want_bad("25h", "too long");
	want_bad("200ms,", "empty part");
	want_bad(",5%", "empty part");
	want_bad("200ms,,5%", "empty part");
	want_bad("1s,2s", "latency given twice");
	want_bad("5%,6%", "loss given twice");
	want_bad("200ms,5%,1s", "latency given twice");
	want_bad("101%", "loss above 100%");
	want_bad("1000%", "loss above 100%");
	want_bad("100.01%", "loss above 100%");
	want_bad("%", "bad loss");
	want_bad("-5%", "bad loss");
	want_bad(".5%", "bad loss");
	want_bad("5.%", "bad loss");
	want_bad("5.123%", "bad loss");
	want_bad("5 %", "bad loss");
	want_bad("abc%", "bad loss");
	want_bad("200ms;5%", "bad loss");
	want_bad("200ms 5%", "bad loss");
}

/* check_thresholds_check() of warn and crit for kind: 0, or why not. */
static void
want_check(const char *warn, const char *crit, enum target_kind kind,
    const char *want)
{
	struct check_thresholds th;
	char why[128] = "";
	int rc;

	thresholds(&th, warn, crit);
	rc = check_thresholds_check(&th, kind, why, sizeof(why));
	if (want == NULL && rc != 0)
		fail_msg("%s/%s: %s", warn, crit, why);
	if (want != NULL && (rc != -1 || strcmp(why, want) != 0))
		fail_msg("%s/%s: \"%s\", want \"%s\"", warn, crit, why, want);
}

/* Loss only for ICMP; a warning may equal its critical, not exceed it. */
static void
test_thresholds_check(void **state)
{
	static const char loss[] =
	    "a loss threshold applies to icmp:// targets only";
	struct check_thresholds th;

	(void)state;
	want_check("200ms,5%", "500ms,20%", TARGET_ICMP, NULL);
	want_check("200ms,5%", "500ms,20%", TARGET_TCP, loss);
	want_check("200ms", "500ms,20%", TARGET_HTTP, loss);
	want_check("500ms", "500ms", TARGET_TCP, NULL);
	want_check("501ms", "500ms", TARGET_TCP,
	    "the warning latency 501ms is above the critical 500ms");
	want_check("20.5%", "20%", TARGET_ICMP,
	    "the warning loss 20.5% is above the critical 20%");
	want_check("20%", "20%", TARGET_ICMP, NULL);
	/* Parts set on one level only are not compared. */
	want_check("1s", "5%", TARGET_ICMP, NULL);
	want_check("5%", "1ms", TARGET_ICMP, NULL);
	thresholds(&th, NULL, NULL);
	assert_false(check_thresholds_set(&th));
	thresholds(&th, NULL, "1s");
	assert_true(check_thresholds_set(&th));
	thresholds(&th, "0%", NULL);
	assert_true(check_thresholds_set(&th));
}

/* --- evaluation --------------------------------------------------------- */

/* The state of r for the target on line, and why, are st and want. */
static void
want_state(const char *line, const struct result *r, const char *warn,
    const char *crit, enum check_state st, const char *want)
{
	struct check_thresholds th;
	struct target t;
	enum check_state got;
	char why[256];

	parse(&t, line);
	thresholds(&th, warn, crit);
	got = check_evaluate(&t, r, &th, why, sizeof(why));
	target_clear(&t);
	if (got != st || strcmp(why, want) != 0)
		fail_msg("\"%s\" against %s/%s: %s \"%s\", want %s \"%s\"",
		    line, warn != NULL ? warn : "-", crit != NULL ? crit : "-",
		    check_state_name(got), why, check_state_name(st), want);
}

/* A threshold is the range 0..T: the latency alerts above T, not at T. */
static void
test_evaluate_latency_edges(void **state)
{
	const char *tcp = "tcp://127.0.0.1:22";
	struct result r;

	(void)state;
	tcp_up(&r, MS(200));
	want_state(tcp, &r, "200ms", "500ms", CHECK_OK, "");
	tcp_up(&r, MS(200) + 1);
	want_state(tcp, &r, "200ms", "500ms", CHECK_WARNING,
	    "latency over 200ms");
	tcp_up(&r, MS(500));
	want_state(tcp, &r, "200ms", "500ms", CHECK_WARNING,
	    "latency over 200ms");
	tcp_up(&r, MS(500) + 1);
	want_state(tcp, &r, "200ms", "500ms", CHECK_CRITICAL,
	    "latency over 500ms");
	/* No thresholds, or a critical one alone. */
	want_state(tcp, &r, NULL, NULL, CHECK_OK, "");
	want_state(tcp, &r, NULL, "1s", CHECK_OK, "");
	want_state(tcp, &r, NULL, "500ms", CHECK_CRITICAL,
	    "latency over 500ms");
	/* 0ms: any time at all is too slow. */
	tcp_up(&r, 1);
	want_state(tcp, &r, "0ms", NULL, CHECK_WARNING, "latency over 0s");
	tcp_up(&r, 0);
	want_state(tcp, &r, "0ms", NULL, CHECK_OK, "");
}

/* ICMP: the rta is the latency; loss is compared exactly, not rounded. */
static void
test_evaluate_icmp(void **state)
{
	const char *icmp = "icmp://127.0.0.1";
	struct result r;

	(void)state;
	icmp_result(&r, 3, 3, MS(150));
	want_state(icmp, &r, "200ms,5%", "500ms,20%", CHECK_OK, "");
	icmp_result(&r, 3, 3, MS(300));
	want_state(icmp, &r, "200ms,5%", "500ms,20%", CHECK_WARNING,
	    "rta over 200ms");
	/* The duration of the probe is not its latency. */
	r.rtt_avg_us = MS(10);
	r.duration_us = MS(900);
	want_state(icmp, &r, "200ms", "500ms", CHECK_OK, "");
	/* One of three lost: 33.333...%. */
	icmp_result(&r, 3, 2, MS(1));
	want_state(icmp, &r, "33.33%", NULL, CHECK_WARNING, "loss over 33.33%");
	want_state(icmp, &r, "33.34%", NULL, CHECK_OK, "");
	want_state(icmp, &r, "5%", "20%", CHECK_CRITICAL, "loss over 20%");
	/* Both parts crossed at once. */
	icmp_result(&r, 4, 2, MS(800));
	want_state(icmp, &r, NULL, "500ms,20%", CHECK_CRITICAL,
	    "rta over 500ms, loss over 20%");
	/* Exactly at the threshold is within it. */
	want_state(icmp, &r, NULL, "800ms,50%", CHECK_OK, "");
	/* 100% never alerts; 0% alerts on any loss. */
	want_state(icmp, &r, "0%", "100%", CHECK_WARNING, "loss over 0%");
	icmp_result(&r, 4, 4, MS(1));
	want_state(icmp, &r, "0%", NULL, CHECK_OK, "");
}

/* Down is CRITICAL whatever the thresholds; pulse's own trouble UNKNOWN. */
static void
test_evaluate_failed(void **state)
{
	struct result r;

	(void)state;
	fresh(&r);
	result_fail(&r, REASON_REFUSED, "connection refused");
	want_state("tcp://127.0.0.1:1", &r, NULL, NULL, CHECK_CRITICAL,
	    "refused: connection refused");
	icmp_result(&r, 3, 0, 0);
	want_state("icmp://127.0.0.1", &r, NULL, "100%", CHECK_CRITICAL,
	    "timeout: no echo reply (3 sent)");
	fresh(&r);
	result_fail(&r, REASON_DNS, "cannot resolve");
	want_state("http://127.0.0.1/", &r, NULL, NULL, CHECK_CRITICAL,
	    "dns: cannot resolve");
	fresh(&r);
	result_fail(&r, REASON_PERMISSION, "icmp: permission denied");
	want_state("icmp://127.0.0.1", &r, NULL, NULL, CHECK_UNKNOWN,
	    "permission: icmp: permission denied");
	fresh(&r);
	result_fail(&r, REASON_CRASH, "worker killed by signal 11");
	want_state("tcp://127.0.0.1:22", &r, NULL, NULL, CHECK_UNKNOWN,
	    "crash: worker killed by signal 11");
	assert_string_equal(check_state_name(CHECK_OK), "OK");
	assert_string_equal(check_state_name(CHECK_WARNING), "WARNING");
	assert_string_equal(check_state_name(CHECK_CRITICAL), "CRITICAL");
	assert_string_equal(check_state_name(CHECK_UNKNOWN), "UNKNOWN");
}

/* --- performance data --------------------------------------------------- */

static void
want_label(const char *label, const char *want)
{
	char buf[64];

	assert_int_equal(check_perf_label(buf, sizeof(buf), label),
	    (int)strlen(want));
	assert_string_equal(buf, want);
}

/* Quotes only when a space, "=" or "'" needs them; "'" is doubled. */
static void
test_perf_label(void **state)
{
	char buf[8];

	(void)state;
	want_label("time", "time");
	want_label("cert_days_left", "cert_days_left");
	want_label("a b", "'a b'");
	want_label("a=b", "'a=b'");
	want_label("it's", "'it''s'");
	want_label("'", "''''");
	want_label("100%", "100%");
	/* A line end or "|" would cut the data short. */
	want_label("a|b", "a_b");
	want_label("a\nb c", "'a_b c'");
	assert_int_equal(check_perf_label(buf, sizeof(buf), ""), -1);
	assert_int_equal(check_perf_label(buf, sizeof(buf), "12345678"), -1);
	assert_int_equal(check_perf_label(buf, sizeof(buf), "1234567"), 7);
}

static void
test_perf_datum(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(check_perf_datum(buf, sizeof(buf), "time", "0.5", "s",
	                     "0.2", "0.4", "0", "5"),
	    (int)strlen("time=0.5s;0.2;0.4;0;5"));
	assert_string_equal(buf, "time=0.5s;0.2;0.4;0;5");
	/* Empty fields at the end go; those before a value stay. */
	check_perf_datum(buf, sizeof(buf), "size", "14", "B", NULL, NULL, "0",
	    NULL);
	assert_string_equal(buf, "size=14B;;;0");
	check_perf_datum(buf, sizeof(buf), "n", "3", NULL, NULL, NULL, NULL,
	    NULL);
	assert_string_equal(buf, "n=3");
	check_perf_datum(buf, sizeof(buf), "pl", "0", "%", "", "20", "", "");
	assert_string_equal(buf, "pl=0%;;20");
	check_perf_datum(buf, sizeof(buf), "a b", "1", "c", NULL, NULL, NULL,
	    "9");
	assert_string_equal(buf, "'a b'=1c;;;;9");
	assert_int_equal(check_perf_datum(buf, 10, "time", "0.5", "s", "0.2",
	                     NULL, NULL, NULL),
	    -1);
}

static char *
perf(const char *line, const struct result *r, const char *warn,
    const char *crit)
{
	static char buf[1024];
	struct check_thresholds th;
	struct target t;

	parse(&t, line);
	thresholds(&th, warn, crit);
	assert_true(check_perf_data(buf, sizeof(buf), &t, r, &th,
	                DEFAULT_TIMEOUT_US) > 0);
	target_clear(&t);
	return buf;
}

/* time always, in seconds, with the timeout as its maximum. */
static void
test_perf_tcp(void **state)
{
	struct result r;

	(void)state;
	tcp_up(&r, 310);
	assert_string_equal(perf("tcp://127.0.0.1:22", &r, "200ms", "500ms"),
	    "time=0.000310s;0.200000;0.500000;0;5.000000");
	assert_string_equal(perf("tcp://127.0.0.1:22 timeout=2s", &r, NULL,
	                        "1.5s"),
	    "time=0.000310s;;1.500000;0;2.000000");
	tcp_up(&r, 12 * USEC_PER_SEC + 5);
	assert_string_equal(perf("tcp://127.0.0.1:22", &r, NULL, NULL),
	    "time=12.000005s;;;0;5.000000");
}

/* rta, pl, rtmax and rtmin as check_icmp writes them, in ms and %. */
static void
test_perf_icmp(void **state)
{
	struct result r;

	(void)state;
	icmp_result(&r, 3, 2, 44);
	assert_string_equal(perf("icmp://127.0.0.1", &r, "200ms,5%",
	                        "500ms,20%"),
	    "time=0.200000s;;;0;5.000000 rta=0.044ms;200.000;500.000;0 "
	    "pl=33.33%;5;20;0;100 rtmax=0.088ms;;;0 rtmin=0.022ms;;;0");
	icmp_result(&r, 3, 3, 1500);
	assert_string_equal(perf("icmp://127.0.0.1", &r, NULL, "2.5%"),
	    "time=0.200000s;;;0;5.000000 rta=1.500ms;;;0 pl=0%;;2.5;0;100 "
	    "rtmax=3.000ms;;;0 rtmin=0.750ms;;;0");
	/* No reply: no round trip to speak of, and 100% lost. */
	icmp_result(&r, 3, 0, 0);
	assert_string_equal(perf("icmp://127.0.0.1", &r, NULL, NULL),
	    "time=0.200000s;;;0;5.000000 pl=100%;;;0;100");
	icmp_result(&r, 3, 1, 1);
	assert_string_equal(perf("icmp://127.0.0.1", &r, NULL, NULL),
	    "time=0.200000s;;;0;5.000000 rta=0.001ms;;;0 pl=66.67%;;;0;100 "
	    "rtmax=0.002ms;;;0 rtmin=0.000ms;;;0");
}

/* size, connect, ttfb and the certificate's days, when known. */
static void
test_perf_http(void **state)
{
	struct result r;

	(void)state;
	fresh(&r);
	r.success = true;
	r.duration_us = 12345;
	r.dns_us = 100;
	r.connect_us = 200;
	r.http.tls_us = 3000;
	r.http.processing_us = 4000;
	r.http.transfer_us = 45;
	r.http.status = 200;
	r.http.version = 11;
	r.http.content_length = 14;
	/* 401 days and a bit after the end of the probe. */
	r.http.cert_not_after = START_US / USEC_PER_SEC + 401 * 86400 + 600;
	assert_string_equal(perf("https://127.0.0.1:8443/", &r, "1s", NULL),
	    "time=0.012345s;1.000000;;0;5.000000 size=14B;;;0 "
	    "connect=0.000200s;;;0 ttfb=0.007300s;;;0 cert_days_left=401");
	/* Expired an hour ago: -1 day, as in the JSON result. */
	r.http.cert_not_after = START_US / USEC_PER_SEC - 3600;
	assert_non_null(strstr(perf("https://127.0.0.1:8443/", &r, NULL, NULL),
	    " cert_days_left=-1"));
	/* No answer: no size, no ttfb. */
	fresh(&r);
	result_fail(&r, REASON_REFUSED, "connection refused");
	r.duration_us = 150;
	r.dns_us = 0;
	assert_string_equal(perf("http://127.0.0.1:8080/", &r, NULL, NULL),
	    "time=0.000150s;;;0;5.000000");
}

/* --- output ------------------------------------------------------------- */

static char *
plugin_output(const char *line, const struct result *r, const char *warn,
    const char *crit, enum check_state want)
{
	struct check_thresholds th;
	struct target t;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	parse(&t, line);
	thresholds(&th, warn, crit);
	assert_int_equal(check_plugin_write(f, &t, r, &th, DEFAULT_TIMEOUT_US),
	    want);
	assert_int_equal(fclose(f), 0);
	target_clear(&t);
	return text;
}

static void
want_plugin(const char *line, const struct result *r, const char *warn,
    const char *crit, enum check_state st, const char *want)
{
	char *text = plugin_output(line, r, warn, crit, st);

	if (strcmp(text, want) != 0)
		fail_msg("output of \"%s\":\n%s\nwant:\n%s", line, text, want);
	free(text);
}

/* The status line, "|", the data; then the details as long text. */
static void
test_plugin_tcp(void **state)
{
	struct result r;

	(void)state;
	tcp_up(&r, 310);
	want_plugin("tcp://127.0.0.1:22", &r, "200ms", "500ms", CHECK_OK,
	    "PULSE OK - tcp://127.0.0.1:22 up in 0.31 ms | "
	    "time=0.000310s;0.200000;0.500000;0;5.000000\n"
	    "  address   127.0.0.1\n"
	    "  connect   0.3 ms\n");
	tcp_up(&r, MS(250));
	want_plugin("tcp://127.0.0.1:22 name=ssh", &r, "200ms", "500ms",
	    CHECK_WARNING,
	    "PULSE WARNING - tcp://127.0.0.1:22 up in 250.00 ms, latency over "
	    "200ms | time=0.250000s;0.200000;0.500000;0;5.000000\n"
	    "  name      ssh\n"
	    "  address   127.0.0.1\n"
	    "  connect   250.0 ms\n");
	fresh(&r);
	result_fail(&r, REASON_REFUSED, "connection refused");
	r.duration_us = 120;
	want_plugin("tcp://127.0.0.1:1", &r, NULL, NULL, CHECK_CRITICAL,
	    "PULSE CRITICAL - tcp://127.0.0.1:1 down: refused: connection "
	    "refused (after 0.12 ms) | time=0.000120s;;;0;5.000000\n");
	fresh(&r);
	result_fail(&r, REASON_PERMISSION, "icmp: permission denied");
	want_plugin("icmp://127.0.0.1", &r, NULL, NULL, CHECK_UNKNOWN,
	    "PULSE UNKNOWN - icmp://127.0.0.1: permission: icmp: permission "
	    "denied (after 0.00 ms) | time=0.000000s;;;0;5.000000 "
	    "pl=100%;;;0;100\n"
	    "  echo      0 sent, 0 received\n");
}

static void
test_plugin_icmp_http(void **state)
{
	struct result r;

	(void)state;
	icmp_result(&r, 4, 2, 44);
	want_plugin("icmp://127.0.0.1", &r, "200ms,5%", "500ms,20%",
	    CHECK_CRITICAL,
	    "PULSE CRITICAL - icmp://127.0.0.1 up: rta 0.044 ms, lost 50%, "
	    "loss over 20% | time=0.200000s;;;0;5.000000 "
	    "rta=0.044ms;200.000;500.000;0 pl=50%;5;20;0;100 "
	    "rtmax=0.088ms;;;0 rtmin=0.022ms;;;0\n"
	    "  address   127.0.0.1\n"
	    "  echo      4 sent, 2 received, rtt min/avg/max "
	    "0.022/0.044/0.088 ms, ttl 64\n");
	fresh(&r);
	r.success = true;
	r.duration_us = 3210;
	r.dns_us = 0;
	r.connect_us = 100;
	r.http.processing_us = 3000;
	r.http.transfer_us = 10;
	r.http.status = 200;
	r.http.version = 11;
	r.http.content_length = 14;
	want_plugin("http://127.0.0.1:8080/", &r, NULL, NULL, CHECK_OK,
	    "PULSE OK - http://127.0.0.1:8080/ up in 3.21 ms, status 200, 14 "
	    "bytes | time=0.003210s;;;0;5.000000 size=14B;;;0 "
	    "connect=0.000100s;;;0 ttfb=0.003100s;;;0\n"
	    "  response  HTTP/1.1 200, 14 bytes\n"
	    "  phases    resolve 0.0 ms, connect 0.1 ms, processing 3.0 ms, "
	    "transfer 0.0 ms\n");
}

/* Nothing from the network can end the line, start the data, or reach a
 * terminal: control bytes become "?", a "|" is %7C. */
static void
test_plugin_sanitized(void **state)
{
	struct result r;
	char *text;

	(void)state;
	fresh(&r);
	result_fail(&r, REASON_PROTOCOL, "bad\nheader \x1b[31m|x\x7f\xc2\x85");
	r.duration_us = 1000;
	text = plugin_output("http://127.0.0.1:8080/", &r, NULL, NULL,
	    CHECK_CRITICAL);
	assert_string_equal(text,
	    "PULSE CRITICAL - http://127.0.0.1:8080/ down: protocol: "
	    "bad?header ?[31m%7Cx?? (after 1.00 ms) | "
	    "time=0.001000s;;;0;5.000000\n"
	    "  phases    none reached\n");
	free(text);
	/* Broken UTF-8 shows as "?" too. */
	fresh(&r);
	result_fail(&r, REASON_PROTOCOL, "caf\xc3 \xff");
	r.duration_us = 1000;
	text = plugin_output("http://127.0.0.1:8080/", &r, NULL, NULL,
	    CHECK_CRITICAL);
	assert_non_null(strstr(text, "protocol: caf? ? (after"));
	free(text);
}

/* However long the URL, the output stays within 4 KiB, in whole lines,
 * with the data on the status line. */
static void
test_plugin_bounded(void **state)
{
	char url[TARGET_URL_MAX], *text, *nl;
	struct result r;
	size_t n;

	(void)state;
	memcpy(url, "http://127.0.0.1:8080/", 22);
	memset(url + 22, 'a', 3900);
	url[3922] = '\0';
	fresh(&r);
	result_fail(&r, REASON_STATUS, "status 500, expected 2xx");
	r.duration_us = 1000;
	r.http.status = 500;
	r.http.version = 11;
	r.http.redirects = 1;
	r.http.final_url = xstrdup(url);
	text = plugin_output(url, &r, NULL, NULL, CHECK_CRITICAL);
	n = strlen(text);
	assert_true(n < CHECK_PLUGIN_OUTPUT_MAX);
	assert_int_equal(text[n - 1], '\n');
	nl = strchr(text, '\n');
	assert_true(nl - text < 400);
	assert_non_null(strstr(text, "aaa... down: status: status 500"));
	assert_non_null(strstr(text,
	    " | time=0.001000s;;;0;5.000000 "
	    "size=0B;;;0\n"));
	/* The redirect line, near 4 KiB long, would not fit: it is left out. */
	assert_null(strstr(nl, "redirects"));
	free(text);
	result_release(&r);
}

static void
test_plugin_unknown(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	check_plugin_unknown(f, "--warning 5x: unknown unit\n|");
	assert_int_equal(fclose(f), 0);
	assert_string_equal(text,
	    "PULSE UNKNOWN - --warning 5x: unknown unit?%7C\n");
	free(text);
}

/* The text report of r against warn and crit is want, in state st. */
static void
want_threshold_text(const struct result *r, const char *warn, const char *crit,
    enum check_state st, const char *want)
{
	struct check_thresholds th;
	struct target t;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	parse(&t, "tcp://127.0.0.1:22");
	thresholds(&th, warn, crit);
	assert_int_equal(check_threshold_text(f, &t, r, &th,
	                     DEFAULT_TIMEOUT_US),
	    st);
	assert_int_equal(fclose(f), 0);
	target_clear(&t);
	if (strcmp(text, want) != 0)
		fail_msg("text report:\n%s\nwant:\n%s", text, want);
	free(text);
}

/* The "threshold" member check_threshold_json() adds is want. */
static void
want_threshold_json(const struct result *r, const char *warn, const char *crit,
    enum check_state st, const char *want)
{
	struct check_thresholds th;
	struct target t;
	json_object *o = json_object_new_object();

	parse(&t, "tcp://127.0.0.1:22");
	thresholds(&th, warn, crit);
	assert_int_equal(check_threshold_json(o, &t, r, &th), st);
	assert_string_equal(json_object_to_json_string_ext(o,
	                        JSON_C_TO_STRING_PLAIN),
	    want);
	json_object_put(o);
	target_clear(&t);
}

/* Without --plugin: a critical threshold crossed makes the verdict DOWN;
 * a warning adds a line; JSON gains a "threshold" member. */
static void
test_threshold_text_json(void **state)
{
	struct result r;

	(void)state;
	tcp_up(&r, MS(300));
	want_threshold_text(&r, "200ms", "250ms", CHECK_CRITICAL,
	    "DOWN  tcp://127.0.0.1:22: critical threshold: latency over 250ms "
	    "(after 300.0 ms)\n"
	    "  address   127.0.0.1\n"
	    "  connect   300.0 ms\n");
	want_threshold_text(&r, "200ms", "1s", CHECK_WARNING,
	    "UP    tcp://127.0.0.1:22 in 300.0 ms\n"
	    "  address   127.0.0.1\n"
	    "  connect   300.0 ms\n"
	    "  warning   latency over 200ms\n");
	want_threshold_text(&r, "1s", "2s", CHECK_OK,
	    "UP    tcp://127.0.0.1:22 in 300.0 ms\n"
	    "  address   127.0.0.1\n"
	    "  connect   300.0 ms\n");
	want_threshold_json(&r, "200ms", "1s", CHECK_WARNING,
	    "{\"threshold\":{\"state\":\"warning\","
	    "\"message\":\"latency over 200ms\"}}");
	want_threshold_json(&r, "200ms", "250ms", CHECK_CRITICAL,
	    "{\"threshold\":{\"state\":\"critical\","
	    "\"message\":\"latency over 250ms\"}}");
	want_threshold_json(&r, "1s", NULL, CHECK_OK,
	    "{\"threshold\":{\"state\":\"ok\",\"message\":null}}");
	/* A target that is down reads as it always has. */
	fresh(&r);
	result_fail(&r, REASON_REFUSED, "connection refused");
	r.duration_us = 300;
	want_threshold_text(&r, "0ms", "0ms", CHECK_CRITICAL,
	    "DOWN  tcp://127.0.0.1:22: refused: connection refused "
	    "(after 0.3 ms)\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_thresholds_check),
	    cmocka_unit_test(test_evaluate_latency_edges),
	    cmocka_unit_test(test_evaluate_icmp),
	    cmocka_unit_test(test_evaluate_failed),
	    cmocka_unit_test(test_perf_label),
	    cmocka_unit_test(test_perf_datum),
	    cmocka_unit_test(test_perf_tcp),
	    cmocka_unit_test(test_perf_icmp),
	    cmocka_unit_test(test_perf_http),
	    cmocka_unit_test(test_plugin_tcp),
	    cmocka_unit_test(test_plugin_icmp_http),
	    cmocka_unit_test(test_plugin_sanitized),
	    cmocka_unit_test(test_plugin_bounded),
	    cmocka_unit_test(test_plugin_unknown),
	    cmocka_unit_test(test_threshold_text_json),
	};

	log_init("test_check_plugin", LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
