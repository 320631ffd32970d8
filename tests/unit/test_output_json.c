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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
