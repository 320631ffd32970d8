/* Unit tests for output_json.c and scan_report.c: the scan document. */
#include "config.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "output_json.h"
#include "result.h"
#include "scan_report.h"
#include "target.h"
#include "util.h"

#define START_US (1764081589LL * USEC_PER_SEC + 123456) /* 14:39:49.123 */

/* Three targets: one up, one refused, one cancelled. */
struct fixture {
	struct target t[3];
	struct result r[3];
	struct scan_report rep;
};

static void
set_target(struct target *t, const char *host, uint16_t port,
    int64_t timeout_us, const char *spec, const char *name)
{
	memset(t, 0, sizeof(*t));
	t->kind = TARGET_TCP;
	t->host = xstrdup(host);
	t->port = port;
	t->timeout_us = timeout_us;
	t->spec = xstrdup(spec);
	t->name = name != NULL ? xstrdup(name) : NULL;
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	set_target(&fx->t[0], "127.0.0.1", 22, 0, "127.0.0.1:22",
	    "say \"hi\" / caf\xc3\xa9 \\ \t");
	set_target(&fx->t[1], "::1", 80, 1500 * USEC_PER_MSEC, "tcp://[::1]:80",
	    NULL);
	set_target(&fx->t[2], "localhost", 8080, 250 * USEC_PER_MSEC,
	    "localhost:8080", "web");

	result_init(&fx->r[0]);
	fx->r[0].success = true;
	snprintf(fx->r[0].address, sizeof(fx->r[0].address), "127.0.0.1");
	fx->r[0].start_us = START_US;
	fx->r[0].duration_us = 123;
	fx->r[0].connect_us = 100;

	result_init(&fx->r[1]);
	result_fail(&fx->r[1], REASON_REFUSED, "connection refused");
	snprintf(fx->r[1].address, sizeof(fx->r[1].address), "::1");
	fx->r[1].duration_us = 2 * USEC_PER_SEC + 5;

	result_init(&fx->r[2]);
	result_fail(&fx->r[2], REASON_CANCELLED,
	    "cancelled: shutting down before the probe started");
	fx->r[2].dns_us = 4000;

	fx->rep.targets = fx->t;
	fx->rep.results = fx->r;
	fx->rep.n = 3;
	fx->rep.start_us = START_US;
	fx->rep.duration_us = 2500 * USEC_PER_MSEC;
	fx->rep.default_timeout_us = 5 * USEC_PER_SEC;
	fx->rep.workers = 16;
	fx->rep.interrupted = "SIGTERM";
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	int i;

	for (i = 0; i < 3; i++)
		target_clear(&fx->t[i]);
	free(fx);
	return 0;
}

/* Write the report to memory; the caller frees the text. */
static char *
render(const struct scan_report *rep)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(output_json_write(f, rep), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(text);
	return text;
}

/* Parse text as exactly one JSON document, ending with a newline. */
static json_object *
parse_one(const char *text)
{
	struct json_tokener *tok = json_tokener_new();
	size_t len = strlen(text), end;
	json_object *doc;

	assert_non_null(tok);
	doc = json_tokener_parse_ex(tok, text, (int)len);
	if (doc == NULL)
		fail_msg("not JSON: %s",
		    json_tokener_error_desc(json_tokener_get_error(tok)));
	/* Nothing but white space after the document. */
	end = json_tokener_get_parse_end(tok);
	assert_int_equal(strspn(text + end, " \t\n"), len - end);
	assert_int_equal(text[len - 1], '\n');
	json_tokener_free(tok);
	return doc;
}

static json_object *
member(json_object *o, const char *key, json_type type)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no \"%s\"", key);
	if (!json_object_is_type(v, type))
		fail_msg("\"%s\" is %s, want %s", key,
		    json_type_to_name(json_object_get_type(v)),
		    json_type_to_name(type));
	return v;
}

static void
want_string(json_object *o, const char *key, const char *want)
{
	json_object *v = member(o, key, json_type_string);

	assert_string_equal(json_object_get_string(v), want);
}

static void
want_null(json_object *o, const char *key)
{
	member(o, key, json_type_null);
}

static void
want_int(json_object *o, const char *key, int64_t want)
{
	assert_int_equal(json_object_get_int64(member(o, key, json_type_int)),
	    want);
}

/* A number of seconds, written as an integer or a fraction. */
static void
want_seconds(json_object *o, const char *key, double want)
{
	json_object *v = NULL;
	double got;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no \"%s\"", key);
	if (!json_object_is_type(v, json_type_double) &&
	    !json_object_is_type(v, json_type_int))
		fail_msg("\"%s\" is not a number", key);
	got = json_object_get_double(v);
	if (got - want > 1e-9 || want - got > 1e-9)
		fail_msg("\"%s\": got %.9f, want %.9f", key, got, want);
}

