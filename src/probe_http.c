/* HTTP(S) probe: one libcurl easy handle per worker, a fresh connection each. */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "http_allow.h"
#include "http_dl.h"
#include "http_error.h"
#include "http_tls.h"
#include "log.h"
#include "probe_http.h"
#include "regex.h"
#include "util.h"

#define HTTP_REGEX_CACHE 8
/* Past this, response headers are an attack, not a page. */
#define HTTP_HEADERS_MAX (256 * 1024)

/* What one probe accumulates while libcurl runs it. */
struct http_run {
	const struct target_http *h;
	struct result *r;
	CURL *easy;
	char *body;
	size_t len, cap;
	uint64_t max_body;
	bool keep_body; /* only a pattern needs the bytes */
	struct http_seen seen;
	size_t header_bytes;
	int status; /* of the response whose headers are coming */
	bool follow;
};

/* One transfer: the run and what libcurl holds pointers to. */
struct http_xfer {
	const struct target *t;
	struct http_run run;
	struct curl_slist *headers, *connect_to;
	char errbuf[CURL_ERROR_SIZE];
};

/* A place in the batch: a handle kept for the worker's life. */
struct http_slot {
	CURL *easy;
	struct http_xfer x;
	bool busy;
	void *cookie;
};

struct probe_http_ctx {
	CURL *easy; /* for probe_http_run() */
	struct http_xfer single;
	CURLM *multi; /* for the batch */
	struct http_slot batch[PROBE_HTTP_BATCH_MAX];
	unsigned active;
	int epfd;         /* the batch's sockets, and the worker's fd */
	int watched;      /* the worker's fd while it is in epfd, else -1 */
	int64_t timer_at; /* libcurl's next timeout, mono_now_us(); -1: none */
	struct regex *cache[HTTP_REGEX_CACHE];
	unsigned next; /* the cache slot to reuse next */
};

static void xfer_clean(struct http_xfer *);

void
probe_http_global_init(void)
{
	http_dl_load();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("libcurl: cannot initialise");
}

void
probe_http_global_cleanup(void)
{
	curl_global_cleanup();
}

/* libcurl says which of the batch's sockets to wait for, and how. */
static int
on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct probe_http_ctx *ctx = arg;
	struct epoll_event ev = {0};

	(void)easy;
	(void)sockp;
	if (what == CURL_POLL_REMOVE) {
		(void)epoll_ctl(ctx->epfd, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) |
	    ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
	ev.data.fd = fd;
	if (epoll_ctl(ctx->epfd, EPOLL_CTL_MOD, fd, &ev) == -1 &&
	    (errno != ENOENT ||
	        epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, fd, &ev) == -1))
		return -1;
	return 0;
}

static int
on_timer(CURLM *multi, long ms, void *arg)
{
	struct probe_http_ctx *ctx = arg;

	(void)multi;
	ctx->timer_at = ms < 0 ? -1 : mono_now_us() + (int64_t)ms * 1000;
	return 0;
}

/*
 * The batch runs on curl_multi_socket_action() over epoll: each wake-up
 * moves only the transfers whose sockets are ready, where
 * curl_multi_perform() would look at every transfer in the batch.
 */
