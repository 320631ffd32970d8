/*
 * Render a scan in the Prometheus text exposition format 0.0.4, with
 * blackbox_exporter's names wherever the meaning is the same.
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "util.h"

/*
 * Where samples go.  A family is walked twice: once with f NULL to count
 * its samples, so that a family with none is left out, and once to write.
 */
struct sink {
	FILE *f;
	size_t n;
	const struct target *t;
	bool bare;                        /* no target labels: one probe */
	char canon[TARGET_CANONICAL_MAX]; /* t's canonical form */
};

/*
 * A label value, escaped: backslash, double quote and newline.  Runs of
 * bytes that need nothing are written in one go: a page of 10,000
 * targets holds hundreds of thousands of label values.
 */
static void
put_label_value(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;
	int valid = utf8_valid(s);

	for (; *p != '\0'; p++) {
		if (*p != '\\' && *p != '"' && *p != '\n' &&
		    (*p < 0x80 || valid))
			continue;
		fwrite(run, 1, (size_t)(p - run), f);
		run = p + 1;
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '"')
			fputs("\\\"", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc('?', f); /* Prometheus takes UTF-8 only */
	}
	fwrite(run, 1, (size_t)(p - run), f);
}

static void
put_label(FILE *f, const char *name, const char *value, int *first)
{
	fputc(*first ? '{' : ',', f);
	fputs(name, f);
	fputs("=\"", f);
	put_label_value(f, value);
	fputc('"', f);
	*first = 0;
}

/*
 * One sample of the current target: its labels, then the family's own
 * (extra, NULL for none), then the value's text.
 */
/* The labels of t (canonical form canon) and one more, in braces. */
static void
put_target_labels(FILE *f, const struct target *t, const char *canon,
    const char *extra, const char *extra_value)
{
	unsigned i;
	int first = 1;

	put_label(f, "target", canon, &first);
	put_label(f, "kind", target_kind_name(t->kind), &first);
	put_label(f, "name", target_name(t), &first);
	for (i = 0; i < t->nlabels; i++)
		/* The family's own label wins over one of the same name. */
		if (extra == NULL || strcmp(t->labels[i].name, extra) != 0)
			put_label(f, t->labels[i].name, t->labels[i].value,
			    &first);
	if (extra != NULL)
		put_label(f, extra, extra_value, &first);
	fputc('}', f);
}

void
output_prom_target_labels(FILE *f, const struct target *t, const char *extra,
    const char *extra_value)
{
	char canon[TARGET_CANONICAL_MAX];

	target_canonical(t, canon, sizeof(canon));
	put_target_labels(f, t, canon, extra, extra_value);
}

void
output_prom_label_value(FILE *f, const char *s)
{
	put_label_value(f, s);
}

static void
sample(struct sink *s, const char *family, const char *extra,
    const char *extra_value, const char *value)
{
	s->n++;
	if (s->f == NULL)
		return;
	fputs(family, s->f);
	if (!s->bare)
		put_target_labels(s->f, s->t, s->canon, extra, extra_value);
	else if (extra != NULL) {
		int first = 1;

		put_label(s->f, extra, extra_value, &first);
		fputc('}', s->f);
	}
	fputc(' ', s->f);
	fputs(value, s->f);
	fputc('\n', s->f);
}

static void
sample_int(struct sink *s, const char *family, const char *extra,
    const char *extra_value, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	sample(s, family, extra, extra_value, buf);
}

/* Seconds from microseconds, skipped when not measured (negative). */
static void
sample_seconds(struct sink *s, const char *family, const char *extra,
    const char *extra_value, int64_t us)
{
	char buf[32];

	if (us < 0)
		return;
	fixed_text(us, 6, buf, sizeof(buf));
	sample(s, family, extra, extra_value, buf);
}

/* --- families common to every kind ---------------------------------------- */

static void
f_success(struct sink *s, const struct result *r)
{
	sample_int(s, "probe_success", NULL, NULL, r->success);
}

static void
f_duration(struct sink *s, const struct result *r)
{
	sample_seconds(s, "probe_duration_seconds", NULL, NULL, r->duration_us);
}

/* A literal needs no lookup: 0, as blackbox_exporter has it. */
static void
f_dns(struct sink *s, const struct result *r)
{
	sample_seconds(s, "probe_dns_lookup_time_seconds", NULL, NULL,
	    r->dns_us > 0 ? r->dns_us : 0);
}

