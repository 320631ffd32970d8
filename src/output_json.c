/* Render a scan as one JSON document (field names documented in pulse(8)). */
#include "config.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "output_json.h"
#include "util.h"

/*
 * Add a field whose name is a string constant and new to the object: json-c
 * then neither copies the name nor looks for an earlier field of it.
 */
static void
jadd(json_object *o, const char *key, json_object *val)
{
	json_object_object_add_ex(o, key, val,
	    JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT);
}

/* Seconds with microsecond precision: 0.000123, 5.0. */
static json_object *
json_seconds(int64_t us)
{
	char buf[32];

	fixed_text(us, 6, buf, sizeof(buf));
	return json_object_new_double_s((double)us / USEC_PER_SEC, buf);
}

static json_object *
json_seconds_or_null(int64_t us)
{
	return us < 0 ? NULL : json_seconds(us);
}

static json_object *
json_string_or_null(const char *s)
{
	return s != NULL && *s != '\0' ? json_object_new_string(s) : NULL;
}

/* Echo counts, loss and round-trip statistics of an ICMP probe. */
static void
json_icmp(json_object *o, const struct result *r)
{
	json_object *rtt = NULL;
	char loss[16];

	jadd(o, "sent", json_object_new_int64(r->sent));
	jadd(o, "received", json_object_new_int64(r->received));
	/* The ratio in ten-thousandths, rounded half up. */
	fixed_text(r->sent > 0
	        ? ((int64_t)(r->sent - r->received) * 20000 / r->sent + 1) / 2
	        : 10000,
	    4, loss, sizeof(loss));
	jadd(o, "loss_ratio",
	    json_object_new_double_s(r->sent > 0
	            ? (double)(r->sent - r->received) / r->sent
	            : 1.0,
	        loss));
	jadd(o, "duplicates", json_object_new_int64(r->duplicates));
	if (r->received > 0) {
		rtt = json_object_new_object();
		jadd(rtt, "min", json_seconds(r->rtt_min_us));
		jadd(rtt, "avg", json_seconds(r->rtt_avg_us));
		jadd(rtt, "max", json_seconds(r->rtt_max_us));
		jadd(rtt, "stddev", json_seconds(r->rtt_stddev_us));
	}
	jadd(o, "rtt_seconds", rtt);
	jadd(o, "reply_ttl",
	    r->reply_ttl >= 0 ? json_object_new_int(r->reply_ttl) : NULL);
}

static json_object *
json_phases(const struct result *r)
{
	json_object *o = json_object_new_object();

	jadd(o, "resolve", json_seconds_or_null(r->dns_us));
	jadd(o, "connect", json_seconds_or_null(r->connect_us));
	jadd(o, "tls", json_seconds_or_null(r->http.tls_us));
	jadd(o, "processing", json_seconds_or_null(r->http.processing_us));
	jadd(o, "transfer", json_seconds_or_null(r->http.transfer_us));
	return o;
}

/* The session and the earliest certificate expiry of an HTTPS probe. */
static json_object *
json_tls(const struct result *r, int64_t now_s)
{
	const struct result_http *h = &r->http;
	json_object *o;
	char when[40];
	int64_t left;

	if (h->tls_version[0] == '\0')
		return NULL;
	o = json_object_new_object();
	jadd(o, "version", json_object_new_string(h->tls_version));
	jadd(o, "cipher", json_string_or_null(h->tls_cipher));
	if (h->cert_not_after > 0) {
		format_rfc3339(h->cert_not_after * USEC_PER_SEC, when,
		    sizeof(when));
		/* Whole seconds: drop the ".000" of the milliseconds. */
		if (strlen(when) > 5 &&
		    strcmp(when + strlen(when) - 5, ".000Z") == 0)
			strcpy(when + strlen(when) - 5, "Z");
		left = h->cert_not_after - now_s;
		jadd(o, "cert_not_after", json_object_new_string(when));
		jadd(o, "cert_expiry_timestamp",
		    json_object_new_int64(h->cert_not_after));
		/* Floor, so a certificate expired an hour ago has -1 days. */
		jadd(o, "cert_days_left",
		    json_object_new_int64(
		        left >= 0 ? left / 86400 : -((-left + 86399) / 86400)));
	}
	return o;
}

static const char *
http_version_text(unsigned v)
{
	switch (v) {
	case 10:
		return "1.0";
	case 11:
		return "1.1";
	case 20:
		return "2";
	case 30:
		return "3";
	}
	return NULL;
}

/* Status, body and phases of an HTTP probe. */
static void
json_http(json_object *o, const struct target *t, const struct result *r)
{
	const struct result_http *h = &r->http;
	const char *v = http_version_text(h->version);

	jadd(o, "status_code",
	    h->status > 0 ? json_object_new_int(h->status) : NULL);
	jadd(o, "http_version", v != NULL ? json_object_new_string(v) : NULL);
	jadd(o, "final_url",
	    json_object_new_string(
	        h->final_url != NULL ? h->final_url : t->http->canonical));
	jadd(o, "redirects", json_object_new_int64(h->redirects));
	jadd(o, "content_length", json_object_new_int64(h->content_length));
	jadd(o, "body_matched",
	    h->body_matched >= 0 ? json_object_new_boolean(h->body_matched)
	                         : NULL);
	jadd(o, "phases_seconds", json_phases(r));
	jadd(o, "tls",
	    json_tls(r, (r->start_us + r->duration_us) / USEC_PER_SEC));
}

