/*
 * libFuzzer target for the supervisor <-> worker messages: each input is
 * one datagram, decoded both as a probe request and as a probe result.
 * Beyond memory safety, a datagram that decodes must encode back to one
 * of the same length (every field has a fixed width or a length prefix)
 * that decodes to the same fields, and encoding that again must give the
 * same bytes: only the booleans of a hostile datagram may be normalised.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "allowlist.h"
#include "msg.h"
#include "result.h"
#include "target.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

/* What a restricted request points at; only whether it is set travels. */
static const struct allowlist some_allowlist;

/* Static: a datagram may be as large as MSG_MAX. */
static uint8_t enc1[MSG_MAX], enc2[MSG_MAX];

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
blob_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static bool
http_req_eq(const struct target_http *a, const struct target_http *b)
{
	unsigned i;

	if (!str_eq(a->url, b->url) || a->tls != b->tls ||
	    !str_eq(a->method, b->method) || a->nheaders != b->nheaders ||
	    a->has_body != b->has_body ||
	    !blob_eq(a->body, a->body_len, b->body, b->body_len) ||
	    memcmp(a->expect, b->expect, sizeof(a->expect)) != 0 ||
	    !str_eq(a->match, b->match) || !str_eq(a->not_match, b->not_match))
		return false;
	for (i = 0; i < a->nheaders; i++)
		if (!str_eq(a->headers[i], b->headers[i]))
			return false;
	return a->follow == b->follow && a->insecure == b->insecure &&
	    str_eq(a->ca, b->ca) &&
	    blob_eq(a->ca_pem, a->ca_len, b->ca_pem, b->ca_len) &&
	    str_eq(a->host_header, b->host_header) && str_eq(a->sni, b->sni) &&
	    a->version == b->version && a->max_body == b->max_body;
}

static bool
req_eq(const struct msg_probe_req *a, const struct msg_probe_req *b)
{
	const struct target *s = &a->target, *t = &b->target;

	if (a->id != b->id || a->timeout_us != b->timeout_us ||
	    a->restricted != b->restricted || s->kind != t->kind ||
	    !str_eq(s->host, t->host) || s->port != t->port ||
	    s->ipv != t->ipv || s->count != t->count ||
	    s->interval_us != t->interval_us || s->size != t->size ||
	    s->ttl != t->ttl)
		return false;
	if (s->http == NULL || t->http == NULL)
		return s->http == t->http;
	return http_req_eq(s->http, t->http);
}

/* What the decoder promises of every request it accepts. */
static void
check_req(const struct msg_probe_req *m)
{
	const struct target *t = &m->target;

	CHECK(t->host != NULL && strlen(t->host) <= TARGET_HOST_MAX);
	CHECK(t->kind == TARGET_TCP || t->kind == TARGET_ICMP ||
	    t->kind == TARGET_HTTP);
	CHECK((t->kind == TARGET_HTTP) == (t->http != NULL));
	CHECK(t->ipv == 0 || t->ipv == 4 || t->ipv == 6);
	CHECK(m->timeout_us > 0 && m->timeout_us <= DURATION_MAX_US);
	CHECK(t->allow == NULL);
	if (t->http != NULL) {
		CHECK(t->http->url != NULL);
		CHECK(t->http->nheaders <= TARGET_HTTP_HEADERS_MAX);
		CHECK(t->http->follow >= -1 &&
		    t->http->follow <= TARGET_HTTP_FOLLOW_MAX);
	}
}

static void
round_trip_req(const uint8_t *data, size_t size)
{
	struct msg_probe_req a, b;
	char err[256];
	ssize_t n, n2;

	err[0] = '\0';
	if (msg_decode_probe_req(data, size, &a, err, sizeof(err)) == -1) {
		CHECK(err[0] != '\0');
		return;
	}
	CHECK(msg_type(data, size) == MSG_PROBE_REQ);
	check_req(&a);
	/* The encoder sends the flag as "an allowlist is set". */
	if (a.restricted)
		a.target.allow = &some_allowlist;
	n = msg_encode_probe_req(&a, enc1, sizeof(enc1));
	CHECK(n == (ssize_t)size);
	CHECK(msg_decode_probe_req(enc1, (size_t)n, &b, err, sizeof(err)) == 0);
	CHECK(req_eq(&a, &b));
	if (b.restricted)
		b.target.allow = &some_allowlist;
	n2 = msg_encode_probe_req(&b, enc2, sizeof(enc2));
	CHECK(n2 == n && memcmp(enc1, enc2, (size_t)n) == 0);
	a.target.allow = NULL;
	b.target.allow = NULL;
	target_clear(&a.target);
	target_clear(&b.target);
}