struct probe_http_ctx *
probe_http_ctx_new(void)
{
	struct probe_http_ctx *ctx = xcalloc(1, sizeof(*ctx));

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (ctx->easy = curl_easy_init()) == NULL ||
	    (ctx->multi = curl_multi_init()) == NULL)
		fatalx("libcurl: cannot initialise");
	if ((ctx->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	ctx->watched = -1;
	ctx->timer_at = -1;
	curl_multi_setopt(ctx->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(ctx->multi, CURLMOPT_SOCKETDATA, ctx);
	curl_multi_setopt(ctx->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(ctx->multi, CURLMOPT_TIMERDATA, ctx);
	return ctx;
}

void
probe_http_ctx_free(struct probe_http_ctx *ctx)
{
	unsigned i;

	if (ctx == NULL)
		return;
	for (i = 0; i < HTTP_REGEX_CACHE; i++)
		regex_free(ctx->cache[i]);
	for (i = 0; i < PROBE_HTTP_BATCH_MAX; i++) {
		if (ctx->batch[i].busy) {
			curl_multi_remove_handle(ctx->multi,
			    ctx->batch[i].easy);
			xfer_clean(&ctx->batch[i].x);
		}
		curl_easy_cleanup(ctx->batch[i].easy);
	}
	curl_multi_cleanup(ctx->multi);
	curl_easy_cleanup(ctx->easy);
	curl_global_cleanup();
	close(ctx->epfd);
	free(ctx);
}

/* A compiled pattern, from the cache when this worker has seen it. */
static struct regex *
regex_get(struct probe_http_ctx *ctx, const char *pattern, char *errbuf,
    size_t errlen)
{
	struct regex *re;
	unsigned i;

	for (i = 0; i < HTTP_REGEX_CACHE; i++)
		if (ctx->cache[i] != NULL &&
		    strcmp(regex_pattern(ctx->cache[i]), pattern) == 0)
			return ctx->cache[i];
	if ((re = regex_compile(pattern, errbuf, errlen)) == NULL)
		return NULL;
	regex_free(ctx->cache[ctx->next]);
	ctx->cache[ctx->next] = re;
	ctx->next = (ctx->next + 1) % HTTP_REGEX_CACHE;
	return re;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_run *run = arg;
	size_t n = size * nmemb;
	char *p;

	if (n > run->max_body - run->len) {
		run->seen.abort = HTTP_ABORT_BODY;
		return 0; /* libcurl stops the transfer */
	}
	if (run->keep_body) {
		if (run->len + n > run->cap) {
			run->cap = run->cap ? run->cap : 1024;
			while (run->cap < run->len + n)
				run->cap *= 2;
			if ((p = realloc(run->body, run->cap)) == NULL) {
				run->seen.abort = HTTP_ABORT_MEMORY;
				return 0;
			}
			run->body = p;
		}
		memcpy(run->body + run->len, data, n);
	}
	run->len += n;
	return n;
}

/* The code of a status line "HTTP/1.1 302 Found"; 0 when there is none. */
static int
status_of(const char *line, size_t n)
{
	const char *sp = memchr(line, ' ', n);
	size_t at;
	int code = 0;

	if (sp == NULL)
		return 0;
	for (at = (size_t)(sp - line) + 1;
	     at < n && at < (size_t)(sp - line) + 4; at++) {
		if (line[at] < '0' || line[at] > '9')
			return 0;
		code = code * 10 + (line[at] - '0');
	}
	return code;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_run *run = arg;
	size_t n = size * nmemb;

	/* A status line starts each response, redirects included. */
	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		run->header_bytes = 0;
		run->status = status_of(data, n);
		if (run->h->tls)
			http_tls_read(run->easy, &run->r->http);
	}
	run->header_bytes += n;
	if (run->header_bytes > HTTP_HEADERS_MAX) {
		run->seen.abort = HTTP_ABORT_HEADERS;
		return 0;
	}
	/* Where a redirect goes is checked before libcurl goes there. */
	if (run->seen.allow != NULL && run->follow && run->status >= 300 &&
	    run->status < 400 && run->status != 304 && n > 9 &&
	    strncasecmp(data, "location:", 9) == 0 &&
	    !http_allow_redirect(run->easy, &run->seen, data + 9, n - 9)) {
		run->seen.abort = HTTP_ABORT_DENIED;
		return 0;
	}
	return n;
}

/*
 * libcurl does not say whether TCP connected when TLS then stalled; the
 * socket's state, read just before it closes, does.
 */
static int
on_close(void *arg, curl_socket_t fd)
{
	struct http_run *run = arg;
	struct linger lg = {1, 0};
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
	    ti.tcpi_state != TCP_SYN_SENT && ti.tcpi_state != TCP_CLOSE)
		run->seen.tcp_up = true;
	/* A reset, as the TCP probe does: no TIME_WAIT piles up here. */
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	return close(fd);
}

/*
 * host= and sni= change the name in the URL, so libcurl sends it in the
 * Host header and the TLS handshake, while CURLOPT_CONNECT_TO still sends
 * the connection to the host the URL named.
 */
static int
set_names(CURL *easy, const struct target *t, struct curl_slist **headers,
    struct curl_slist **connect_to)
{
	const struct target_http *h = t->http;
	const char *name = h->sni != NULL ? h->sni : h->host_header;
	CURLU *u;
	char *line, *url = NULL, port[8] = "";
	const char *hh;
	int v6 = strchr(t->host, ':') != NULL, hv6;

	if (name == NULL)
		return curl_easy_setopt(easy, CURLOPT_URL, h->url) == CURLE_OK
		    ? 0
		    : -1;
	if ((u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, h->url, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_HOST, name, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		return -1;
	}
	curl_url_cleanup(u);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_free(url);
	xasprintf(&line, "%s:%u:%s%s%s:%u", name, t->port, v6 ? "[" : "",
	    t->host, v6 ? "]" : "", t->port);
	*connect_to = curl_slist_append(*connect_to, line);
	free(line);
	if (h->sni != NULL) {
		/* sni= alone keeps the Host header of the URL (or host=). */
		hh = h->host_header != NULL ? h->host_header : t->host;
		hv6 = strchr(hh, ':') != NULL;
		if (t->port != (h->tls ? 443 : 80))
			snprintf(port, sizeof(port), ":%u", t->port);
		xasprintf(&line, "Host: %s%s%s%s", hv6 ? "[" : "", hh,
		    hv6 ? "]" : "", port);
		*headers = curl_slist_append(*headers, line);
		free(line);
	}
	curl_easy_setopt(easy, CURLOPT_CONNECT_TO, *connect_to);
	return 0;
}

static void
set_request(CURL *easy, const struct target_http *h,
    struct curl_slist **headers)
{
	unsigned i;

	for (i = 0; i < h->nheaders; i++)
		*headers = curl_slist_append(*headers, h->headers[i]);
	/* A body must not wait a second for a "100 Continue". */
	*headers = curl_slist_append(*headers, "Expect:");
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, *headers);
	if (h->has_body) {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)h->body_len);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS,
		    h->body != NULL ? h->body : "");
	}
	if (h->method != NULL && strcmp(h->method, "HEAD") == 0)
		curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
	else if (h->method != NULL &&
	    strcmp(h->method, h->has_body ? "POST" : "GET") != 0)
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, h->method);
	if (h->version == 11)
		curl_easy_setopt(easy, CURLOPT_HTTP_VERSION,
		    (long)CURL_HTTP_VERSION_1_1);
	else if (h->version == 20)
		curl_easy_setopt(easy, CURLOPT_HTTP_VERSION,
		    (long)(h->tls ? CURL_HTTP_VERSION_2TLS
		                  : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE));
}

