/* Encode and decode supervisor <-> worker messages, checking every length. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "util.h"

_Static_assert(MSG_MAX >= TARGET_HTTP_REQUEST_MAX + 8192,
    "a request the target parser accepts must fit a message");

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int overflow;
};

struct rbuf {
	const uint8_t *p;
	size_t len, off;
	char *errbuf;
	size_t errlen;
	int failed;
};

static void
put_bytes(struct wbuf *w, const void *src, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = 1;
		return;
	}
	if (n == 0) /* src may be NULL, which memcpy must never see */
		return;
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

/* Integers travel little-endian, whatever the host. */
static void
put_u64(struct wbuf *w, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put_bytes(w, b, sizeof(b));
}

static void
put_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 24)};

	put_bytes(w, b, sizeof(b));
}

static void
put_u16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	put_bytes(w, b, sizeof(b));
}

static void
put_u8(struct wbuf *w, uint8_t v)
{
	put_bytes(w, &v, 1);
}

/* A string is a u16 length and its bytes, without the NUL. */
static void
put_str(struct wbuf *w, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n > UINT16_MAX) {
		w->overflow = 1;
		return;
	}
	put_u16(w, (uint16_t)n);
	put_bytes(w, s, n);
}

/* Bytes that may hold NULs: a u32 length and the bytes. */
static void
put_blob(struct wbuf *w, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		w->overflow = 1;
		return;
	}
	put_u32(w, (uint32_t)n);
	put_bytes(w, p, n);
}

static void
rfail(struct rbuf *r, const char *why)
{
	if (!r->failed)
		snprintf(r->errbuf, r->errlen, "%s at offset %zu", why, r->off);
	r->failed = 1;
}

