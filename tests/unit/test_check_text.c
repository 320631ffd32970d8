/* Unit tests for check_text.c: the report "pulse check" prints. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check_text.h"
#include "log.h"
#include "result.h"
#include "target.h"
#include "util.h"

#define START_US (1764081589LL * USEC_PER_SEC + 123456) /* 14:39:49.123 */
#define DEFAULT_TIMEOUT_US (5 * USEC_PER_SEC)

/* Parse line into t or fail the test. */
static void
parse(struct target *t, const char *line)
{
	char err[256] = "";

	if (target_parse_line(line, strlen(line), t, err, sizeof(err)) != 1)
		fail_msg("\"%s\": %s", line, err);
}

/* A result begun at START_US that nothing has happened to yet. */
static void
fresh(struct result *r)
{
	result_init(r);
	r->start_us = START_US;
}

/* The report of r for the target on line; the caller frees it. */
static char *
render(const char *line, const struct result *r)
{
	struct target t;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	parse(&t, line);
	check_text_write(f, &t, r, DEFAULT_TIMEOUT_US);
	assert_int_equal(fclose(f), 0);
	target_clear(&t);
	assert_non_null(text);
	return text;
}

/* The report of r for line is exactly want. */
static void
want_text(const char *line, const struct result *r, const char *want)
{
	char *text = render(line, r);

	if (strcmp(text, want) != 0)
		fail_msg("report of \"%s\":\n%s\nwant:\n%s", line, text, want);
	free(text);
}

/* An HTTP probe that is up: the verdict with its time, then its name,
 * address, response with the body's verdict, and the phases reached;
 * no TLS line for http://. */
static void
test_http_up(void **state)
{
	struct result r;

	fresh(&r);
	r.success = true;
	r.duration_us = 12345;
	snprintf(r.address, sizeof(r.address), "127.0.0.1");
	r.dns_us = 100;
	r.connect_us = 200;
	r.http.status = 200;
	r.http.version = 11;
	r.http.content_length = 42;
	r.http.body_matched = 1;
	r.http.processing_us = 3000;
	r.http.transfer_us = 400;
	want_text("http://127.0.0.1:8080/health name=web", &r,
	    "UP    http://127.0.0.1:8080/health in 12.3 ms\n"
	    "  name      web\n"
	    "  address   127.0.0.1\n"
	    "  response  HTTP/1.1 200, 42 bytes, body matched\n"
	    "  phases    resolve 0.1 ms, connect 0.2 ms, processing 3.0 ms, "
	    "transfer 0.4 ms\n");
}

/* An HTTPS probe that is down: reason and message on the verdict line,
 * the redirects with the final URL, all five phases, and the TLS
 * session with the days until the certificate expires; the password
 * never shows. */
static void
test_https_down(void **state)
{
	struct result r;
	char *text;

	fresh(&r);
	result_fail(&r, REASON_STATUS, "status 404, expected 2xx");
	r.duration_us = 5000;
	snprintf(r.address, sizeof(r.address), "::1");
	r.dns_us = 1000;
	r.connect_us = 2000;
	r.http.tls_us = 3000;
	r.http.processing_us = 4000;
	r.http.transfer_us = 500;
	r.http.status = 404;
	r.http.version = 20;
	r.http.content_length = 9;
	r.http.redirects = 2;
	r.http.final_url = xstrdup("https://u:xxxxx@www.example.test/login");
	snprintf(r.http.tls_version, sizeof(r.http.tls_version), "TLSv1.3");
	snprintf(r.http.tls_cipher, sizeof(r.http.tls_cipher),
	    "TLS_AES_256_GCM_SHA384");
	r.http.cert_not_after = 1798761600; /* 2027-01-01T00:00:00Z */
	want_text("https://u:pw@www.example.test/app", &r,
	    "DOWN  https://u:xxxxx@www.example.test/app: status: status 404, "
	    "expected 2xx (after 5.0 ms)\n"
	    "  address   ::1\n"
	    "  response  HTTP/2 404, 9 bytes\n"
	    "  redirects 2, to https://u:xxxxx@www.example.test/login\n"
	    "  phases    resolve 1.0 ms, connect 2.0 ms, tls 3.0 ms, "
	    "processing 4.0 ms, transfer 0.5 ms\n"
	    "  tls       TLSv1.3 TLS_AES_256_GCM_SHA384, certificate expires "
	    "2027-01-01 (401 days)\n");
	text = render("https://u:pw@www.example.test/app", &r);
	assert_null(strstr(text, ":pw@"));
	free(text);
	result_release(&r);
}

/* A body that fails match= says so on the response line. */
static void
test_http_body_did_not_match(void **state)
{
	struct result r;

	fresh(&r);
	result_fail(&r, REASON_MATCH, "body does not match 'ok'");
	r.duration_us = 2000;
	snprintf(r.address, sizeof(r.address), "127.0.0.1");
	r.dns_us = 0;
	r.connect_us = 100;
	r.http.status = 200;
	r.http.version = 10;
	r.http.content_length = 12;
	r.http.body_matched = 0;
	r.http.processing_us = 1000;
	r.http.transfer_us = 0;
	want_text("http://127.0.0.1/ match=ok", &r,
	    "DOWN  http://127.0.0.1/: match: body does not match 'ok' "
	    "(after 2.0 ms)\n"
	    "  address   127.0.0.1\n"
	    "  response  HTTP/1.0 200, 12 bytes, body did not match\n"
	    "  phases    resolve 0.0 ms, connect 0.1 ms, processing 1.0 ms, "
	    "transfer 0.0 ms\n");
}