/* The keys of o, in document order, are exactly keys[]. */
static void
want_keys(json_object *o, const char *const *keys, size_t n)
{
	size_t i = 0;

	json_object_object_foreach(o, key, val)
	{
		(void)val;
		if (i == n)
			fail_msg("unexpected key \"%s\"", key);
		assert_string_equal(key, keys[i++]);
	}
	assert_int_equal(i, n);
}

/* The top level holds the documented members, in order, with the right
 * types and values. */
static void
test_document_top(void **state)
{
	static const char *const keys[] = {
	    "version",
	    "started",
	    "duration_seconds",
	    "workers",
	    "interrupted",
	    "counts",
	    "results",
	};
	static const char *const count_keys[] = {
	    "total",
	    "up",
	    "down",
	    "cancelled",
	};
	struct fixture *fx = *state;
	json_object *doc, *counts, *results;
	char *text = render(&fx->rep);

	doc = parse_one(text);
	want_keys(doc, keys, sizeof(keys) / sizeof(keys[0]));
	want_string(doc, "version", PULSE_VERSION);
	want_string(doc, "started", "2025-11-25T14:39:49.123Z");
	want_seconds(doc, "duration_seconds", 2.5);
	want_int(doc, "workers", 16);
	want_string(doc, "interrupted", "SIGTERM");
	counts = member(doc, "counts", json_type_object);
	want_keys(counts, count_keys, 4);
	want_int(counts, "total", 3);
	want_int(counts, "up", 1);
	want_int(counts, "down", 1);
	want_int(counts, "cancelled", 1);
	results = member(doc, "results", json_type_array);
	assert_int_equal(json_object_array_length(results), 3);
	json_object_put(doc);
	free(text);
}

/* A success has null reason, error and dns time, and its own values for
 * the rest; a target without timeout= reports the run's default. */
static void
test_result_up(void **state)
{
	static const char *const keys[] = {
	    "target",
	    "name",
	    "labels",
	    "kind",
	    "host",
	    "port",
	    "success",
	    "reason",
	    "error",
	    "address",
	    "timeout_seconds",
	    "duration_seconds",
	    "dns_seconds",
	    "connect_seconds",
	};
	struct fixture *fx = *state;
	char *text = render(&fx->rep);
	json_object *doc = parse_one(text), *r;

	r = json_object_array_get_idx(member(doc, "results", json_type_array),
	    0);
	want_keys(r, keys, sizeof(keys) / sizeof(keys[0]));
	want_string(r, "target", "tcp://127.0.0.1:22");
	want_string(r, "name", "say \"hi\" / caf\xc3\xa9 \\ \t");
	want_string(r, "kind", "tcp");
	want_string(r, "host", "127.0.0.1");
	want_int(r, "port", 22);
	assert_true(
	    json_object_get_boolean(member(r, "success", json_type_boolean)));
	want_null(r, "reason");
	want_null(r, "error");
	want_string(r, "address", "127.0.0.1");
	want_seconds(r, "timeout_seconds", 5.0);
	want_seconds(r, "duration_seconds", 0.000123);
	want_null(r, "dns_seconds");
	want_seconds(r, "connect_seconds", 0.0001);
	/* Seconds are written exactly, without binary float noise. */
	assert_non_null(strstr(text, "0.000123"));
	assert_null(strstr(text, "0.00012300"));
	json_object_put(doc);
	free(text);
}

/* A refused probe names its reason and message; the target is canonical
 * and the name defaults to the target as written. */
static void
test_result_refused(void **state)
{
	struct fixture *fx = *state;
	char *text = render(&fx->rep);
	json_object *doc = parse_one(text), *r;

	r = json_object_array_get_idx(member(doc, "results", json_type_array),
	    1);
	want_string(r, "target", "tcp://[::1]:80");
	want_string(r, "name", "tcp://[::1]:80");
	want_string(r, "host", "::1");
	want_int(r, "port", 80);
	assert_false(
	    json_object_get_boolean(member(r, "success", json_type_boolean)));
	want_string(r, "reason", "refused");
	want_string(r, "error", "connection refused");
	want_string(r, "address", "::1");
	want_seconds(r, "timeout_seconds", 1.5);
	want_seconds(r, "duration_seconds", 2.000005);
	want_null(r, "dns_seconds");
	want_null(r, "connect_seconds");
	json_object_put(doc);
	free(text);
}