/* Everything that makes each probe a new client with hard limits. */
static void
set_limits(CURL *easy, const struct target *t, int64_t left_us)
{
	const struct target_http *h = t->http;
	long ms = (long)((left_us + 999) / 1000);

	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION,
	    h->follow != 0 ? 1L : 0L);
	curl_easy_setopt(easy, CURLOPT_MAXREDIRS,
	    (long)(h->follow >= 0 ? h->follow : TARGET_HTTP_FOLLOW));
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, ms > 0 ? ms : 1L);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, ms > 0 ? ms : 1L);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	/* A new connection, lookup and full handshake: what a new user sees. */
	curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	curl_easy_setopt(easy, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
	/* Probes go where the target says, never through a proxy from env. */
	curl_easy_setopt(easy, CURLOPT_PROXY, "");
	curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "pulse/" PULSE_VERSION);
	if (t->ipv != 0)
		curl_easy_setopt(easy, CURLOPT_IPRESOLVE,
		    t->ipv == 4 ? CURL_IPRESOLVE_V4 : CURL_IPRESOLVE_V6);
	if (h->insecure) {
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->ca_pem != NULL) {
		struct curl_blob blob = {h->ca_pem, h->ca_len, CURL_BLOB_COPY};

		curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &blob);
	}
}