static void
f_reason(struct sink *s, const struct result *r)
{
	if (!r->success)
		sample(s, "probe_failure_reason", "reason",
		    reason_name(r->reason), "1");
}

static void
f_ip_protocol(struct sink *s, const struct result *r)
{
	if (r->address[0] != '\0')
		sample_int(s, "probe_ip_protocol", NULL, NULL,
		    strchr(r->address, ':') != NULL ? 6 : 4);
}

/* --- tcp ------------------------------------------------------------------ */

/* FNV-1a of the address text, 32 bits, as blackbox_exporter hashes it. */
static void
f_ip_hash(struct sink *s, const struct result *r)
{
	uint32_t h = 2166136261U;
	const unsigned char *p;

	if (r->address[0] == '\0')
		return;
	for (p = (const unsigned char *)r->address; *p != '\0'; p++)
		h = (h ^ *p) * 16777619U;
	sample_int(s, "probe_ip_addr_hash", NULL, NULL, h);
}

static void
f_tcp_connect(struct sink *s, const struct result *r)
{
	if (s->t->kind == TARGET_TCP)
		sample_seconds(s, "probe_tcp_connect_duration_seconds", NULL,
		    NULL, r->connect_us);
}

/* --- http ----------------------------------------------------------------- */

static void
f_http_status(struct sink *s, const struct result *r)
{
	if (s->t->kind == TARGET_HTTP && r->http.status > 0)
		sample_int(s, "probe_http_status_code", NULL, NULL,
		    r->http.status);
}

static void
f_http_phases(struct sink *s, const struct result *r)
{
	const char *f = "probe_http_duration_seconds";

	if (s->t->kind != TARGET_HTTP)
		return;
	/* Every phase, 0 when not reached: sums over phases stay whole. */
	sample_seconds(s, f, "phase", "resolve", r->dns_us > 0 ? r->dns_us : 0);
	sample_seconds(s, f, "phase", "connect",
	    r->connect_us > 0 ? r->connect_us : 0);
	sample_seconds(s, f, "phase", "tls",
	    r->http.tls_us > 0 ? r->http.tls_us : 0);
	sample_seconds(s, f, "phase", "processing",
	    r->http.processing_us > 0 ? r->http.processing_us : 0);
	sample_seconds(s, f, "phase", "transfer",
	    r->http.transfer_us > 0 ? r->http.transfer_us : 0);
}

static void
f_http_redirects(struct sink *s, const struct result *r)
{
	if (s->t->kind == TARGET_HTTP)
		sample_int(s, "probe_http_redirects", NULL, NULL,
		    r->http.redirects);
}

static void
f_http_length(struct sink *s, const struct result *r)
{
	if (s->t->kind == TARGET_HTTP)
		sample_int(s, "probe_http_content_length", NULL, NULL,
		    r->http.content_length);
}

/* The length read, after decoding: the same number as content_length. */
static void
f_http_body_length(struct sink *s, const struct result *r)
{
	if (s->t->kind == TARGET_HTTP)
		sample_int(s, "probe_http_uncompressed_body_length", NULL, NULL,
		    r->http.content_length);
}

static void
f_http_version(struct sink *s, const struct result *r)
{
	const char *v;

	if (s->t->kind != TARGET_HTTP)
		return;
	switch (r->http.version) {
	case 10:
		v = "1";
		break;
	case 11:
		v = "1.1";
		break;
	case 20:
		v = "2";
		break;
	case 30:
		v = "3";
		break;
	default:
		return;
	}
	sample(s, "probe_http_version", NULL, NULL, v);
}

/* Whether the answer came over TLS, as blackbox_exporter has it. */
static void
f_http_ssl(struct sink *s, const struct result *r)
{
	if (s->t->kind == TARGET_HTTP)
		sample_int(s, "probe_http_ssl", NULL, NULL,
		    r->http.tls_version[0] != '\0');
}

static void
f_http_regex(struct sink *s, const struct result *r)
{
	if (s->t->kind == TARGET_HTTP)
		sample_int(s, "probe_failed_due_to_regex", NULL, NULL,
		    r->http.body_matched == 0);
}

static void
f_ssl_expiry(struct sink *s, const struct result *r)
{
	if (s->t->kind == TARGET_HTTP && r->http.cert_not_after > 0)
		sample_int(s, "probe_ssl_earliest_cert_expiry", NULL, NULL,
		    r->http.cert_not_after);
}

