/*
 * Unit tests for result_store.c: results kept in their wire form come
 * back as they went in, field for field.
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

#include "result.h"
#include "result_store.h"
#include "util.h"

#define MANY 10000 /* results enough to fill several blocks */

/* Every field of got is that of want; final_url by its text. */
static void
expect_same(const struct result *got, const struct result *want)
{
	const struct result_http *g = &got->http, *w = &want->http;

	assert_int_equal(got->success, want->success);
	assert_int_equal(got->reason, want->reason);
	assert_string_equal(got->error, want->error);
	assert_string_equal(got->address, want->address);
	assert_int_equal(got->start_us, want->start_us);
	assert_int_equal(got->duration_us, want->duration_us);
	assert_int_equal(got->dns_us, want->dns_us);
	assert_int_equal(got->connect_us, want->connect_us);
	assert_int_equal(got->sent, want->sent);
	assert_int_equal(got->received, want->received);
	assert_int_equal(got->duplicates, want->duplicates);
	assert_int_equal(got->rtt_min_us, want->rtt_min_us);
	assert_int_equal(got->rtt_avg_us, want->rtt_avg_us);
	assert_int_equal(got->rtt_max_us, want->rtt_max_us);
	assert_int_equal(got->rtt_stddev_us, want->rtt_stddev_us);
	assert_int_equal(got->reply_ttl, want->reply_ttl);
	assert_int_equal(g->status, w->status);
	assert_int_equal(g->version, w->version);
	assert_int_equal(g->redirects, w->redirects);
	assert_int_equal(g->content_length, w->content_length);
	assert_int_equal(g->body_matched, w->body_matched);
	assert_int_equal(g->tls_us, w->tls_us);
	assert_int_equal(g->processing_us, w->processing_us);
	assert_int_equal(g->transfer_us, w->transfer_us);
	assert_string_equal(g->tls_version, w->tls_version);
	assert_string_equal(g->tls_cipher, w->tls_cipher);
	assert_int_equal(g->cert_not_after, w->cert_not_after);
	if (w->final_url == NULL)
		assert_null(g->final_url);
	else {
		assert_non_null(g->final_url);
		assert_string_equal(g->final_url, w->final_url);
		/* The copy is the store's own, not the one put in. */
		assert_ptr_not_equal(g->final_url, w->final_url);
	}
}

/* Result i of the store is want. */
static void
expect_stored(const struct result_store *st, size_t i,
    const struct result *want)
{
	struct result got;

	assert_true(result_store_has(st, i));
	result_store_get(st, i, &got);
	expect_same(&got, want);
	result_release(&got);
}

/* A TCP port that answered. */
static void
tcp_up(struct result *r)
{
	result_init(r);
	r->success = true;
	snprintf(r->address, sizeof(r->address), "127.0.0.1");
	r->start_us = 1700000000123456;
	r->duration_us = 812;
	r->connect_us = 640;
}

/* A probe that failed with a 200-character message. */
static void
long_failure(struct result *r)
{
	size_t i;

	result_init(r);
	for (i = 0; i < 200; i++)
		r->error[i] = (char)('a' + i % 26);
	r->error[200] = '\0';
	r->reason = REASON_TIMEOUT;
	snprintf(r->address, sizeof(r->address), "::1");
	r->start_us = 1700000000000001;
	r->duration_us = 2 * USEC_PER_SEC;
	r->dns_us = 15;
}

/* ICMP echoes with round-trip times and a reply TTL. */
static void
icmp_echoes(struct result *r)
{
	result_init(r);
	r->success = true;
	snprintf(r->address, sizeof(r->address), "127.0.0.1");
	r->start_us = 1700000000500000;
	r->duration_us = 301000;
	r->sent = 5;
	r->received = 4;
	r->duplicates = 1;
	r->rtt_min_us = 31;
	r->rtt_avg_us = 47;
	r->rtt_max_us = 90;
	r->rtt_stddev_us = 12;
	r->reply_ttl = 64;
}

/* An HTTPS answer after redirects; final_url is the caller's. */
static void
https_answer(struct result *r, const char *url)
{
	result_init(r);
	r->success = true;
	snprintf(r->address, sizeof(r->address), "127.0.0.1");
	r->start_us = 1700000001000000;
	r->duration_us = 5400;
	r->dns_us = 210;
	r->connect_us = 90;
	r->http.status = 200;
	r->http.version = 20;
	r->http.redirects = 2;
	r->http.content_length = 12345;
	r->http.body_matched = 1;
	r->http.tls_us = 2100;
	r->http.processing_us = 700;
	r->http.transfer_us = 300;
	snprintf(r->http.tls_version, sizeof(r->http.tls_version), "TLSv1.3");
	snprintf(r->http.tls_cipher, sizeof(r->http.tls_cipher),
	    "TLS_AES_256_GCM_SHA384");
	r->http.cert_not_after = 1900000000;
	r->http.final_url = url != NULL ? xstrdup(url) : NULL;
}

