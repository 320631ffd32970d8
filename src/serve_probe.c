/*
 * blackbox_exporter's /probe?target=&module=: one probe asked for over
 * HTTP, built from a module of the config, held to the allowlist, and
 * answered with its metrics when the probe ends.
 */
#include "config.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_yaml.h"
#include "log.h"
#include "output.h"
#include "serve.h"
#include "supervisor.h"
#include "util.h"

/* The module of a request that names none, as blackbox_exporter has it. */
#define PROBE_DEFAULT_MODULE "http_2xx"
/* What a probe leaves of Prometheus' scrape timeout, as blackbox does. */
#define PROBE_SCRAPE_OFFSET_US (500 * USEC_PER_MSEC)

/* A probe asked for and not answered yet. */
struct probe_pending {
	struct probe_pending *next, **prevp;
	struct evhttp_request *req; /* NULL once answered or abandoned */
	struct target t;            /* what the pool probes; outlives req */
};

static const char *const code_reasons[PROBE_CODES] = {"OK", "Bad Request",
    "Forbidden", "Service Unavailable"};
static const int codes[PROBE_CODES] = {200, 400, 403, 503};

static void answer(struct serve *srv, struct evhttp_request *req,
    enum probe_code c, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A plain-text answer, counted by its code. */
static void
answer(struct serve *srv, struct evhttp_request *req, enum probe_code c,
    const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	srv->probe_replies[c]++;
	serve_http_reply_text(req, codes[c], code_reasons[c], text);
}

/*
 * The target as the module's kind writes it: blackbox_exporter takes
 * "host" for http (and adds http://), "host:port" for tcp, "host" for icmp.
 */
static int
probe_spec(enum target_kind kind, const char *target, char *buf, size_t len)
{
	const char *scheme = kind == TARGET_HTTP ? "http://"
	    : kind == TARGET_TCP                 ? "tcp://"
	                                         : "icmp://";
	bool bare_v6 = kind == TARGET_ICMP && strchr(target, ':') != NULL &&
	    target[0] != '[' && strstr(target, "://") == NULL;
	int n;

	if (strstr(target, "://") != NULL)
		n = snprintf(buf, len, "%s", target);
	else if (bare_v6)
		n = snprintf(buf, len, "%s[%s]", scheme, target);
	else
		n = snprintf(buf, len, "%s%s", scheme, target);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* True when s holds no space or control character, so a log line stays one. */
static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

/*
 * The probe's timeout: its own (module or defaults), else serve's, cut to
 * what Prometheus will wait for less half a second.
 */
static int64_t
probe_timeout(const struct serve *srv, const struct target *t,
    struct evhttp_request *req)
{
	const char *h =
	    evhttp_find_header(evhttp_request_get_input_headers(req),
	        "X-Prometheus-Scrape-Timeout-Seconds");
	int64_t us = t->timeout_us > 0 ? t->timeout_us : srv->opts.timeout_us;
	int64_t scrape, cap;
	char *end;
	double s;

	if (h == NULL)
		return us;
	s = strtod(h, &end);
	if (end == h || *end != '\0' || !isfinite(s) || s <= 0 || s > 3600)
		return us;
	scrape = (int64_t)(s * USEC_PER_SEC);
	cap = scrape > 2 * PROBE_SCRAPE_OFFSET_US
	    ? scrape - PROBE_SCRAPE_OFFSET_US
	    : scrape / 2;
	if (cap < USEC_PER_MSEC)
		cap = USEC_PER_MSEC;
	return us < cap ? us : cap;
}

/* Probes /probe may hold at once: half the pool, so schedules go on. */
static unsigned
pending_max(const struct serve *srv)
{
	return srv->opts.workers > 1 ? srv->opts.workers / 2 : 1;
}

/* Build the target of a request; 0, or -1 when it was answered already. */
static int
probe_build(struct serve *srv, struct evhttp_request *req, const char *target,
    const char *module, struct target *t)
{
	enum target_kind kind = config_modules_kind(srv->modules, module);
	char spec[TARGET_URL_MAX + 16], why[512];

	if (kind == 0) {
		answer(srv, req, PROBE_400, "Unknown module \"%.128s\"\n",
		    module);
		return -1;
	}
	if (!printable(target) ||
	    probe_spec(kind, target, spec, sizeof(spec)) == -1) {
		answer(srv, req, PROBE_400,
		    "target: spaces, control characters or over %d bytes\n",
		    TARGET_URL_MAX);
		return -1;
	}
	if (config_modules_build(srv->modules, module, spec, t, why,
	        sizeof(why)) == -1) {
		answer(srv, req, PROBE_400, "target %.256s: %s\n", target, why);
		return -1;
	}
	if (!allowlist_host_ok(&srv->opts.allow, t->host)) {
		log_event(LOG_LEVEL_DEBUG, "probe refused", "target", target,
		    "module", module, LOG_END);
		answer(srv, req, PROBE_403,
		    "target %.256s is outside the allowlist (--probe-allow)\n",
		    t->host);
		target_clear(t);
		return -1;
	}
	return 0;
}

void
serve_probe_request(struct serve *srv, struct evhttp_request *req)
{
	struct evkeyvalq q;
	const char *query, *target, *module;
	struct probe_pending *p;
	struct target t;

	if (!srv->opts.enable_probe) {
		answer(srv, req, PROBE_403,
		    "the probe endpoint is off (see "
		    "--enable-probe-endpoint)\n");
		return;
	}
	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	TAILQ_INIT(&q);
	if (query != NULL && evhttp_parse_query_str(query, &q) == -1) {
		answer(srv, req, PROBE_400, "malformed query\n");
		goto out;
	}
	target = evhttp_find_header(&q, "target");
	if ((module = evhttp_find_header(&q, "module")) == NULL)
		module = PROBE_DEFAULT_MODULE;
	if (target == NULL || target[0] == '\0') {
		answer(srv, req, PROBE_400, "Target parameter is missing\n");
		goto out;
	}
	if (srv->npending >= pending_max(srv)) {
		answer(srv, req, PROBE_503,
		    "too many probes in flight (%u); more --workers allow "
		    "more\n",
		    pending_max(srv));
		goto out;
	}
	if (probe_build(srv, req, target, module, &t) == -1)
		goto out;
	p = xcalloc(1, sizeof(*p));
	p->req = req;
	p->t = t;
	p->t.timeout_us = probe_timeout(srv, &t, req);
	p->t.allow = &srv->opts.allow;
	if ((p->next = srv->pending) != NULL)
		p->next->prevp = &p->next;
	p->prevp = &srv->pending;
	srv->pending = p;
	srv->npending++;
	sup_submit(srv->sup, &p->t, (uint64_t)(uintptr_t)p | SERVE_PROBE_ID);
out:
	evhttp_clear_headers(&q);
}

static void
pending_free(struct serve *srv, struct probe_pending *p)
{
	if ((*p->prevp = p->next) != NULL)
		p->next->prevp = p->prevp;
	srv->npending--;
	target_clear(&p->t);
	free(p);
}

void
serve_probe_on_result(struct serve *srv, uint64_t id, const struct result *r)
{
	struct probe_pending *p =
	    (struct probe_pending *)(uintptr_t)(id & ~(uint64_t)SERVE_PROBE_ID);
	struct evbuffer *b;
	char *page = NULL;
	size_t len = 0;
	FILE *f;

	if (p->req != NULL) {
		if ((f = open_memstream(&page, &len)) == NULL)
			fatal("open_memstream");
		if (output_prom_write_probe(f, &p->t, r) == -1 ||
		    fclose(f) == EOF)
			fatalx("cannot render a probe");
		if ((b = evbuffer_new()) == NULL)
			fatalx("out of memory");
		evbuffer_add(b, page, len);
		free(page);
		evhttp_add_header(evhttp_request_get_output_headers(p->req),
		    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
		srv->probe_replies[PROBE_200]++;
		evhttp_send_reply(p->req, 200, "OK", b);
		evbuffer_free(b);
	}
	pending_free(srv, p);
}

void
serve_probe_abandon(struct serve *srv)
{
	struct evhttp_connection *evcon;
	struct bufferevent *bev;
	struct probe_pending *p;

	for (p = srv->pending; p != NULL; p = p->next)
		if (p->req != NULL) {
			evcon = evhttp_request_get_connection(p->req);
			answer(srv, p->req, PROBE_503, "shutting down\n");
			p->req = NULL;
			/* evhttp is freed next: the answer leaves now or never. */
			if (evcon != NULL &&
			    (bev = evhttp_connection_get_bufferevent(evcon)) !=
			        NULL)
				(void)evbuffer_write(bufferevent_get_output(
				                         bev),
				    bufferevent_getfd(bev));
		}
}

void
serve_probe_free(struct serve *srv)
{
	while (srv->pending != NULL)
		pending_free(srv, srv->pending);
}
