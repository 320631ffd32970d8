/*
 * Unit tests for http_error.c: libcurl's result codes become pulse's
 * reasons and plain messages.  A real easy handle is used, never run, so
 * nothing here touches the network.
 */
#include "config.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_error.h"
#include "log.h"
#include "result.h"
#include "target.h"
#include "util.h"

/* libcurl's words for a redirect to a scheme it was told not to follow. */
#define FILE_REFUSED "Protocol \"file\" not supported or disabled in libcurl"

/* Classify rc for the target on line, with libcurl's message errbuf. */
static void
classify(const char *line, CURLcode rc, enum http_abort why, const char *errbuf,
    struct result *r)
{
	struct http_seen seen = {.abort = why};
	struct target t;
	char err[256] = "";
	CURL *easy = curl_easy_init();

	assert_non_null(easy);
	if (target_parse_line(line, strlen(line), &t, err, sizeof(err)) != 1)
		fail_msg("\"%s\": %s", line, err);
	result_init(r);
	http_error_classify(easy, &t, rc, &seen, errbuf, r);
	target_clear(&t);
	curl_easy_cleanup(easy);
}

/* Fail unless r is down for reason with exactly the message want. */
static void
want(const struct result *r, enum reason reason, const char *msg)
{
	assert_false(r->success);
	if (r->reason != reason || strcmp(r->error, msg) != 0)
		fail_msg("got %s: \"%s\", want %s: \"%s\"",
		    reason_name(r->reason), r->error, reason_name(reason), msg);
}

/* Too many redirects is a protocol failure that says how many follow=
 * allowed, five by default. */
static void
test_too_many_redirects(void **state)
{
	struct result r;

	classify("http://127.0.0.1/ follow=3", CURLE_TOO_MANY_REDIRECTS,
	    HTTP_ABORT_NONE, "Maximum (3) redirects followed", &r);
	want(&r, REASON_PROTOCOL, "more than 3 redirects");
	classify("http://127.0.0.1/", CURLE_TOO_MANY_REDIRECTS, HTTP_ABORT_NONE,
	    "", &r);
	want(&r, REASON_PROTOCOL, "more than 5 redirects");
	classify("http://127.0.0.1/ follow=20", CURLE_TOO_MANY_REDIRECTS,
	    HTTP_ABORT_NONE, "", &r);
	want(&r, REASON_PROTOCOL, "more than 20 redirects");
}

/* A redirect to a scheme libcurl was told not to follow names the scheme
 * from libcurl's message, or says so plainly when it cannot. */
static void
test_unsupported_scheme(void **state)
{
	struct result r;

	classify("http://127.0.0.1/", CURLE_UNSUPPORTED_PROTOCOL,
	    HTTP_ABORT_NONE, FILE_REFUSED, &r);
	want(&r, REASON_PROTOCOL,
	    "redirect to a file: URL refused: only http and https schemes "
	    "are followed");
	classify("https://127.0.0.1/", CURLE_UNSUPPORTED_PROTOCOL,
	    HTTP_ABORT_NONE,
	    "Protocol \"gopher\" not supported or disabled in libcurl", &r);
	want(&r, REASON_PROTOCOL,
	    "redirect to a gopher: URL refused: only http and https schemes "
	    "are followed");
	/* No message: libcurl's text for the code has no quotes. */
	classify("http://127.0.0.1/", CURLE_UNSUPPORTED_PROTOCOL,
	    HTTP_ABORT_NONE, "", &r);
	want(&r, REASON_PROTOCOL,
	    "redirect to a scheme other than http or https refused");
	/* A quote left open or a name too long to be a scheme. */
	classify("http://127.0.0.1/", CURLE_UNSUPPORTED_PROTOCOL,
	    HTTP_ABORT_NONE, "Protocol \"file not supported", &r);
	want(&r, REASON_PROTOCOL,
	    "redirect to a scheme other than http or https refused");
	classify("http://127.0.0.1/", CURLE_UNSUPPORTED_PROTOCOL,
	    HTTP_ABORT_NONE, "Protocol \"abcdefghijklmnopqrstuvwxyz\" no", &r);
	want(&r, REASON_PROTOCOL,
	    "redirect to a scheme other than http or https refused");
}