/* OpenSSL's "TLSv1.3" spelled as blackbox_exporter does: "TLS 1.3". */
static void
f_tls_version(struct sink *s, const struct result *r)
{
	const char *v = r->http.tls_version;
	char buf[RESULT_TLS_VERSION_MAX + 8];

	if (s->t->kind != TARGET_HTTP || *v == '\0')
		return;
	if (strncmp(v, "TLSv", 4) == 0)
		snprintf(buf, sizeof(buf), "TLS %s", v + 4);
	else if (strcmp(v, "SSLv3") == 0)
		snprintf(buf, sizeof(buf), "SSL 3.0");
	else
		snprintf(buf, sizeof(buf), "%s", v);
	sample(s, "probe_tls_version_info", "version", buf, "1");
}

/* --- icmp ----------------------------------------------------------------- */

static void
f_icmp_duration(struct sink *s, const struct result *r)
{
	if (s->t->kind == TARGET_ICMP && r->received > 0)
		sample_seconds(s, "probe_icmp_duration_seconds", "phase", "rtt",
		    r->rtt_avg_us);
}

static void
f_icmp_hop_limit(struct sink *s, const struct result *r)
{
	if (s->t->kind == TARGET_ICMP && r->reply_ttl >= 0)
		sample_int(s, "probe_icmp_reply_hop_limit", NULL, NULL,
		    r->reply_ttl);
}

/* Rounded to ten-thousandths as in the JSON; 1 when nothing was sent. */
static void
f_icmp_loss(struct sink *s, const struct result *r)
{
	char buf[16];

	if (s->t->kind != TARGET_ICMP)
		return;
	fixed_text(r->sent > 0
	        ? ((int64_t)(r->sent - r->received) * 20000 / r->sent + 1) / 2
	        : 10000,
	    4, buf, sizeof(buf));
	sample(s, "probe_icmp_loss_ratio", NULL, NULL, buf);
}

static void
f_icmp_rtt(struct sink *s, const struct result *r)
{
	const char *f = "probe_icmp_rtt_seconds";

	if (s->t->kind != TARGET_ICMP || r->received == 0)
		return;
	sample_seconds(s, f, "stat", "min", r->rtt_min_us);
	sample_seconds(s, f, "stat", "avg", r->rtt_avg_us);
	sample_seconds(s, f, "stat", "max", r->rtt_max_us);
	sample_seconds(s, f, "stat", "stddev", r->rtt_stddev_us);
}

static void
f_icmp_sent(struct sink *s, const struct result *r)
{
	if (s->t->kind == TARGET_ICMP)
		sample_int(s, "probe_icmp_packets_sent", NULL, NULL, r->sent);
}

static void
f_icmp_received(struct sink *s, const struct result *r)
{
	if (s->t->kind == TARGET_ICMP)
		sample_int(s, "probe_icmp_packets_received", NULL, NULL,
		    r->received);
}

/* --- the families, in the order written ----------------------------------- */

struct family {
	const char *name;
	const char *help;
	void (*each)(struct sink *, const struct result *);
};

static const struct family families[] = {
    {"probe_success", "Whether the probe succeeded (1) or failed (0).",
        f_success},
    {"probe_duration_seconds",
        "How long the probe took, name resolution included.", f_duration},
    {"probe_dns_lookup_time_seconds", "How long name resolution took.", f_dns},
    {"probe_failure_reason",
        "Why the probe failed: 1 for the reason of a failed probe.", f_reason},
    {"probe_ip_protocol", "The IP version of the address probed: 4 or 6.",
        f_ip_protocol},
    {"probe_ip_addr_hash",
        "A hash of the address probed, to see when it changes.", f_ip_hash},
    {"probe_tcp_connect_duration_seconds", "How long the TCP handshake took.",
        f_tcp_connect},
    {"probe_http_status_code", "The status code of the final response.",
        f_http_status},
    {"probe_http_duration_seconds", "How long each phase of the request took.",
        f_http_phases},
    {"probe_http_redirects", "The number of redirects followed.",
        f_http_redirects},
    {"probe_http_content_length", "The length of the body read, in bytes.",
        f_http_length},
    {"probe_http_uncompressed_body_length",
        "The length of the body read after decoding, in bytes.",
        f_http_body_length},
    {"probe_http_version", "The HTTP version of the final response.",
        f_http_version},
    {"probe_http_ssl", "Whether the final response came over TLS.", f_http_ssl},
    {"probe_failed_due_to_regex",
        "Whether the body failed the match= or not_match= check.",
        f_http_regex},
    {"probe_ssl_earliest_cert_expiry",
        "The earliest expiry of the certificates sent, in Unix time.",
        f_ssl_expiry},
    {"probe_tls_version_info", "The TLS version of the connection.",
        f_tls_version},
    {"probe_icmp_duration_seconds", "The average round-trip time of echoes.",
        f_icmp_duration},
    {"probe_icmp_reply_hop_limit", "The hop limit (TTL) of a reply.",
        f_icmp_hop_limit},
    {"probe_icmp_loss_ratio", "The share of echoes that got no reply.",
        f_icmp_loss},
    {"probe_icmp_rtt_seconds", "Round-trip time statistics of the echoes.",
        f_icmp_rtt},
    {"probe_icmp_packets_sent", "The number of echo requests sent.",
        f_icmp_sent},
    {"probe_icmp_packets_received", "The number of echo replies received.",
        f_icmp_received},
};