/* Results of every shape come back field for field. */
static void
test_round_trip(void **state)
{
	struct result_store st;
	struct result r[4];
	size_t i;

	result_store_init(&st, 4);
	tcp_up(&r[0]);
	long_failure(&r[1]);
	icmp_echoes(&r[2]);
	https_answer(&r[3], "https://127.0.0.1:8443/landing?x=1");
	for (i = 0; i < 4; i++)
		result_store_put(&st, i, &r[i]);
	for (i = 0; i < 4; i++)
		expect_stored(&st, i, &r[i]);
	assert_int_equal(strlen(r[1].error), 200);
	for (i = 0; i < 4; i++)
		result_release(&r[i]);
	result_store_free(&st);
}

/* The store keeps its own final_url: the caller may free theirs. */
static void
test_final_url_copied(void **state)
{
	struct result_store st;
	struct result r, want;

	result_store_init(&st, 1);
	https_answer(&r, "https://127.0.0.1/a");
	result_store_put(&st, 0, &r);
	result_release(&r);
	https_answer(&want, "https://127.0.0.1/a");
	expect_stored(&st, 0, &want);
	/* Each get is a copy of its own. */
	expect_stored(&st, 0, &want);
	result_release(&want);
	result_store_free(&st);
}

/* An index never stored reads as a fresh result, and has() says no. */
static void
test_unset(void **state)
{
	struct result_store st;
	struct result got, fresh, r;

	result_store_init(&st, 3);
	tcp_up(&r);
	result_store_put(&st, 0, &r);
	result_init(&fresh);
	assert_false(result_store_has(&st, 1));
	assert_false(result_store_has(&st, 2));
	memset(&got, 0xa5, sizeof(got));
	result_store_get(&st, 1, &got);
	expect_same(&got, &fresh);
	result_release(&got);
	result_store_free(&st);
}

/* has() is true just for the indices stored, and false past the end. */
static void
test_has(void **state)
{
	struct result_store st;
	struct result r, got;
	size_t i;

	result_store_init(&st, 8);
	tcp_up(&r);
	for (i = 0; i < 8; i += 3)
		result_store_put(&st, i, &r);
	for (i = 0; i < 8; i++)
		assert_int_equal(result_store_has(&st, i), i % 3 == 0);
	assert_false(result_store_has(&st, 8));
	assert_false(result_store_has(&st, (size_t)-1));
	result_store_get(&st, 8, &got);
	assert_int_equal(got.connect_us, -1);
	assert_false(got.success);
	result_store_free(&st);
}

/* An empty store holds nothing and frees cleanly. */
static void
test_empty(void **state)
{
	struct result_store st;
	struct result got;

	result_store_init(&st, 0);
	assert_false(result_store_has(&st, 0));
	result_store_get(&st, 0, &got);
	assert_int_equal(got.reason, REASON_NONE);
	assert_null(got.http.final_url);
	result_store_free(&st);
	assert_null(st.at);
	assert_int_equal(st.n, 0);
}

/* Putting a result again replaces it, final_url and all; its
 * neighbours are untouched. */
static void
test_replace(void **state)
{
	struct result_store st;
	struct result a, b, c;

	result_store_init(&st, 3);
	https_answer(&a, "https://127.0.0.1/first");
	tcp_up(&c);
	result_store_put(&st, 0, &c);
	result_store_put(&st, 1, &a);
	result_store_put(&st, 2, &c);
	long_failure(&b);
	result_store_put(&st, 1, &b);
	expect_stored(&st, 1, &b);
	result_release(&a);
	https_answer(&a, "https://127.0.0.1/second");
	result_store_put(&st, 1, &a);
	expect_stored(&st, 1, &a);
	expect_stored(&st, 0, &c);
	expect_stored(&st, 2, &c);
	result_release(&a);
	result_store_free(&st);
}

/* Result i of the many: its own message, timings and URL. */
static void
many_result(struct result *r, size_t i, char *url, size_t urllen)
{
	if (i % 3 == 2) {
		snprintf(url, urllen, "https://127.0.0.1/page/%zu", i);
		https_answer(r, url);
		r->http.content_length = (int64_t)i;
	} else if (i % 3 == 1)
		long_failure(r);
	else
		tcp_up(r);
	r->connect_us = (int64_t)i;
	r->start_us += (int64_t)i;
	if (!r->success)
		snprintf(r->error, sizeof(r->error),
		    "probe %zu failed: %0100zu", i, i);
}

/* 10,000 results spill over several blocks and all come back right. */
static void
test_many_blocks(void **state)
{
	struct result_store st;
	struct result r;
	char url[64];
	size_t i;

	result_store_init(&st, MANY);
	for (i = 0; i < MANY; i++) {
		many_result(&r, i, url, sizeof(url));
		result_store_put(&st, i, &r);
		result_release(&r);
	}
	if (st.nblocks < 4)
		fail_msg("%zu results in %zu blocks", (size_t)MANY, st.nblocks);
	for (i = 0; i < MANY; i++) {
		many_result(&r, i, url, sizeof(url));
		expect_stored(&st, i, &r);
		result_release(&r);
	}
	result_store_free(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_final_url_copied),
	    cmocka_unit_test(test_unset),
	    cmocka_unit_test(test_has),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_replace),
	    cmocka_unit_test(test_many_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