/* A write error is whichever of our own limits stopped the transfer. */
static void
test_write_error(void **state)
{
	struct result r;

	classify("http://127.0.0.1/", CURLE_WRITE_ERROR, HTTP_ABORT_BODY,
	    "Failure writing output to destination", &r);
	want(&r, REASON_PROTOCOL, "body larger than max_body (1048576 bytes)");
	classify("http://127.0.0.1/ max_body=2k", CURLE_WRITE_ERROR,
	    HTTP_ABORT_BODY, "", &r);
	want(&r, REASON_PROTOCOL, "body larger than max_body (2048 bytes)");
	classify("http://127.0.0.1/", CURLE_WRITE_ERROR, HTTP_ABORT_HEADERS, "",
	    &r);
	want(&r, REASON_PROTOCOL, "response headers larger than 256 KiB");
	classify("http://127.0.0.1/", CURLE_WRITE_ERROR, HTTP_ABORT_MEMORY, "",
	    &r);
	want(&r, REASON_INTERNAL, "out of memory for the body");
	classify("http://127.0.0.1/", CURLE_WRITE_ERROR, HTTP_ABORT_NONE, "",
	    &r);
	want(&r, REASON_INTERNAL, "transfer aborted");
}

/* A name that does not resolve is a dns failure naming the host, and
 * never the password of the URL. */
static void
test_resolve(void **state)
{
	struct result r;

	classify("https://user:secret@www.example.test/",
	    CURLE_COULDNT_RESOLVE_HOST, HTTP_ABORT_NONE,
	    "Could not resolve host: www.example.test", &r);
	want(&r, REASON_DNS, "cannot resolve www.example.test");
	assert_null(strstr(r.error, "secret"));
}

/* Any other code is a protocol failure in libcurl's words, or in its
 * text for the code when it left no message; libcurl 7 running out of
 * memory means a header line past its 100 KiB. */
static void
test_default_protocol(void **state)
{
	struct result r;

	classify("http://127.0.0.1/", CURLE_RECV_ERROR, HTTP_ABORT_NONE,
	    "Malformed encoding found in chunked-encoding", &r);
	want(&r, REASON_PROTOCOL,
	    "Malformed encoding found in chunked-encoding");
	classify("http://127.0.0.1/", CURLE_GOT_NOTHING, HTTP_ABORT_NONE, "",
	    &r);
	want(&r, REASON_PROTOCOL, curl_easy_strerror(CURLE_GOT_NOTHING));
	classify("http://127.0.0.1/", CURLE_WEIRD_SERVER_REPLY, HTTP_ABORT_NONE,
	    "", &r);
	want(&r, REASON_PROTOCOL, curl_easy_strerror(CURLE_WEIRD_SERVER_REPLY));
	classify("http://127.0.0.1/", CURLE_OUT_OF_MEMORY, HTTP_ABORT_NONE,
	    "Callback aborted", &r);
	want(&r, REASON_PROTOCOL,
	    "response header too large for libcurl (Callback aborted)");
}

/* Time out on the target of line, with or without an address and an
 * established TCP connection. */
static void
time_out(const char *line, const char *address, bool tcp_up, struct result *r)
{
	struct http_seen seen = {.tcp_up = tcp_up};
	struct target t;
	char err[256] = "";
	CURL *easy = curl_easy_init();

	assert_non_null(easy);
	assert_int_equal(target_parse_line(line, strlen(line), &t, err,
	                     sizeof(err)),
	    1);
	result_init(r);
	snprintf(r->address, sizeof(r->address), "%s", address);
	http_error_classify(easy, &t, CURLE_OPERATION_TIMEDOUT, &seen,
	    "Operation timed out after 300 milliseconds", r);
	target_clear(&t);
	curl_easy_cleanup(easy);
}

/* A timeout names the phase it cut short: no address means the lookup,
 * no TCP connection the connect, then the TLS handshake of https, then
 * the wait for an answer. */
static void
test_timeout_phase(void **state)
{
	struct result r;

	time_out("https://127.0.0.1/", "", false, &r);
	want(&r, REASON_TIMEOUT, "timed out looking up the name");
	time_out("https://127.0.0.1/", "127.0.0.1", false, &r);
	want(&r, REASON_TIMEOUT, "timed out connecting");
	time_out("https://127.0.0.1/", "127.0.0.1", true, &r);
	want(&r, REASON_TIMEOUT, "timed out in the TLS handshake");
	time_out("http://127.0.0.1/", "127.0.0.1", true, &r);
	want(&r, REASON_TIMEOUT, "timed out waiting for the response");
}

/* A connect failure without an errno is unreachable, in libcurl's
 * words. */
static void
test_connect(void **state)
{
	struct result r;

	classify("http://127.0.0.1/", CURLE_COULDNT_CONNECT, HTTP_ABORT_NONE,
	    "Failed to connect to 127.0.0.1 port 80", &r);
	want(&r, REASON_UNREACHABLE, "Failed to connect to 127.0.0.1 port 80");
}

/* A certificate for another name says which name was asked for: sni=,
 * else host=, else the URL's host; other verification failures say
 * "not trusted" with libcurl's words. */