/* A cancelled probe has no address and keeps its dns time. */
static void
test_result_cancelled(void **state)
{
	struct fixture *fx = *state;
	char *text = render(&fx->rep);
	json_object *doc = parse_one(text), *r;

	r = json_object_array_get_idx(member(doc, "results", json_type_array),
	    2);
	want_string(r, "target", "tcp://localhost:8080");
	want_string(r, "name", "web");
	want_string(r, "reason", "cancelled");
	want_string(r, "error",
	    "cancelled: shutting down before the probe started");
	want_null(r, "address");
	want_seconds(r, "timeout_seconds", 0.25);
	want_seconds(r, "duration_seconds", 0);
	want_seconds(r, "dns_seconds", 0.004);
	want_null(r, "connect_seconds");
	json_object_put(doc);
	free(text);
}

/* An uninterrupted run says null; an empty run has an empty array and
 * zero counts. */
static void
test_not_interrupted_and_empty(void **state)
{
	struct fixture *fx = *state;
	json_object *doc, *counts, *results;
	char *text;

	fx->rep.interrupted = NULL;
	fx->rep.n = 0;
	text = render(&fx->rep);
	doc = parse_one(text);
	want_null(doc, "interrupted");
	counts = member(doc, "counts", json_type_object);
	want_int(counts, "total", 0);
	want_int(counts, "up", 0);
	want_int(counts, "down", 0);
	want_int(counts, "cancelled", 0);
	results = member(doc, "results", json_type_array);
	assert_int_equal(json_object_array_length(results), 0);
	json_object_put(doc);
	free(text);
}

/* A failing stream is reported as an error. */
static void
test_write_error(void **state)
{
	struct fixture *fx = *state;
	FILE *f = fopen("/dev/full", "w");

	if (f == NULL) {
		skip();
		return;
	}
	setvbuf(f, NULL, _IONBF, 0);
	assert_int_equal(output_json_write(f, &fx->rep), -1);
	fclose(f);
}

/* Cancelled results count apart from down ones; the three always add up
 * to the total. */
static void
test_scan_report_count(void **state)
{
	struct fixture *fx = *state;
	struct scan_counts c;

	scan_report_count(&fx->rep, &c);
	assert_int_equal(c.total, 3);
	assert_int_equal(c.up, 1);
	assert_int_equal(c.down, 1);
	assert_int_equal(c.cancelled, 1);

	/* A down result of any other reason is down, not cancelled. */
	result_fail(&fx->r[0], REASON_CRASH, "worker crashed: SIGSEGV");
	result_fail(&fx->r[2], REASON_DEADLINE, "deadline exceeded: x");
	scan_report_count(&fx->rep, &c);
	assert_int_equal(c.up, 0);
	assert_int_equal(c.down, 3);
	assert_int_equal(c.cancelled, 0);
	assert_int_equal(c.up + c.down + c.cancelled, c.total);

	fx->rep.n = 0;
	scan_report_count(&fx->rep, &c);
	assert_int_equal(c.total, 0);
	assert_int_equal(c.up + c.down + c.cancelled, 0);
}

/* Every test here runs between setup() and teardown(). */
/* ICMP results carry echo counts, the loss ratio written exactly
 * (2 of 3 answered: "0.3333"), RTT statistics, and no port. */
static void
test_result_icmp(void **state)
{
	struct fixture *fx = *state;
	json_object *doc, *res, *rtt;
	char *text;

	fx->t[0].kind = TARGET_ICMP;
	fx->t[0].port = 0;
	fx->r[0].sent = 3;
	fx->r[0].received = 2;
	fx->r[0].rtt_min_us = 10;
	fx->r[0].rtt_avg_us = 15;
	fx->r[0].rtt_max_us = 20;
	fx->r[0].rtt_stddev_us = 5;
	fx->r[0].reply_ttl = 64;
	text = render(&fx->rep);
	assert_non_null(strstr(text, "\"loss_ratio\": 0.3333,"));
	assert_non_null(strstr(text, "\"min\": 0.00001,"));
	doc = parse_one(text);
	res = json_object_array_get_idx(member(doc, "results", json_type_array),
	    0);
	assert_null(json_object_object_get(res, "port"));
	assert_null(json_object_object_get(res, "connect_seconds"));
	want_string(res, "target", "icmp://127.0.0.1");
	want_int(res, "sent", 3);
	want_int(res, "received", 2);
	want_int(res, "reply_ttl", 64);
	rtt = member(res, "rtt_seconds", json_type_object);
	want_seconds(rtt, "max", 0.00002);
	json_object_put(doc);
	free(text);
}