static const uint8_t *
get_bytes(struct rbuf *r, size_t n)
{
	const uint8_t *p;

	if (r->failed)
		return NULL;
	if (n > r->len - r->off) {
		rfail(r, "truncated message");
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint64_t
get_u64(struct rbuf *r)
{
	const uint8_t *b = get_bytes(r, 8);
	uint64_t v = 0;
	int i;

	if (b == NULL)
		return 0;
	for (i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

static uint32_t
get_u32(struct rbuf *r)
{
	const uint8_t *b = get_bytes(r, 4);

	return b != NULL ? (uint32_t)b[0] | (uint32_t)b[1] << 8 |
	        (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24
	                 : 0;
}

static uint16_t
get_u16(struct rbuf *r)
{
	const uint8_t *b = get_bytes(r, 2);

	return b != NULL ? (uint16_t)(b[0] | (b[1] << 8)) : 0;
}

static uint8_t
get_u8(struct rbuf *r)
{
	const uint8_t *b = get_bytes(r, 1);

	return b != NULL ? b[0] : 0;
}

/* Copy a string into dst (cap bytes with the NUL); no embedded NULs. */
static void
get_str_into(struct rbuf *r, char *dst, size_t cap)
{
	uint16_t n = get_u16(r);
	const uint8_t *b;

	dst[0] = '\0';
	if (r->failed)
		return;
	if ((size_t)n >= cap) {
		rfail(r, "string too long");
		return;
	}
	if ((b = get_bytes(r, n)) == NULL)
		return;
	if (memchr(b, '\0', n) != NULL) {
		rfail(r, "NUL inside string");
		return;
	}
	memcpy(dst, b, n);
	dst[n] = '\0';
}

/* Like get_str_into() but allocates; max bounds the length. */
static char *
get_str_alloc(struct rbuf *r, size_t max)
{
	char *s = xmalloc(max + 1);

	get_str_into(r, s, max + 1);
	if (r->failed) {
		free(s);
		return NULL;
	}
	return s;
}

/* A string of at most max bytes, or NULL when it is empty. */
static char *
get_str_or_null(struct rbuf *r, size_t max)
{
	char *s = get_str_alloc(r, max);

	if (s != NULL && *s == '\0') {
		free(s);
		s = NULL;
	}
	return s;
}

static char *
get_blob(struct rbuf *r, size_t max, size_t *len)
{
	uint32_t n = get_u32(r);
	const uint8_t *b;
	char *p;

	*len = 0;
	if (r->failed)
		return NULL;
	if (n > max) {
		rfail(r, "blob too long");
		return NULL;
	}
	if ((b = get_bytes(r, n)) == NULL || n == 0)
		return NULL;
	p = xmalloc((size_t)n + 1);
	memcpy(p, b, n);
	p[n] = '\0';
	*len = n;
	return p;
}

static void
put_header(struct wbuf *w, enum msg_type type)
{
	put_u16(w, MSG_MAGIC);
	put_u8(w, MSG_VERSION);
	put_u8(w, (uint8_t)type);
	put_bytes(w, "\0\0\0\0", 4); /* payload length, set by finish */
}

static ssize_t
finish(struct wbuf *w)
{
	size_t payload = w->len - MSG_HDR_LEN;
	int i;

	if (w->overflow || w->len > MSG_MAX)
		return -1;
	for (i = 0; i < 4; i++)
		w->p[4 + i] = (uint8_t)(payload >> (8 * i));
	return (ssize_t)w->len;
}

/* Check the header of a datagram against the type the reader expects. */
static int
check_header(struct rbuf *r, enum msg_type want)
{
	uint32_t payload;
	const uint8_t *b;

	if (r->len > MSG_MAX) {
		rfail(r, "oversized message");
		return -1;
	}
	if (get_u16(r) != MSG_MAGIC) {
		rfail(r, "bad magic");
		return -1;
	}
	if (get_u8(r) != MSG_VERSION) {
		rfail(r, "unsupported message version");
		return -1;
	}
	if (get_u8(r) != want) {
		rfail(r, "unexpected message type");
		return -1;
	}
	if ((b = get_bytes(r, 4)) == NULL)
		return -1;
	payload = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
	if (payload != r->len - MSG_HDR_LEN) {
		rfail(r, "length field does not match message size");
		return -1;
	}
	return 0;
}

static int
check_end(struct rbuf *r)
{
	if (!r->failed && r->off != r->len)
		rfail(r, "trailing bytes");
	return r->failed ? -1 : 0;
}

int
msg_type(const uint8_t *buf, size_t len)
{
	if (len < MSG_HDR_LEN || len > MSG_MAX ||
	    (buf[0] | buf[1] << 8) != MSG_MAGIC || buf[2] != MSG_VERSION)
		return -1;
	return buf[3];
}

static void
put_http_req(struct wbuf *w, const struct target_http *h)
{
	unsigned i;

	put_str(w, h->url);
	put_u8(w, h->tls);
	put_str(w, h->method);
	put_u8(w, (uint8_t)h->nheaders);
	for (i = 0; i < h->nheaders; i++)
		put_str(w, h->headers[i]);
	put_u8(w, h->has_body);
	put_blob(w, h->body, h->body_len);
	for (i = 0; i < TARGET_HTTP_EXPECT_WORDS; i++)
		put_u64(w, h->expect[i]);
	put_str(w, h->match);
	put_str(w, h->not_match);
	put_u8(w, (uint8_t)(h->follow + 1));
	put_u8(w, h->insecure);
	put_str(w, h->ca);
	put_blob(w, h->ca_pem, h->ca_len);
	put_str(w, h->host_header);
	put_str(w, h->sni);
	put_u8(w, (uint8_t)h->version);
	put_u64(w, h->max_body);
}

/* Header lines, once checked by the parser, are still checked here. */
static void
get_http_headers(struct rbuf *r, struct target_http *h)
{
	unsigned i, n = get_u8(r);

	if (n > TARGET_HTTP_HEADERS_MAX) {
		rfail(r, "too many headers");
		return;
	}
	h->headers = xcalloc(n + 1, sizeof(*h->headers));
	for (i = 0; i < n && !r->failed; i++) {
		h->headers[i] = get_str_alloc(r, TARGET_HTTP_HEADER_MAX);
		if (h->headers[i] != NULL)
			h->nheaders++;
		if (h->headers[i] != NULL && strpbrk(h->headers[i], "\r\n"))
			rfail(r, "line break in a header");
	}
}

static struct target_http *
get_http_req(struct rbuf *r)
{
	struct target_http *h = xcalloc(1, sizeof(*h));
	unsigned i;

	h->url = get_str_alloc(r, TARGET_URL_MAX);
	h->tls = get_u8(r) != 0;
	h->method = get_str_or_null(r, 32);
	get_http_headers(r, h);
	h->has_body = get_u8(r) != 0;
	h->body = get_blob(r, TARGET_HTTP_BODY_MAX, &h->body_len);
	for (i = 0; i < TARGET_HTTP_EXPECT_WORDS; i++)
		h->expect[i] = get_u64(r);
	h->match = get_str_or_null(r, TARGET_HTTP_REGEX_MAX);
	h->not_match = get_str_or_null(r, TARGET_HTTP_REGEX_MAX);
	h->follow = (int)get_u8(r) - 1;
	h->insecure = get_u8(r) != 0;
	h->ca = get_str_or_null(r, TARGET_URL_MAX);
	h->ca_pem = get_blob(r, TARGET_HTTP_CA_MAX, &h->ca_len);
	h->host_header = get_str_or_null(r, TARGET_HOST_MAX);
	h->sni = get_str_or_null(r, TARGET_HOST_MAX);
	h->version = get_u8(r);
	h->max_body = get_u64(r);
	if (!r->failed &&
	    (h->follow > TARGET_HTTP_FOLLOW_MAX ||
	        h->max_body > TARGET_HTTP_MAX_BODY_MAX ||
	        (h->version != 0 && h->version != 11 && h->version != 20)))
		rfail(r, "HTTP option out of range");
	return h;
}

ssize_t
msg_encode_probe_req(const struct msg_probe_req *m, uint8_t *buf, size_t cap)
{
	struct wbuf w = {buf, 0, cap, 0};

	put_header(&w, MSG_PROBE_REQ);
	put_u64(&w, m->id);
	put_u64(&w, (uint64_t)m->timeout_us);
	put_u8(&w, (uint8_t)m->target.kind);
	put_str(&w, m->target.host);
	put_u16(&w, m->target.port);
	put_u8(&w, (uint8_t)m->target.ipv);
	put_u16(&w, (uint16_t)m->target.count);
	put_u64(&w, (uint64_t)m->target.interval_us);
	put_u32(&w, m->target.size);
	put_u8(&w, (uint8_t)m->target.ttl);
	put_u8(&w, m->target.allow != NULL);
	if (m->target.kind == TARGET_HTTP)
		put_http_req(&w, m->target.http);
	return finish(&w);
}

int
msg_decode_probe_req(const uint8_t *buf, size_t len, struct msg_probe_req *m,
    char *errbuf, size_t errlen)
{
	struct rbuf r = {buf, len, 0, errbuf, errlen, 0};
	uint8_t kind, restricted;

	memset(m, 0, sizeof(*m));
	if (check_header(&r, MSG_PROBE_REQ) == -1)
		return -1;
	m->id = get_u64(&r);
	m->timeout_us = (int64_t)get_u64(&r);
	kind = get_u8(&r);
	m->target.host = get_str_alloc(&r, TARGET_HOST_MAX);
	m->target.port = get_u16(&r);
	m->target.ipv = get_u8(&r);
	m->target.count = get_u16(&r);
	m->target.interval_us = (int64_t)get_u64(&r);
	m->target.size = get_u32(&r);
	m->target.ttl = get_u8(&r);
	restricted = get_u8(&r);
	if (!r.failed && kind == TARGET_HTTP)
		m->target.http = get_http_req(&r);
	if (!r.failed && kind != TARGET_TCP && kind != TARGET_ICMP &&
	    kind != TARGET_HTTP)
		rfail(&r, "unknown target kind");
	if (!r.failed &&
	    (m->target.ipv != 0 && m->target.ipv != 4 && m->target.ipv != 6))
		rfail(&r, "bad address family");
	if (!r.failed &&
	    (m->target.count > TARGET_ICMP_COUNT_MAX ||
	        m->target.size > TARGET_ICMP_SIZE_MAX ||
	        m->target.interval_us < 0 ||
	        m->target.interval_us > DURATION_MAX_US))
		rfail(&r, "ICMP option out of range");
	if (!r.failed &&
	    (m->timeout_us <= 0 || m->timeout_us > DURATION_MAX_US))
		rfail(&r, "timeout out of range");
	if (!r.failed && restricted > 1)
		rfail(&r, "bad restriction flag");
	m->restricted = restricted == 1;
	m->target.kind = (enum target_kind)kind;
	if (check_end(&r) == -1) {
		target_clear(&m->target);
		return -1;
	}
	return 0;
}

/* A duration from a worker: -1 (absent) or 0..DURATION_MAX_US. */
static int64_t
get_duration(struct rbuf *r)
{
	int64_t v = (int64_t)get_u64(r);

	if (!r->failed && (v < -1 || v > DURATION_MAX_US))
		rfail(r, "duration out of range");
	return v;
}

static void
put_http_result(struct wbuf *w, const struct result_http *h)
{
	put_u16(w, (uint16_t)h->status);
	put_u8(w, (uint8_t)h->version);
	put_u32(w, h->redirects);
	put_u64(w, (uint64_t)h->content_length);
	put_u8(w, (uint8_t)(h->body_matched + 1));
	put_u64(w, (uint64_t)h->tls_us);
	put_u64(w, (uint64_t)h->processing_us);
	put_u64(w, (uint64_t)h->transfer_us);
	put_str(w, h->tls_version);
	put_str(w, h->tls_cipher);
	put_u64(w, (uint64_t)h->cert_not_after);
	put_str(w, h->final_url);
}

static void
get_http_result(struct rbuf *r, struct result_http *h)
{
	unsigned matched;

	h->status = get_u16(r);
	h->version = get_u8(r);
	h->redirects = get_u32(r);
	h->content_length = (int64_t)get_u64(r);
	matched = get_u8(r);
	h->body_matched = (int)matched - 1;
	h->tls_us = get_duration(r);
	h->processing_us = get_duration(r);
	h->transfer_us = get_duration(r);
	get_str_into(r, h->tls_version, sizeof(h->tls_version));
	get_str_into(r, h->tls_cipher, sizeof(h->tls_cipher));
	h->cert_not_after = (int64_t)get_u64(r);
	h->final_url = get_str_or_null(r, TARGET_URL_MAX);
	if (r->failed)
		return;
	if ((h->status != 0 &&
	        (h->status < TARGET_HTTP_CODE_MIN ||
	            h->status > TARGET_HTTP_CODE_MAX)) ||
	    (h->version != 0 && h->version != 10 && h->version != 11 &&
	        h->version != 20 && h->version != 30) ||
	    h->redirects > TARGET_HTTP_FOLLOW_MAX || matched > 2 ||
	    h->content_length < 0 ||
	    (uint64_t)h->content_length > TARGET_HTTP_MAX_BODY_MAX ||
	    h->cert_not_after < 0)
		rfail(r, "HTTP fields out of range");
	else if (!utf8_valid(h->tls_version) || !utf8_valid(h->tls_cipher) ||
	    (h->final_url != NULL && !utf8_valid(h->final_url)))
		rfail(r, "invalid UTF-8 in string");
}

ssize_t
msg_encode_probe_result(const struct msg_probe_result *m, uint8_t *buf,
    size_t cap)
{
	struct wbuf w = {buf, 0, cap, 0};
	const struct result *res = &m->result;

	put_header(&w, MSG_PROBE_RESULT);
	put_u64(&w, m->id);
	put_u8(&w, res->success ? 1 : 0);
	put_u8(&w, (uint8_t)res->reason);
	put_str(&w, res->error);
	put_str(&w, res->address);
	put_u64(&w, (uint64_t)res->start_us);
	put_u64(&w, (uint64_t)res->duration_us);
	put_u64(&w, (uint64_t)res->dns_us);
	put_u64(&w, (uint64_t)res->connect_us);
	put_u32(&w, res->sent);
	put_u32(&w, res->received);
	put_u32(&w, res->duplicates);
	put_u64(&w, (uint64_t)res->rtt_min_us);
	put_u64(&w, (uint64_t)res->rtt_avg_us);
	put_u64(&w, (uint64_t)res->rtt_max_us);
	put_u64(&w, (uint64_t)res->rtt_stddev_us);
	put_u16(&w, (uint16_t)(res->reply_ttl + 1));
	put_http_result(&w, &res->http);
	return finish(&w);
}

int
msg_decode_probe_result(const uint8_t *buf, size_t len,
    struct msg_probe_result *m, char *errbuf, size_t errlen)
{
	struct rbuf r = {buf, len, 0, errbuf, errlen, 0};
	struct result *res = &m->result;
	uint8_t success, reason;

	memset(m, 0, sizeof(*m));
	if (check_header(&r, MSG_PROBE_RESULT) == -1)
		return -1;
	m->id = get_u64(&r);
	success = get_u8(&r);
	reason = get_u8(&r);
	get_str_into(&r, res->error, sizeof(res->error));
	get_str_into(&r, res->address, sizeof(res->address));
	res->start_us = (int64_t)get_u64(&r);
	res->duration_us = get_duration(&r);
	res->dns_us = get_duration(&r);
	res->connect_us = get_duration(&r);
	res->sent = get_u32(&r);
	res->received = get_u32(&r);
	res->duplicates = get_u32(&r);
	res->rtt_min_us = get_duration(&r);
	res->rtt_avg_us = get_duration(&r);
	res->rtt_max_us = get_duration(&r);
	res->rtt_stddev_us = get_duration(&r);
	res->reply_ttl = (int)get_u16(&r) - 1;
	get_http_result(&r, &res->http);
	if (!r.failed &&
	    (res->received > res->sent || res->sent > TARGET_ICMP_COUNT_MAX ||
	        res->reply_ttl > 255))
		rfail(&r, "ICMP counters out of range");
	if (!r.failed && (!utf8_valid(res->error) || !utf8_valid(res->address)))
		rfail(&r, "invalid UTF-8 in string");
	if (!r.failed &&
	    (success > 1 || reason >= REASON_MAX ||
	        (success == 1) != (reason == REASON_NONE)))
		rfail(&r, "inconsistent success and reason");
	res->success = success == 1;
	res->reason = (enum reason)reason;
	if (check_end(&r) == -1) {
		result_release(res);
		return -1;
	}
	return 0;
}
