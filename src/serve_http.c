/* serve's HTTP endpoints on libevent's evhttp: metrics, health, a status page. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "serve.h"
#include "util.h"

/* Connections served at once; past it a scrape gets 503 at once. */
#define HTTP_CONN_MAX 64
/* A client idle (or not reading) this long is dropped. */
#define HTTP_TIMEOUT_S 10
/* A page this fresh is served again, so a flood of scrapes renders once. */
#define HTTP_PAGE_FRESH_US (250 * USEC_PER_MSEC)

/* A rendered /metrics page, shared by every reply that sends it. */
struct page {
	char *data;
	size_t len;
	unsigned refs; /* replies still sending it, and the cache */
	int64_t made_us;
};

struct serve_http {
	struct serve *srv;
	struct evhttp *http;
	struct evconnlistener *listeners[2];
	unsigned nlisteners;
	struct event *ev_resume; /* accepting again after EMFILE */
	int64_t last_pause_log_us;
	struct evhttp_connection *conns[HTTP_CONN_MAX];
	unsigned nconns;
	struct page *page;
};

static void
page_unref(struct page *p)
{
	if (p != NULL && --p->refs == 0) {
		free(p->data);
		free(p);
	}
}

static void
page_done(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	page_unref(arg);
}

/* The current page, rendered again when it is stale. */
static struct page *
page_get(struct serve_http *h)
{
	struct page *p;
	FILE *f;
	int64_t now = mono_now_us();

	if (h->page != NULL && now - h->page->made_us < HTTP_PAGE_FRESH_US)
		return h->page;
	p = xcalloc(1, sizeof(*p));
	if ((f = open_memstream(&p->data, &p->len)) == NULL)
		fatal("open_memstream");
	/* Only this thread writes it: no lock around each of a million puts. */
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	if (serve_metrics_write(f, h->srv) == -1 || fclose(f) == EOF)
		fatalx("cannot render /metrics");
	p->refs = 1;
	p->made_us = now;
	page_unref(h->page);
	h->page = p;
	return p;
}

static void
on_conn_close(struct evhttp_connection *evcon, void *arg)
{
	struct serve_http *h = arg;
	unsigned i;

	evhttp_connection_set_closecb(evcon, NULL, NULL);
	for (i = 0; i < h->nconns; i++)
		if (h->conns[i] == evcon) {
			h->conns[i] = h->conns[--h->nconns];
			return;
		}
}

/* Accepting stops for a while after it fails, to not spin on EMFILE. */
#define HTTP_PAUSE_US (250 * USEC_PER_MSEC)
#define HTTP_PAUSE_LOG_US (10 * USEC_PER_SEC)

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct serve_http *h = arg;
	unsigned i;

	for (i = 0; i < h->nlisteners; i++)
		evconnlistener_enable(h->listeners[i]);
}

/*
 * accept() failed for a reason retrying will not cure now (out of
 * descriptors, most often): pause every listener, and say so now and then.
 */
/*
 * The listener passes its error callback evhttp's own argument, not ours:
 * the server whose listeners these are is kept here (one per process).
 */
static struct serve_http *accepting;

static void
on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct serve_http *h = accepting;
	struct timeval tv = {0, HTTP_PAUSE_US};
	int64_t now = mono_now_us();
	int err = EVUTIL_SOCKET_ERROR();
	unsigned i;

	(void)lev;
	(void)arg;
	if (h == NULL)
		return;
	for (i = 0; i < h->nlisteners; i++)
		evconnlistener_disable(h->listeners[i]);
	evtimer_add(h->ev_resume, &tv);
	if (now - h->last_pause_log_us >= HTTP_PAUSE_LOG_US) {
		h->last_pause_log_us = now;
		log_event(LOG_LEVEL_WARN, "cannot accept connections", "error",
		    strerror(err), "pause", "250ms", LOG_END);
	}
}

/* Remember a bound socket's listener, to pause it on errors. */
static bool
bound(struct serve_http *h, struct evhttp_bound_socket *b)
{
	if (b == NULL)
		return false;
	h->listeners[h->nlisteners] = evhttp_bound_socket_get_listener(b);
	evconnlistener_set_error_cb(h->listeners[h->nlisteners],
	    on_accept_error);
	h->nlisteners++;
	return true;
}