static bool
http_result_eq(const struct result_http *a, const struct result_http *b)
{
	return a->status == b->status && a->version == b->version &&
	    a->redirects == b->redirects &&
	    a->content_length == b->content_length &&
	    a->body_matched == b->body_matched && a->tls_us == b->tls_us &&
	    a->processing_us == b->processing_us &&
	    a->transfer_us == b->transfer_us &&
	    strcmp(a->tls_version, b->tls_version) == 0 &&
	    strcmp(a->tls_cipher, b->tls_cipher) == 0 &&
	    a->cert_not_after == b->cert_not_after &&
	    str_eq(a->final_url, b->final_url);
}

static bool
result_eq(const struct msg_probe_result *a, const struct msg_probe_result *b)
{
	const struct result *r = &a->result, *s = &b->result;

	return a->id == b->id && r->success == s->success &&
	    r->reason == s->reason && strcmp(r->error, s->error) == 0 &&
	    strcmp(r->address, s->address) == 0 && r->start_us == s->start_us &&
	    r->duration_us == s->duration_us && r->dns_us == s->dns_us &&
	    r->connect_us == s->connect_us && r->sent == s->sent &&
	    r->received == s->received && r->duplicates == s->duplicates &&
	    r->rtt_min_us == s->rtt_min_us && r->rtt_avg_us == s->rtt_avg_us &&
	    r->rtt_max_us == s->rtt_max_us &&
	    r->rtt_stddev_us == s->rtt_stddev_us &&
	    r->reply_ttl == s->reply_ttl && http_result_eq(&r->http, &s->http);
}

/* What the supervisor relies on when it reports a worker's result. */
static void
check_result(const struct msg_probe_result *m)
{
	const struct result *r = &m->result;

	CHECK(r->success == (r->reason == REASON_NONE));
	CHECK(r->reason >= REASON_NONE && r->reason < REASON_MAX);
	CHECK(reason_name(r->reason) != NULL);
	CHECK(r->received <= r->sent && r->sent <= TARGET_ICMP_COUNT_MAX);
	CHECK(r->reply_ttl >= -1 && r->reply_ttl <= 255);
	CHECK(utf8_valid(r->error) && utf8_valid(r->address));
	CHECK(r->http.final_url == NULL ||
	    (r->http.final_url[0] != '\0' && utf8_valid(r->http.final_url)));
	CHECK(r->http.body_matched >= -1 && r->http.body_matched <= 1);
}

static void
round_trip_result(const uint8_t *data, size_t size)
{
	struct msg_probe_result a, b;
	char err[256];
	ssize_t n, n2;

	err[0] = '\0';
	if (msg_decode_probe_result(data, size, &a, err, sizeof(err)) == -1) {
		CHECK(err[0] != '\0');
		return;
	}
	CHECK(msg_type(data, size) == MSG_PROBE_RESULT);
	check_result(&a);
	n = msg_encode_probe_result(&a, enc1, sizeof(enc1));
	CHECK(n == (ssize_t)size);
	CHECK(msg_decode_probe_result(enc1, (size_t)n, &b, err, sizeof(err)) ==
	    0);
	CHECK(result_eq(&a, &b));
	n2 = msg_encode_probe_result(&b, enc2, sizeof(enc2));
	CHECK(n2 == n && memcmp(enc1, enc2, (size_t)n) == 0);
	result_release(&a.result);
	result_release(&b.result);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Both decoders see every input: each must refuse the other's. */
	round_trip_req(data, size);
	round_trip_result(data, size);
	return 0;
}