/* Microseconds from the start to a libcurl milestone; 0 if not reached. */
static int64_t
mark(CURL *easy, CURLINFO what)
{
	curl_off_t v = 0;

	if (curl_easy_getinfo(easy, what, &v) != CURLE_OK || v < 0)
		return 0;
	return (int64_t)v;
}

static int64_t
phase(int64_t from, int64_t to)
{
	return to <= 0 ? -1 : (to > from ? to - from : 0);
}

/* The phases, as blackbox_exporter names them, from libcurl's clocks. */
static void
read_timings(CURL *easy, const struct target_http *h, struct result *r)
{
	int64_t dns = mark(easy, CURLINFO_NAMELOOKUP_TIME_T);
	int64_t conn = mark(easy, CURLINFO_CONNECT_TIME_T);
	int64_t tls = mark(easy, CURLINFO_APPCONNECT_TIME_T);
	int64_t pre = mark(easy, CURLINFO_PRETRANSFER_TIME_T);
	int64_t first = mark(easy, CURLINFO_STARTTRANSFER_TIME_T);
	int64_t total = mark(easy, CURLINFO_TOTAL_TIME_T);

	r->dns_us = dns;
	r->connect_us = phase(dns, conn);
	r->http.tls_us = h->tls ? phase(conn, tls) : -1;
	r->http.processing_us = pre > 0 ? phase(pre, first) : -1;
	r->http.transfer_us = first > 0 ? phase(first, total) : -1;
}

static void
read_response(CURL *easy, struct http_run *run)
{
	struct result_http *o = &run->r->http;
	long code = 0, version = 0, redirects = 0;
	char *ip = NULL, *url = NULL;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version);
	curl_easy_getinfo(easy, CURLINFO_REDIRECT_COUNT, &redirects);
	if (code >= TARGET_HTTP_CODE_MIN && code <= TARGET_HTTP_CODE_MAX)
		o->status = (int)code;
	o->version = version == CURL_HTTP_VERSION_1_0 ? 10
	    : version == CURL_HTTP_VERSION_1_1        ? 11
	    : version == CURL_HTTP_VERSION_2_0        ? 20
	    : version == CURL_HTTP_VERSION_3          ? 30
	                                              : 0;
	if (o->status == 0)
		o->version = 0;
	o->redirects = (unsigned)redirects;
	o->content_length = (int64_t)run->len;
	if (curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK &&
	    ip != NULL)
		snprintf(run->r->address, sizeof(run->r->address), "%s", ip);
	if (redirects > 0 &&
	    curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK &&
	    url != NULL && strlen(url) <= TARGET_URL_MAX && utf8_valid(url))
		o->final_url = target_http_redact(url);
	read_timings(easy, run->h, run->r);
}

/* Match and not_match over the body; fills r on a failure. */
static void
judge_body(struct probe_http_ctx *ctx, struct http_run *run)
{
	const struct target_http *h = run->h;
	struct regex *re;
	char why[160];
	int m;

	const char *pats[2] = {h->match, h->not_match};
	int i;

	for (i = 0; i < 2; i++) {
		if (pats[i] == NULL)
			continue;
		if ((re = regex_get(ctx, pats[i], why, sizeof(why))) == NULL ||
		    (m = regex_search(re, run->body != NULL ? run->body : "",
		         run->len, why, sizeof(why))) == -1) {
			run->r->http.body_matched = 0;
			result_fail(run->r, REASON_MATCH, "%s=%s: %s",
			    i == 0 ? "match" : "not_match", pats[i], why);
			return;
		}
		run->r->http.body_matched = i == 0 ? m : !m;
		if (!run->r->http.body_matched) {
			result_fail(run->r, REASON_MATCH,
			    i == 0 ? "body does not match '%s'"
			           : "body matches not_match '%s'",
			    pats[i]);
			return;
		}
	}
}