void
serve_http_invalidate(struct serve_http *h)
{
	if (h != NULL && h->page != NULL)
		h->page->made_us = INT64_MIN / 2;
}

/* Count a new connection; false when there is no room for it. */
static bool
conn_admit(struct serve_http *h, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	unsigned i;

	for (i = 0; i < h->nconns; i++)
		if (h->conns[i] == evcon)
			return true;
	if (h->nconns == HTTP_CONN_MAX)
		return false;
	h->conns[h->nconns++] = evcon;
	evhttp_connection_set_closecb(evcon, on_conn_close, h);
	return true;
}

void
serve_http_reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL)
		fatalx("out of memory");
	evbuffer_add(b, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

static void
serve_metrics(struct serve_http *h, struct evhttp_request *req)
{
	struct page *p = page_get(h);
	struct evbuffer *b = evbuffer_new();

	if (b == NULL)
		fatalx("out of memory");
	p->refs++;
	if (evbuffer_add_reference(b, p->data, p->len, page_done, p) == -1)
		fatalx("out of memory");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

/* Text made safe for HTML. */
static void
put_html(struct evbuffer *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			evbuffer_add(b, "&amp;", 5);
			break;
		case '<':
			evbuffer_add(b, "&lt;", 4);
			break;
		case '>':
			evbuffer_add(b, "&gt;", 4);
			break;
		case '"':
			evbuffer_add(b, "&quot;", 6);
			break;
		case '\'':
			evbuffer_add(b, "&#39;", 5);
			break;
		default:
			evbuffer_add(b, s, 1);
		}
	}
}