/*
 * Every sample of one family over the report.  The canonical form is made
 * again for each family rather than kept: a million targets would hold
 * gigabytes of it.
 */
static void
walk(struct sink *s, const struct family *fam, size_t n, output_prom_get get,
    void *arg)
{
	const struct result *r;
	size_t i;

	for (i = 0; i < n; i++) {
		get(arg, i, &s->t, &r);
		if (r == NULL)
			continue;
		if (s->f != NULL)
			target_canonical(s->t, s->canon, sizeof(s->canon));
		fam->each(s, r);
	}
}

static void
put_header(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* The scan itself: no target labels. */
static void
put_scan(FILE *f, const struct scan_report *rep)
{
	struct scan_counts c;
	char buf[32];

	fixed_text(rep->duration_us, 6, buf, sizeof(buf));
	put_header(f, "pulse_scan_duration_seconds",
	    "How long the whole scan took.");
	fprintf(f, "pulse_scan_duration_seconds %s\n", buf);
	scan_report_count(rep, &c);
	put_header(f, "pulse_scan_targets",
	    "The number of targets scanned, by state.");
	fprintf(f,
	    "pulse_scan_targets{state=\"up\"} %zu\n"
	    "pulse_scan_targets{state=\"down\"} %zu\n"
	    "pulse_scan_targets{state=\"cancelled\"} %zu\n",
	    c.up, c.down, c.cancelled);
}

/*
 * Families must not interleave, so the report is walked once a family,
 * each family's samples together under its HELP and TYPE.
 */
static int
write_probes(FILE *f, size_t n, output_prom_get get, void *arg, bool bare)
{
	struct sink s;
	size_t i;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		s.f = NULL;
		s.n = 0;
		s.bare = bare;
		walk(&s, &families[i], n, get, arg);
		if (s.n == 0)
			continue;
		put_header(f, families[i].name, families[i].help);
		s.f = f;
		walk(&s, &families[i], n, get, arg);
	}
	return ferror(f) ? -1 : 0;
}

int
output_prom_write_probes(FILE *f, size_t n, output_prom_get get, void *arg)
{
	return write_probes(f, n, get, arg, false);
}

/* The one probe of output_prom_write_probe(). */
struct single {
	const struct target *t;
	const struct result *r;
};

static void
single_get(void *arg, size_t i, const struct target **t,
    const struct result **r)
{
	const struct single *one = arg;

	(void)i;
	*t = one->t;
	*r = one->r;
}

int
output_prom_write_probe(FILE *f, const struct target *t, const struct result *r)
{
	struct single one = {t, r};

	return write_probes(f, 1, single_get, &one, true);
}

static void
report_get(void *arg, size_t i, const struct target **t,
    const struct result **r)
{
	const struct scan_report *rep = arg;

	*t = &rep->targets[i];
	*r = &rep->results[i];
}

/*
 * Each metric family walks every result, so results kept encoded are
 * decoded once, into an array, for the time of the write.
 */
int
output_prom_write(FILE *f, const struct scan_report *rep)
{
	struct scan_report whole = *rep;
	struct result *all = NULL;
	size_t i;
	int rc;

	if (rep->results == NULL) {
		all = xcalloc(rep->n > 0 ? rep->n : 1, sizeof(*all));
		for (i = 0; i < rep->n; i++)
			result_store_get(rep->store, i, &all[i]);
		whole.results = all;
	}
	rc = output_prom_write_probes(f, whole.n, report_get, &whole);
	if (rc == 0)
		put_scan(f, &whole);
	for (i = 0; all != NULL && i < rep->n; i++)
		result_release(&all[i]);
	free(all);
	return rc == -1 || ferror(f) ? -1 : 0;
}