/* Text that must be one JSON value. */
static json_object *
parse_object(const char *text)
{
	json_object *o = json_tokener_parse(text);

	if (o == NULL)
		fail_msg("not JSON: %s", text);
	return o;
}

/* Parse line into t or fail the test. */
static void
parse_http(struct target *t, const char *line)
{
	char err[256] = "";

	if (target_parse_line(line, strlen(line), t, err, sizeof(err)) != 1)
		fail_msg("\"%s\": %s", line, err);
}

/* The members of an HTTP result, in document order. */
static const char *const http_keys[] = {
    "target",
    "name",
    "labels",
    "kind",
    "host",
    "port",
    "success",
    "reason",
    "error",
    "address",
    "timeout_seconds",
    "duration_seconds",
    "dns_seconds",
    "connect_seconds",
    "status_code",
    "http_version",
    "final_url",
    "redirects",
    "content_length",
    "body_matched",
    "phases_seconds",
    "tls",
};

static const char *const phase_keys[] = {
    "resolve",
    "connect",
    "tls",
    "processing",
    "transfer",
};

/* The result object of t and r, as text and as parsed back. */
static json_object *
http_object(const char *line, const struct result *r, char **textp)
{
	struct target t;
	json_object *o;

	parse_http(&t, line);
	o = output_json_result(&t, r, 5 * USEC_PER_SEC);
	*textp = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	target_clear(&t);
	return parse_object(*textp);
}

/* An http:// result that is up has every member of an HTTP result with
 * its JSON type: numbers, a boolean body verdict, the target itself as
 * final URL, the phases with tls null, and tls null; the password of
 * the URL shows as xxxxx everywhere. */
static void
test_result_http_up(void **state)
{
	struct result r;
	json_object *o, *phases;
	char *text;

	result_init(&r);
	r.success = true;
	snprintf(r.address, sizeof(r.address), "127.0.0.1");
	r.start_us = START_US;
	r.duration_us = 12345;
	r.dns_us = 100;
	r.connect_us = 200;
	r.http.status = 200;
	r.http.version = 11;
	r.http.content_length = 42;
	r.http.body_matched = 1;
	r.http.processing_us = 3000;
	r.http.transfer_us = 400;
	o = http_object("http://alice:pw@127.0.0.1:8080/health?x=1 name=web",
	    &r, &text);
	assert_null(strstr(text, "pw@"));
	want_keys(o, http_keys, sizeof(http_keys) / sizeof(http_keys[0]));
	want_string(o, "target",
	    "http://alice:xxxxx@127.0.0.1:8080/health?x=1");
	want_string(o, "name", "web");
	want_string(o, "kind", "http");
	want_string(o, "host", "127.0.0.1");
	want_int(o, "port", 8080);
	assert_true(
	    json_object_get_boolean(member(o, "success", json_type_boolean)));
	want_null(o, "reason");
	want_null(o, "error");
	want_string(o, "address", "127.0.0.1");
	want_seconds(o, "timeout_seconds", 5.0);
	want_seconds(o, "duration_seconds", 0.012345);
	want_seconds(o, "dns_seconds", 0.0001);
	want_seconds(o, "connect_seconds", 0.0002);
	want_int(o, "status_code", 200);
	want_string(o, "http_version", "1.1");
	want_string(o, "final_url",
	    "http://alice:xxxxx@127.0.0.1:8080/health?x=1");
	want_int(o, "redirects", 0);
	want_int(o, "content_length", 42);
	assert_true(json_object_get_boolean(
	    member(o, "body_matched", json_type_boolean)));
	phases = member(o, "phases_seconds", json_type_object);
	want_keys(phases, phase_keys, 5);
	want_seconds(phases, "resolve", 0.0001);
	want_seconds(phases, "connect", 0.0002);
	want_null(phases, "tls");
	want_seconds(phases, "processing", 0.003);
	want_seconds(phases, "transfer", 0.0004);
	want_null(o, "tls");
	json_object_put(o);
	free(text);
}

/* An https:// result that is down keeps its response: status, HTTP/2,
 * the redirects and the URL they ended at, a null body verdict without
 * patterns, and the TLS session with the certificate's expiry. */