static void
serve_index(struct serve_http *h, struct evhttp_request *req)
{
	static const char *const states[] = {"pending", "down", "up"};
	struct evbuffer *b = evbuffer_new();
	const struct srv_target *st;
	char canon[TARGET_CANONICAL_MAX];
	size_t i;

	if (b == NULL)
		fatalx("out of memory");
	evbuffer_add_printf(b,
	    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<title>pulse</title></head><body>\n<h1>pulse %s</h1>\n"
	    "<p><a href=\"/metrics\">metrics</a></p>\n<table>\n"
	    "<tr><th>name</th><th>target</th><th>kind</th><th>state</th>"
	    "<th>error</th></tr>\n",
	    PULSE_VERSION);
	for (i = 0; i < h->srv->n; i++) {
		st = h->srv->v[i];
		target_canonical(&st->t, canon, sizeof(canon));
		evbuffer_add_printf(b, "<tr><td>");
		put_html(b, target_name(&st->t));
		evbuffer_add_printf(b, "</td><td>");
		put_html(b, canon);
		evbuffer_add_printf(b, "</td><td>%s</td><td>%s</td><td>",
		    target_kind_name(st->t.kind), states[st->state + 1]);
		if (st->has_result && !st->last.success)
			put_html(b, st->last.error);
		evbuffer_add_printf(b, "</td></tr>\n");
	}
	evbuffer_add_printf(b, "</table>\n</body></html>\n");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/html; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
serve_reload_request(struct serve_http *h, struct evhttp_request *req)
{
	char why[512], text[600];

	if (!h->srv->opts.enable_reload) {
		serve_http_reply_text(req, 403, "Forbidden",
		    "reloading over HTTP is off (see --enable-reload)\n");
		return;
	}
	if (serve_reload(h->srv, why, sizeof(why)) == 0) {
		serve_http_reply_text(req, 200, "OK", "Reloaded\n");
		return;
	}
	snprintf(text, sizeof(text), "%s\n", why);
	serve_http_reply_text(req, 500, "Internal Server Error", text);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct serve_http *h = arg;
	const char *path =
	    evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	bool get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD;

	if (!conn_admit(h, req)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		serve_http_reply_text(req, 503, "Service Unavailable",
		    "too many connections\n");
		return;
	}
	if (path == NULL)
		path = "/";
	if (strcmp(path, "/-/reload") == 0) {
		if (cmd == EVHTTP_REQ_POST || cmd == EVHTTP_REQ_PUT)
			serve_reload_request(h, req);
		else
			serve_http_reply_text(req, 405, "Method Not Allowed",
			    "use POST\n");
		return;
	}
	if (strcmp(path, "/metrics") != 0 && strcmp(path, "/") != 0 &&
	    strcmp(path, "/probe") != 0 && strcmp(path, "/-/healthy") != 0 &&
	    strcmp(path, "/-/ready") != 0) {
		serve_http_reply_text(req, 404, "Not Found", "not found\n");
		return;
	}
	if (!get) {
		serve_http_reply_text(req, 405, "Method Not Allowed",
		    "use GET\n");
		return;
	}
	if (strcmp(path, "/metrics") == 0)
		serve_metrics(h, req);
	else if (strcmp(path, "/probe") == 0)
		serve_probe_request(h->srv, req);
	else if (strcmp(path, "/") == 0)
		serve_index(h, req);
	else if (strcmp(path, "/-/healthy") == 0)
		serve_http_reply_text(req, 200, "OK", "Healthy\n");
	else if (!h->srv->draining)
		serve_http_reply_text(req, 200, "OK", "Ready\n");
	else
		serve_http_reply_text(req, 503, "Service Unavailable",
		    "Draining\n");
}

/*
 * "ADDR:PORT", "[V6]:PORT" or ":PORT" (every address) into its parts.  The
 * address is a literal or localhost: a listener never looks a name up.
 */
int
serve_listen_parse(const char *s, char *addr, size_t len, unsigned *port)
{
	const char *colon = strrchr(s, ':');
	struct in6_addr a;
	char why[64];
	long long v;
	size_t n;
	bool v6;

	if (colon == NULL ||
	    parse_int_range(colon + 1, 1, 65535, &v, why, sizeof(why)) == -1)
		return -1;
	*port = (unsigned)v;
	n = (size_t)(colon - s);
	v6 = n >= 2 && s[0] == '[' && s[n - 1] == ']';
	if (v6) {
		s++;
		n -= 2;
	}
	if (n >= len)
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (n == 0 && !v6)
		return 0;
	if (v6)
		return inet_pton(AF_INET6, addr, &a) == 1 ? 0 : -1;
	return inet_pton(AF_INET, addr, &a) == 1 ||
	        strcmp(addr, "localhost") == 0
	    ? 0
	    : -1;
}

struct serve_http *
serve_http_start(struct serve *srv, const char *listen, char *errbuf,
    size_t errlen)
{
	struct serve_http *h = xcalloc(1, sizeof(*h));
	char addr[128];
	unsigned port;

	h->srv = srv;
	if (serve_listen_parse(listen, addr, sizeof(addr), &port) == -1) {
		snprintf(errbuf, errlen,
		    "--listen %s: expected ADDR:PORT or "
		    ":PORT",
		    listen);
		goto fail;
	}
	if ((h->http = evhttp_new(srv->base)) == NULL)
		fatalx("evhttp_new failed");
	evhttp_set_timeout(h->http, HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(h->http, 16384);
	evhttp_set_max_body_size(h->http, 4096);
	/* Every method reaches on_request, which answers 405 itself. */
	evhttp_set_allowed_methods(h->http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	        EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
	        EVHTTP_REQ_TRACE | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(h->http, on_request, h);
	/*
	 * Every address: "::" takes IPv4 too unless net.ipv6.bindv6only is
	 * set, when "0.0.0.0" binds as well; either is enough.
	 */
	if ((h->ev_resume = evtimer_new(srv->base, on_resume, h)) == NULL)
		fatalx("cannot make a timer");
	accepting = h;
	if (addr[0] == '\0') {
		bool v6 = bound(h,
		    evhttp_bind_socket_with_handle(h->http,
		        "::", (uint16_t)port));
		bool v4 = bound(h,
		    evhttp_bind_socket_with_handle(h->http, "0.0.0.0",
		        (uint16_t)port));

		if (v6 || v4)
			return h;
	} else if (bound(h,
	               evhttp_bind_socket_with_handle(h->http, addr,
	                   (uint16_t)port)))
		return h;
	snprintf(errbuf, errlen, "cannot listen on %s: %s", listen,
	    strerror(errno));
fail:
	serve_http_stop(h);
	return NULL;
}

void
serve_http_stop(struct serve_http *h)
{
	if (h == NULL)
		return;
	if (accepting == h)
		accepting = NULL;
	/* Waiting requests are answered before evhttp frees them. */
	serve_probe_abandon(h->srv);
	if (h->http != NULL)
		evhttp_free(h->http);
	if (h->ev_resume != NULL)
		event_free(h->ev_resume);
	page_unref(h->page);
	free(h);
}