static void
test_tls_verification(void **state)
{
	static const char mismatch[] = "SSL: no alternative certificate "
	                               "subject name matches target host name "
	                               "'x'";
	struct result r;

	classify("https://127.0.0.1/", CURLE_PEER_FAILED_VERIFICATION,
	    HTTP_ABORT_NONE, mismatch, &r);
	want(&r, REASON_TLS, "certificate does not match host name 127.0.0.1");
	classify("https://127.0.0.1/ host=www.example.test",
	    CURLE_PEER_FAILED_VERIFICATION, HTTP_ABORT_NONE, mismatch, &r);
	want(&r, REASON_TLS,
	    "certificate does not match host name www.example.test");
	classify("https://127.0.0.1/ host=www.example.test "
	         "sni=sni.example.test",
	    CURLE_PEER_FAILED_VERIFICATION, HTTP_ABORT_NONE, mismatch, &r);
	want(&r, REASON_TLS,
	    "certificate does not match host name sni.example.test");
	classify("https://127.0.0.1/", CURLE_PEER_FAILED_VERIFICATION,
	    HTTP_ABORT_NONE, "SSL certificate problem: bad signature", &r);
	want(&r, REASON_TLS,
	    "certificate not trusted: SSL certificate problem: bad signature");
}

/* Handshake failures are tls, and an unusable ca= is a configuration
 * problem, each with libcurl's words. */
static void
test_tls_other(void **state)
{
	struct result r;

	classify("https://127.0.0.1/", CURLE_SSL_CONNECT_ERROR, HTTP_ABORT_NONE,
	    "wrong version number", &r);
	want(&r, REASON_TLS, "TLS handshake failed: wrong version number");
	classify("https://127.0.0.1/", CURLE_SSL_CACERT_BADFILE,
	    HTTP_ABORT_NONE, "error setting certificate file", &r);
	want(&r, REASON_CONFIG,
	    "cannot use ca=(system): error setting certificate file");
}

/* A message as long as libcurl's buffer is cut to fit, not overflowed. */
static void
test_long_message(void **state)
{
	char errbuf[CURL_ERROR_SIZE];
	struct result r;

	memset(errbuf, 'm', sizeof(errbuf) - 1);
	errbuf[sizeof(errbuf) - 1] = '\0';
	classify("https://127.0.0.1/", CURLE_SSL_CONNECT_ERROR, HTTP_ABORT_NONE,
	    errbuf, &r);
	assert_int_equal(r.reason, REASON_TLS);
	assert_int_equal(strlen(r.error), RESULT_ERROR_MAX - 1);
	assert_true(strncmp(r.error, "TLS handshake failed: mmm", 25) == 0);
}

/* What the allowlist refused is the reason, whether a redirect was cut
 * short or the last address tried was refused; a refused address that an
 * allowed one followed leaves the later failure to speak. */
static void
test_denied(void **state)
{
	struct http_seen seen = {.abort = HTTP_ABORT_DENIED};
	struct target t;
	struct result r;
	char err[256] = "";
	CURL *easy = curl_easy_init();

	(void)state;
	assert_non_null(easy);
	assert_int_equal(target_parse_line("http://h/", 9, &t, err,
	                     sizeof(err)),
	    1);
	snprintf(seen.denied, sizeof(seen.denied),
	    "redirect to 127.0.0.2 is outside the allowlist");
	result_init(&r);
	http_error_classify(easy, &t, CURLE_WRITE_ERROR, &seen, "", &r);
	want(&r, REASON_DENIED,
	    "redirect to 127.0.0.2 is outside the allowlist");
	seen.abort = HTTP_ABORT_NONE;
	seen.last_denied = true;
	result_init(&r);
	http_error_classify(easy, &t, CURLE_COULDNT_CONNECT, &seen, "", &r);
	assert_int_equal(r.reason, REASON_DENIED);
	seen.last_denied = false;
	result_init(&r);
	http_error_classify(easy, &t, CURLE_COULDNT_CONNECT, &seen,
	    "Failed to connect", &r);
	assert_int_not_equal(r.reason, REASON_DENIED);
	target_clear(&t);
	curl_easy_cleanup(easy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_too_many_redirects),
	    cmocka_unit_test(test_unsupported_scheme),
	    cmocka_unit_test(test_write_error),
	    cmocka_unit_test(test_resolve),
	    cmocka_unit_test(test_default_protocol),
	    cmocka_unit_test(test_timeout_phase),
	    cmocka_unit_test(test_connect),
	    cmocka_unit_test(test_tls_verification),
	    cmocka_unit_test(test_tls_other),
	    cmocka_unit_test(test_long_message),
	    cmocka_unit_test(test_denied),
	};
	int rc;

	log_init("test_http_error", LOG_LEVEL_WARN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 99;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