/* A complete answer: its status, version and body decide. */
static void
judge(struct probe_http_ctx *ctx, struct http_run *run)
{
	const struct target_http *h = run->h;
	struct result *r = run->r;
	char want[128];

	if (!target_http_expects(h, r->http.status)) {
		target_http_expect_text(h, want, sizeof(want));
		result_fail(r, REASON_STATUS, "status %d, expected %s",
		    r->http.status, want);
		return;
	}
	if (h->version == 20 && r->http.version != 20) {
		result_fail(r, REASON_PROTOCOL,
		    "server answered in HTTP/%s, http_version=2 asks for "
		    "HTTP/2",
		    r->http.version == 10 ? "1.0" : "1.1");
		return;
	}
	judge_body(ctx, run);
	if (r->reason == REASON_NONE)
		r->success = true;
}

/* Set easy up for t; -1 with r filled when the target cannot be sent. */
static int
xfer_start(struct http_xfer *x, CURL *easy, const struct target *t,
    int64_t deadline_us, struct result *r)
{
	const struct target_http *h = t->http;

	memset(x, 0, sizeof(*x));
	x->t = t;
	x->run.h = h;
	x->run.r = r;
	x->run.easy = easy;
	x->run.max_body = h->max_body > 0 ? h->max_body : TARGET_HTTP_MAX_BODY;
	x->run.keep_body = h->match != NULL || h->not_match != NULL;
	x->run.follow = h->follow != 0;
	x->run.seen.allow = t->allow;
	curl_easy_reset(easy);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &x->run);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, &x->run);
	curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, on_close);
	curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, &x->run);
	if (t->allow != NULL)
		http_allow_connections(easy, &x->run.seen);
	set_limits(easy, t, deadline_us - mono_now_us());
	set_request(easy, h, &x->headers);
	if (set_names(easy, t, &x->headers, &x->connect_to) == -1) {
		result_fail(r, REASON_CONFIG, "cannot apply host= or sni=");
		return -1;
	}
	return 0;
}

/* Judge a finished transfer into its result. */
static void
xfer_finish(struct probe_http_ctx *ctx, struct http_xfer *x, CURLcode rc)
{
	read_response(x->run.easy, &x->run);
	if (rc != CURLE_OK)
		http_error_classify(x->run.easy, x->t, rc, &x->run.seen,
		    x->errbuf, x->run.r);
	else
		judge(ctx, &x->run);
}

/* Nothing of a probe may outlive it in the reused handle. */
static void
xfer_clean(struct http_xfer *x)
{
	CURL *easy = x->run.easy;

	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(easy, CURLOPT_CONNECT_TO, NULL);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, NULL);
	curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, NULL);
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, NULL);
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, NULL);
	curl_slist_free_all(x->headers);
	curl_slist_free_all(x->connect_to);
	free(x->run.body);
	x->headers = x->connect_to = NULL;
	x->run.body = NULL;
}

void
probe_http_run(const struct target *t, int64_t deadline_us,
    struct probe_http_ctx *ctx, struct result *r)
{
	struct http_xfer *x = &ctx->single;

	if (xfer_start(x, ctx->easy, t, deadline_us, r) == 0)
		xfer_finish(ctx, x, curl_easy_perform(ctx->easy));
	xfer_clean(x);
}