/* No response: no response line, only the phases reached; a redirect
 * count without a final URL names the target itself. */
static void
test_http_no_response(void **state)
{
	struct result r;

	fresh(&r);
	result_fail(&r, REASON_TIMEOUT, "timed out waiting for the response");
	r.duration_us = 300 * USEC_PER_MSEC;
	snprintf(r.address, sizeof(r.address), "127.0.0.1");
	r.dns_us = 0;
	r.connect_us = 200;
	r.http.redirects = 1;
	want_text("http://127.0.0.1/slow", &r,
	    "DOWN  http://127.0.0.1/slow: timeout: timed out waiting for the "
	    "response (after 300.0 ms)\n"
	    "  address   127.0.0.1\n"
	    "  redirects 1, to http://127.0.0.1/slow\n"
	    "  phases    resolve 0.0 ms, connect 0.2 ms\n");
}

/* A probe that reached nothing says so, with no address. */
static void
test_http_nothing_reached(void **state)
{
	struct result r;

	fresh(&r);
	result_fail(&r, REASON_DNS, "cannot resolve www.example.test");
	r.duration_us = 1500;
	want_text("https://www.example.test/", &r,
	    "DOWN  https://www.example.test/: dns: cannot resolve "
	    "www.example.test (after 1.5 ms)\n"
	    "  phases    none reached\n");
}

/* An expired certificate counts its days since, and one with no expiry
 * known shows only the session. */
static void
test_https_certificate_expired(void **state)
{
	struct result r;

	fresh(&r);
	result_fail(&r, REASON_TLS, "certificate has expired");
	r.duration_us = 1000;
	snprintf(r.http.tls_version, sizeof(r.http.tls_version), "TLSv1.2");
	snprintf(r.http.tls_cipher, sizeof(r.http.tls_cipher),
	    "ECDHE-RSA-AES128-GCM-SHA256");
	r.http.cert_not_after = START_US / USEC_PER_SEC - 3 * 86400 - 10;
	want_text("https://127.0.0.1/", &r,
	    "DOWN  https://127.0.0.1/: tls: certificate has expired "
	    "(after 1.0 ms)\n"
	    "  phases    none reached\n"
	    "  tls       TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256, certificate "
	    "expires 2025-11-22 (expired 3 days)\n");

	r.http.cert_not_after = 0;
	want_text("https://127.0.0.1/", &r,
	    "DOWN  https://127.0.0.1/: tls: certificate has expired "
	    "(after 1.0 ms)\n"
	    "  phases    none reached\n"
	    "  tls       TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256\n");
}

/* An ICMP probe reports its echoes and round trips. */
static void
test_icmp(void **state)
{
	struct result r;

	fresh(&r);
	r.success = true;
	r.duration_us = 2000;
	snprintf(r.address, sizeof(r.address), "127.0.0.1");
	r.sent = r.received = 3;
	r.rtt_min_us = 50;
	r.rtt_avg_us = 60;
	r.rtt_max_us = 70;
	r.reply_ttl = 64;
	want_text("127.0.0.1 count=3", &r,
	    "UP    icmp://127.0.0.1 in 2.0 ms\n"
	    "  address   127.0.0.1\n"
	    "  echo      3 sent, 3 received, rtt min/avg/max "
	    "0.050/0.060/0.070 ms, ttl 64\n");

	r.received = 2;
	r.duplicates = 1;
	want_text("127.0.0.1 count=3", &r,
	    "UP    icmp://127.0.0.1 in 2.0 ms\n"
	    "  address   127.0.0.1\n"
	    "  echo      3 sent, 2 received, 1 duplicates, rtt min/avg/max "
	    "0.050/0.060/0.070 ms, ttl 64\n");

	fresh(&r);
	result_fail(&r, REASON_TIMEOUT, "no reply");
	r.duration_us = 3 * USEC_PER_SEC;
	snprintf(r.address, sizeof(r.address), "::1");
	r.sent = 3;
	want_text("icmp://[::1] count=3 name=\"v6 loopback\"", &r,
	    "DOWN  icmp://[::1]: timeout: no reply (after 3000.0 ms)\n"
	    "  name      v6 loopback\n"
	    "  address   ::1\n"
	    "  echo      3 sent, 0 received\n");
}

/* A TCP probe reports its connect time when it connected. */
static void
test_tcp(void **state)
{
	struct result r;

	fresh(&r);
	r.success = true;
	r.duration_us = 1234;
	snprintf(r.address, sizeof(r.address), "127.0.0.1");
	r.connect_us = 1000;
	want_text("127.0.0.1:22 name=ssh", &r,
	    "UP    tcp://127.0.0.1:22 in 1.2 ms\n"
	    "  name      ssh\n"
	    "  address   127.0.0.1\n"
	    "  connect   1.0 ms\n");

	fresh(&r);
	result_fail(&r, REASON_REFUSED, "connection refused");
	r.duration_us = 300;
	snprintf(r.address, sizeof(r.address), "::1");
	want_text("[::1]:22", &r,
	    "DOWN  tcp://[::1]:22: refused: connection refused "
	    "(after 0.3 ms)\n"
	    "  address   ::1\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_up),
	    cmocka_unit_test(test_https_down),
	    cmocka_unit_test(test_http_body_did_not_match),
	    cmocka_unit_test(test_http_no_response),
	    cmocka_unit_test(test_http_nothing_reached),
	    cmocka_unit_test(test_https_certificate_expired),
	    cmocka_unit_test(test_icmp),
	    cmocka_unit_test(test_tcp),
	};

	log_init("test_check_text", LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