static json_object *
json_labels(const struct target *t)
{
	json_object *o = json_object_new_object();
	unsigned i;

	/* Label names are checked and unique: no lookup needed. */
	for (i = 0; i < t->nlabels; i++)
		json_object_object_add_ex(o, t->labels[i].name,
		    json_object_new_string(t->labels[i].value),
		    JSON_C_OBJECT_ADD_KEY_IS_NEW);
	return o;
}

json_object *
output_json_result(const struct target *t, const struct result *r,
    int64_t default_timeout_us)
{
	json_object *o = json_object_new_object();
	char canon[TARGET_CANONICAL_MAX];

	target_canonical(t, canon, sizeof(canon));
	jadd(o, "target", json_object_new_string(canon));
	jadd(o, "name", json_object_new_string(target_name(t)));
	jadd(o, "labels", json_labels(t));
	jadd(o, "kind", json_object_new_string(target_kind_name(t->kind)));
	jadd(o, "host", json_object_new_string(t->host));
	if (t->kind != TARGET_ICMP)
		jadd(o, "port", json_object_new_int(t->port));
	jadd(o, "success", json_object_new_boolean(r->success));
	jadd(o, "reason",
	    r->success ? NULL : json_object_new_string(reason_name(r->reason)));
	jadd(o, "error", r->success ? NULL : json_string_or_null(r->error));
	jadd(o, "address", json_string_or_null(r->address));
	jadd(o, "timeout_seconds",
	    json_seconds(
	        t->timeout_us > 0 ? t->timeout_us : default_timeout_us));
	jadd(o, "duration_seconds", json_seconds(r->duration_us));
	jadd(o, "dns_seconds", json_seconds_or_null(r->dns_us));
	if (t->kind == TARGET_ICMP)
		json_icmp(o, r);
	else
		jadd(o, "connect_seconds", json_seconds_or_null(r->connect_us));
	if (t->kind == TARGET_HTTP)
		json_http(o, t, r);
	return o;
}

static json_object *
json_counts(const struct scan_report *rep)
{
	json_object *o = json_object_new_object();
	struct scan_counts c;

	scan_report_count(rep, &c);
	jadd(o, "total", json_object_new_int64(c.total));
	jadd(o, "up", json_object_new_int64(c.up));
	jadd(o, "down", json_object_new_int64(c.down));
	jadd(o, "cancelled", json_object_new_int64(c.cancelled));
	return o;
}

#define JSON_FLAGS                                                             \
	(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |                   \
	    JSON_C_TO_STRING_NOSLASHESCAPE)

/* A result is one line: readable, greppable, and much cheaper to write. */
#define JSON_LINE_FLAGS                                                        \
	(JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Write s with every line indented by four spaces. */
static void
put_indented(FILE *f, const char *s)
{
	const char *nl;

	for (; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		fputs("    ", f);
		fwrite(s, 1, (size_t)(nl - s + 1), f);
	}
	fputs("    ", f);
	fputs(s, f);
}

/* Everything but the results, as an object whose "}" is left open. */
static int
put_head(FILE *f, const struct scan_report *rep)
{
	json_object *doc = json_object_new_object();
	char started[40];
	const char *text;
	size_t n;

	format_rfc3339(rep->start_us, started, sizeof(started));
	jadd(doc, "version", json_object_new_string(PULSE_VERSION));
	jadd(doc, "started", json_object_new_string(started));
	jadd(doc, "duration_seconds", json_seconds(rep->duration_us));
	jadd(doc, "workers", json_object_new_int64(rep->workers));
	jadd(doc, "interrupted", json_string_or_null(rep->interrupted));
	jadd(doc, "counts", json_counts(rep));
	text = json_object_to_json_string_ext(doc, JSON_FLAGS);
	n = strlen(text);
	if (n < 2 || strcmp(text + n - 2, "\n}") != 0) {
		json_object_put(doc);
		return -1;
	}
	fprintf(f, "%.*s,\n  \"results\": [", (int)(n - 2), text);
	json_object_put(doc);
	return 0;
}

/*
 * The document is streamed one result at a time, so memory does not grow
 * with a JSON tree of the whole scan.
 */
int
output_json_write(FILE *f, const struct scan_report *rep)
{
	json_object *o;
	struct result tmp;
	size_t i;

	if (put_head(f, rep) == -1)
		return -1;
	result_init(&tmp);
	for (i = 0; i < rep->n; i++) {
		o = output_json_result(&rep->targets[i],
		    scan_report_result(rep, i, &tmp), rep->default_timeout_us);
		fputs(i == 0 ? "\n" : ",\n", f);
		put_indented(f,
		    json_object_to_json_string_ext(o, JSON_LINE_FLAGS));
		json_object_put(o);
	}
	result_release(&tmp);
	fputs(rep->n > 0 ? "\n  ]\n}\n" : " ]\n}\n", f);
	return ferror(f) ? -1 : 0;
}