int
probe_http_batch_add(struct probe_http_ctx *ctx, const struct target *t,
    int64_t deadline_us, struct result *r, void *cookie)
{
	struct http_slot *sl = NULL;
	unsigned i;

	for (i = 0; i < PROBE_HTTP_BATCH_MAX && sl == NULL; i++)
		if (!ctx->batch[i].busy)
			sl = &ctx->batch[i];
	if (sl == NULL)
		return -1;
	if (sl->easy == NULL && (sl->easy = curl_easy_init()) == NULL)
		fatalx("libcurl: cannot make a handle");
	if (xfer_start(&sl->x, sl->easy, t, deadline_us, r) == -1) {
		xfer_clean(&sl->x);
		return 1;
	}
	if (curl_multi_add_handle(ctx->multi, sl->easy) != CURLM_OK)
		fatalx("libcurl: cannot add a transfer");
	curl_easy_setopt(sl->easy, CURLOPT_PRIVATE, sl);
	sl->busy = true;
	sl->cookie = cookie;
	ctx->active++;
	return 0;
}

unsigned
probe_http_batch_active(const struct probe_http_ctx *ctx)
{
	return ctx->active;
}

/* Judge and hand back every transfer libcurl says is over. */
static void
batch_collect(struct probe_http_ctx *ctx, probe_http_done_cb done, void *arg)
{
	struct http_slot *sl;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(ctx->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		sl = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &sl);
		if (sl == NULL || !sl->busy)
			fatalx("libcurl: a transfer of no probe");
		xfer_finish(ctx, &sl->x, m->data.result);
		curl_multi_remove_handle(ctx->multi, sl->easy);
		xfer_clean(&sl->x);
		sl->busy = false;
		ctx->active--;
		done(arg, sl->cookie);
	}
}

/* Have epfd wake for the worker's fd only while the batch has room. */
static void
watch_fd(struct probe_http_ctx *ctx, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	if (ctx->watched == fd)
		return;
	if (ctx->watched >= 0)
		(void)epoll_ctl(ctx->epfd, EPOLL_CTL_DEL, ctx->watched, NULL);
	ctx->watched = -1;
	if (fd >= 0 && epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
		ctx->watched = fd;
}

/* Milliseconds until libcurl's timeout, at most a second. */
static int
timer_ms(const struct probe_http_ctx *ctx)
{
	int64_t left;

	if (ctx->timer_at < 0)
		return 1000;
	left = ctx->timer_at - mono_now_us();
	if (left <= 0)
		return 0;
	return left >= 1000000 ? 1000 : (int)((left + 999) / 1000);
}

static int
socket_mask(uint32_t events)
{
	int mask = 0;

	if (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
		mask |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		mask |= CURL_CSELECT_OUT;
	if ((events & EPOLLERR) && mask == 0)
		mask = CURL_CSELECT_IN | CURL_CSELECT_OUT;
	return mask;
}

int
probe_http_batch_run(struct probe_http_ctx *ctx, int fd,
    probe_http_done_cb done, void *arg)
{
	struct epoll_event ev[PROBE_HTTP_BATCH_MAX + 1];
	int i, n, running = 0, readable = 0;

	/* Transfers just added wait for this: libcurl set a 0 ms timer. */
	if (ctx->timer_at >= 0 && timer_ms(ctx) == 0) {
		ctx->timer_at = -1;
		curl_multi_socket_action(ctx->multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
		batch_collect(ctx, done, arg);
	}
	if (ctx->active == 0)
		return 0;
	watch_fd(ctx, fd);
	n = epoll_wait(ctx->epfd, ev, (int)(sizeof(ev) / sizeof(ev[0])),
	    timer_ms(ctx));
	if (n == -1 && errno != EINTR)
		fatal("epoll_wait");
	for (i = 0; i < n; i++) {
		if (ev[i].data.fd == ctx->watched) {
			readable = 1;
			continue;
		}
		curl_multi_socket_action(ctx->multi, ev[i].data.fd,
		    socket_mask(ev[i].events), &running);
	}
	if (ctx->timer_at >= 0 && timer_ms(ctx) == 0) {
		ctx->timer_at = -1;
		curl_multi_socket_action(ctx->multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
	}
	batch_collect(ctx, done, arg);
	return readable;
}