static void
test_result_https_down(void **state)
{
	static const char *const tls_keys[] = {
	    "version",
	    "cipher",
	    "cert_not_after",
	    "cert_expiry_timestamp",
	    "cert_days_left",
	};
	struct result r;
	json_object *o, *phases, *tls;
	char *text;

	result_init(&r);
	result_fail(&r, REASON_STATUS, "status 404, expected 2xx");
	snprintf(r.address, sizeof(r.address), "::1");
	r.start_us = START_US;
	r.duration_us = 5000;
	r.dns_us = 1000;
	r.connect_us = 2000;
	r.http.tls_us = 3000;
	r.http.processing_us = 4000;
	r.http.transfer_us = 0;
	r.http.status = 404;
	r.http.version = 20;
	r.http.redirects = 2;
	r.http.content_length = 9;
	r.http.final_url = xstrdup("https://bob:xxxxx@www.example.test/login");
	snprintf(r.http.tls_version, sizeof(r.http.tls_version), "TLSv1.3");
	snprintf(r.http.tls_cipher, sizeof(r.http.tls_cipher),
	    "TLS_AES_256_GCM_SHA384");
	r.http.cert_not_after = 1798761600; /* 2027-01-01T00:00:00Z */
	o = http_object("https://bob:pw@www.example.test/app timeout=2s", &r,
	    &text);
	assert_null(strstr(text, "pw@"));
	want_keys(o, http_keys, sizeof(http_keys) / sizeof(http_keys[0]));
	want_string(o, "target", "https://bob:xxxxx@www.example.test/app");
	want_string(o, "name", "https://bob:xxxxx@www.example.test/app");
	want_string(o, "kind", "http");
	want_int(o, "port", 443);
	want_string(o, "reason", "status");
	want_string(o, "error", "status 404, expected 2xx");
	want_seconds(o, "timeout_seconds", 2.0);
	want_int(o, "status_code", 404);
	want_string(o, "http_version", "2");
	want_string(o, "final_url", "https://bob:xxxxx@www.example.test/login");
	want_int(o, "redirects", 2);
	want_int(o, "content_length", 9);
	want_null(o, "body_matched");
	phases = member(o, "phases_seconds", json_type_object);
	want_seconds(phases, "tls", 0.003);
	want_seconds(phases, "transfer", 0);
	tls = member(o, "tls", json_type_object);
	want_keys(tls, tls_keys, 5);
	want_string(tls, "version", "TLSv1.3");
	want_string(tls, "cipher", "TLS_AES_256_GCM_SHA384");
	want_string(tls, "cert_not_after", "2027-01-01T00:00:00Z");
	want_int(tls, "cert_expiry_timestamp", 1798761600);
	want_int(tls, "cert_days_left", 401);
	json_object_put(o);
	free(text);

	/* Expired an hour ago: -1 days, not 0. */
	r.http.cert_not_after = START_US / USEC_PER_SEC - 3600;
	o = http_object("https://www.example.test/", &r, &text);
	tls = member(o, "tls", json_type_object);
	want_int(tls, "cert_days_left", -1);
	want_string(tls, "cert_not_after", "2025-11-25T13:39:49Z");
	json_object_put(o);
	free(text);
	result_release(&r);
}

/* A probe that got no response has null status, version, body verdict,
 * phases and tls, and counts no bytes and no redirects. */
static void
test_result_http_no_response(void **state)
{
	struct result r;
	json_object *o, *phases;
	char *text;
	size_t i;

	result_init(&r);
	result_fail(&r, REASON_DNS, "cannot resolve www.example.test");
	r.start_us = START_US;
	r.duration_us = 1500;
	o = http_object("https://www.example.test/ match=ok", &r, &text);
	want_keys(o, http_keys, sizeof(http_keys) / sizeof(http_keys[0]));
	want_null(o, "address");
	want_null(o, "dns_seconds");
	want_null(o, "connect_seconds");
	want_null(o, "status_code");
	want_null(o, "http_version");
	want_string(o, "final_url", "https://www.example.test/");
	want_int(o, "redirects", 0);
	want_int(o, "content_length", 0);
	want_null(o, "body_matched");
	phases = member(o, "phases_seconds", json_type_object);
	for (i = 0; i < 5; i++)
		want_null(phases, phase_keys[i]);
	want_null(o, "tls");
	json_object_put(o);
	free(text);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(test_document_top),
	    TEST(test_result_up),
	    TEST(test_result_refused),
	    TEST(test_result_cancelled),
	    TEST(test_result_icmp),
	    TEST(test_not_interrupted_and_empty),
	    TEST(test_write_error),
	    TEST(test_scan_report_count),
	    cmocka_unit_test(test_result_http_up),
	    cmocka_unit_test(test_result_https_down),
	    cmocka_unit_test(test_result_http_no_response),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
