/*
 * Thresholds of "pulse check" and its output as a monitoring plugin, after
 * the Monitoring Plugins development guidelines: a status line, "|", the
 * performance data, then long text; exit 0 OK, 1 WARNING, 2 CRITICAL or
 * 3 UNKNOWN.
 */
#include "config.h"

#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_plugin.h"
#include "check_text.h"
#include "util.h"

#define LOSS_CP_MAX 10000     /* 100 % in hundredths of a percent */
#define STATUS_TARGET_MAX 200 /* the target in the status line */
#define STATUS_WHY_MAX 400    /* and why it is not OK */

/* Text appended to a fixed buffer, which is cut rather than overrun. */
struct out {
	char *buf;
	size_t len, n;
	bool cut;
};

static void
out_init(struct out *o, char *buf, size_t len)
{
	o->buf = buf;
	o->len = len;
	o->n = 0;
	o->cut = len == 0;
	if (len > 0)
		buf[0] = '\0';
}

static void
out_putc(struct out *o, char c)
{
	if (o->n + 1 < o->len) {
		o->buf[o->n++] = c;
		o->buf[o->n] = '\0';
	} else
		o->cut = true;
}

static void __attribute__((format(printf, 2, 3)))
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->n + 1 >= o->len) {
		o->cut = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->n, o->len - o->n, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->n) {
		o->cut = true;
		o->n = o->len - 1;
	} else
		o->n += (size_t)n;
}

/*
 * Append at most max bytes of s that a monitoring system can show: no
 * control character (C0, DEL, or C1 in UTF-8), no byte of broken UTF-8,
 * and no "|", which would start the performance data.
 */
static void
out_clean(struct out *o, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	int utf8 = utf8_valid(s);
	size_t i;

	for (i = 0; p[i] != '\0'; i++) {
		/* Cut between characters, not inside one. */
		if (i >= max && (p[i] & 0xc0) != 0x80) {
			out_printf(o, "...");
			return;
		}
		if (p[i] < 0x20 || p[i] == 0x7f || (p[i] >= 0x80 && !utf8))
			out_putc(o, '?');
		else if (p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] < 0xa0) {
			out_putc(o, '?');
			i++;
		} else if (p[i] == '|')
			out_printf(o, "%%7C");
		else
			out_putc(o, (char)p[i]);
	}
}

/* --- thresholds ------------------------------------------------------- */

void
check_thresholds_init(struct check_thresholds *th)
{
	th->warning.latency_us = th->critical.latency_us = -1;
	th->warning.loss_cp = th->critical.loss_cp = -1;
}

static bool
limit_set(const struct check_limit *l)
{
	return l->latency_us >= 0 || l->loss_cp >= 0;
}

bool
check_thresholds_set(const struct check_thresholds *th)
{
	return limit_set(&th->warning) || limit_set(&th->critical);
}

static int
loss_bad(char *errbuf, size_t errlen, const char *why)
{
	snprintf(errbuf, errlen, "%s", why);
	return -1;
}

/* "5%", "2.5%" or "0.25%" (n bytes, the last one '%') in 1/100 %. */
static int
loss_parse(const char *s, size_t n, int *cp, char *errbuf, size_t errlen)
{
	static const char bad[] = "bad loss (a percentage with at most two "
	                          "decimals, as 5% or 2.5%)";
	int whole = 0, frac = 0, digits = -1; /* after the point */
	size_t i;

	for (i = 0; i + 1 < n; i++) {
		if (s[i] == '.' && digits < 0 && i > 0) {
			digits = 0;
			continue;
		}
		if (!isdigit((unsigned char)s[i]) || digits == 2)
			return loss_bad(errbuf, errlen, bad);
		if (digits >= 0) {
			frac = frac * 10 + (s[i] - '0');
			digits++;
		} else if (whole <= 100) /* more is too much: no overflow */
			whole = whole * 10 + (s[i] - '0');
	}
	if (n < 2 || digits == 0)
		return loss_bad(errbuf, errlen, bad);
	if (digits == 1)
		frac *= 10;
	if (whole * 100 + frac > LOSS_CP_MAX)
		return loss_bad(errbuf, errlen, "loss above 100%");
	*cp = whole * 100 + frac;
	return 0;
}

/* One comma-separated part of a threshold: a duration or a loss. */
static int
limit_part(const char *p, size_t n, struct check_limit *l, char *errbuf,
    size_t errlen)
{
	char dur[64], why[128];

	if (n == 0) {
		snprintf(errbuf, errlen, "empty part (as in 200ms,5%%)");
		return -1;
	}
	if (p[n - 1] == '%') {
		if (l->loss_cp >= 0) {
			snprintf(errbuf, errlen, "loss given twice");
			return -1;
		}
		return loss_parse(p, n, &l->loss_cp, errbuf, errlen);
	}
	if (l->latency_us >= 0) {
		snprintf(errbuf, errlen, "latency given twice");
		return -1;
	}
	if (n >= sizeof(dur)) {
		snprintf(errbuf, errlen, "duration too long");
		return -1;
	}
	memcpy(dur, p, n);
	dur[n] = '\0';
	if (duration_parse(dur, &l->latency_us, why, sizeof(why)) == -1) {
		snprintf(errbuf, errlen, "%s", why);
		return -1;
	}
	return 0;
}

int
check_limit_parse(const char *spec, struct check_limit *l, char *errbuf,
    size_t errlen)
{
	const char *p = spec, *comma;

	l->latency_us = -1;
	l->loss_cp = -1;
	for (;;) {
		comma = strchr(p, ',');
		if (limit_part(p,
		        comma != NULL ? (size_t)(comma - p) : strlen(p), l,
		        errbuf, errlen) == -1) {
			l->latency_us = -1;
			l->loss_cp = -1;
			return -1;
		}
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* 1/100 % as the shortest exact text: "5", "2.5", "33.33". */
static void
percent_text(int cp, char *buf, size_t len)
{
	if (cp % 100 == 0)
		snprintf(buf, len, "%d", cp / 100);
	else if (cp % 10 == 0)
		snprintf(buf, len, "%d.%d", cp / 100, cp % 100 / 10);
	else
		snprintf(buf, len, "%d.%02d", cp / 100, cp % 100);
}

int
check_thresholds_check(const struct check_thresholds *th, enum target_kind kind,
    char *errbuf, size_t errlen)
{
	const struct check_limit *w = &th->warning, *c = &th->critical;
	char a[32], b[32];

	if (kind != TARGET_ICMP && (w->loss_cp >= 0 || c->loss_cp >= 0)) {
		snprintf(errbuf, errlen,
		    "a loss threshold applies to icmp:// targets only");
		return -1;
	}
	if (w->latency_us >= 0 && c->latency_us >= 0 &&
	    w->latency_us > c->latency_us) {
		duration_format(w->latency_us, a, sizeof(a));
		duration_format(c->latency_us, b, sizeof(b));
		snprintf(errbuf, errlen,
		    "the warning latency %s is above the critical %s", a, b);
		return -1;
	}
	if (w->loss_cp >= 0 && c->loss_cp >= 0 && w->loss_cp > c->loss_cp) {
		percent_text(w->loss_cp, a, sizeof(a));
		percent_text(c->loss_cp, b, sizeof(b));
		snprintf(errbuf, errlen,
		    "the warning loss %s%% is above the critical %s%%", a, b);
		return -1;
	}
	return 0;
}

/* --- evaluation ------------------------------------------------------- */

int64_t
check_latency_us(const struct target *t, const struct result *r)
{
	if (t->kind == TARGET_ICMP)
		return r->received > 0 ? r->rtt_avg_us : -1;
	return r->duration_us;
}

/* The loss of an ICMP probe in 1/100 %, rounded half up. */
static int
loss_cp(const struct result *r)
{
	uint64_t lost;

	if (r->sent == 0)
		return LOSS_CP_MAX;
	lost = r->received < r->sent ? r->sent - r->received : 0;
	return (int)((lost * 2 * LOSS_CP_MAX / r->sent + 1) / 2);
}

/* Exactly, with no rounding: is the loss above cp? */
static bool
loss_above(const struct result *r, int cp)
{
	uint64_t lost;

	if (r->sent == 0)
		return cp < LOSS_CP_MAX;
	lost = r->received < r->sent ? r->sent - r->received : 0;
	return lost * LOSS_CP_MAX > (uint64_t)cp * r->sent;
}

/* The parts of l that r is above, as "latency over 200ms"; 0 if none. */
static int
crossed(const struct target *t, const struct result *r,
    const struct check_limit *l, char *why, size_t len)
{
	struct out o;
	char v[32];
	int64_t lat = check_latency_us(t, r);

	out_init(&o, why, len);
	if (l->latency_us >= 0 && lat > l->latency_us) {
		duration_format(l->latency_us, v, sizeof(v));
		out_printf(&o, "%s over %s",
		    t->kind == TARGET_ICMP ? "rta" : "latency", v);
	}
	if (t->kind == TARGET_ICMP && l->loss_cp >= 0 &&
	    loss_above(r, l->loss_cp)) {
		percent_text(l->loss_cp, v, sizeof(v));
		out_printf(&o, "%sloss over %s%%", o.n > 0 ? ", " : "", v);
	}
	return o.n > 0;
}

/* Failures that say pulse could not probe, not that the target is down. */
static bool
reason_unknown(enum reason why)
{
	switch (why) {
	case REASON_CRASH:
	case REASON_DEADLINE:
	case REASON_CANCELLED:
	case REASON_PERMISSION:
	case REASON_CONFIG:
	case REASON_INTERNAL:
	case REASON_DENIED:
		return true;
	default:
		return false;
	}
}

enum check_state
check_evaluate(const struct target *t, const struct result *r,
    const struct check_thresholds *th, char *why, size_t whylen)
{
	if (!r->success) {
		snprintf(why, whylen, "%s: %s", reason_name(r->reason),
		    r->error);
		return reason_unknown(r->reason) ? CHECK_UNKNOWN
		                                 : CHECK_CRITICAL;
	}
	if (crossed(t, r, &th->critical, why, whylen))
		return CHECK_CRITICAL;
	if (crossed(t, r, &th->warning, why, whylen))
		return CHECK_WARNING;
	return CHECK_OK;
}

const char *
check_state_name(enum check_state st)
{
	switch (st) {
	case CHECK_OK:
		return "OK";
	case CHECK_WARNING:
		return "WARNING";
	case CHECK_CRITICAL:
		return "CRITICAL";
	case CHECK_UNKNOWN:
		break;
	}
	return "UNKNOWN";
}

/* --- performance data ------------------------------------------------- */

int
check_perf_label(char *buf, size_t len, const char *label)
{
	struct out o;
	const char *p;
	bool quote = strpbrk(label, " ='") != NULL;

	out_init(&o, buf, len);
	if (*label == '\0')
		return -1;
	if (quote)
		out_putc(&o, '\'');
	for (p = label; *p != '\0'; p++) {
		if (*p == '\'')
			out_putc(&o, '\'');
		/* A line end or "|" would end the datum for the reader. */
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '|')
			out_putc(&o, '_');
		else
			out_putc(&o, *p);
	}
	if (quote)
		out_putc(&o, '\'');
	return o.cut ? -1 : (int)o.n;
}

int
check_perf_datum(char *buf, size_t len, const char *label, const char *value,
    const char *uom, const char *warn, const char *crit, const char *min,
    const char *max)
{
	const char *f[4] = {warn, crit, min, max};
	struct out o;
	int n, last, i;

	if ((n = check_perf_label(buf, len, label)) == -1)
		return -1;
	o = (struct out){buf, len, (size_t)n, false}; /* after the label */
	out_printf(&o, "=%s%s", value, uom != NULL ? uom : "");
	/* Empty fields at the end may be left out, and are. */
	last = 3;
	while (last >= 0 && (f[last] == NULL || *f[last] == '\0'))
		last--;
	for (i = 0; i <= last; i++)
		out_printf(&o, ";%s", f[i] != NULL ? f[i] : "");
	return o.cut ? -1 : (int)o.n;
}

/* Microseconds as seconds, "0.000310"; empty when negative (unset). */
static const char *
seconds(int64_t us, char *buf, size_t len)
{
	if (us < 0)
		buf[0] = '\0';
	else
		snprintf(buf, len, "%" PRId64 ".%06" PRId64, us / USEC_PER_SEC,
		    us % USEC_PER_SEC);
	return buf;
}

/* Microseconds as milliseconds, "0.044", as check_icmp writes rta. */
static const char *
millis(int64_t us, char *buf, size_t len)
{
	if (us < 0)
		buf[0] = '\0';
	else
		snprintf(buf, len, "%" PRId64 ".%03" PRId64, us / USEC_PER_MSEC,
		    us % USEC_PER_MSEC);
	return buf;
}

static const char *
percent(int cp, char *buf, size_t len)
{
	if (cp < 0)
		buf[0] = '\0';
	else
		percent_text(cp, buf, len);
	return buf;
}

/* Append a datum to o, after a space unless it is the first. */
static void
put_datum(struct out *o, const char *label, const char *value, const char *uom,
    const char *warn, const char *crit, const char *min, const char *max)
{
	int n;

	if (o->n > 0)
		out_putc(o, ' ');
	if (o->cut)
		return;
	n = check_perf_datum(o->buf + o->n, o->len - o->n, label, value, uom,
	    warn, crit, min, max);
	if (n < 0)
		o->cut = true;
	else
		o->n += (size_t)n;
}

/* rta, pl, rtmax and rtmin, as check_icmp names and scales them. */
static void
perf_icmp(struct out *o, const struct result *r,
    const struct check_thresholds *th)
{
	char v[32], w[32], c[32];

	if (r->received > 0)
		put_datum(o, "rta", millis(r->rtt_avg_us, v, sizeof(v)), "ms",
		    millis(th->warning.latency_us, w, sizeof(w)),
		    millis(th->critical.latency_us, c, sizeof(c)), "0", NULL);
	put_datum(o, "pl", percent(loss_cp(r), v, sizeof(v)), "%",
	    percent(th->warning.loss_cp, w, sizeof(w)),
	    percent(th->critical.loss_cp, c, sizeof(c)), "0", "100");
	if (r->received > 0) {
		put_datum(o, "rtmax", millis(r->rtt_max_us, v, sizeof(v)), "ms",
		    NULL, NULL, "0", NULL);
		put_datum(o, "rtmin", millis(r->rtt_min_us, v, sizeof(v)), "ms",
		    NULL, NULL, "0", NULL);
	}
}

/* Time to the first byte of the answer: every phase before it. */
static int64_t
ttfb_us(const struct result *r)
{
	const int64_t phase[] = {r->dns_us, r->connect_us, r->http.tls_us,
	    r->http.processing_us};
	int64_t sum = 0;
	size_t i;

	if (r->http.processing_us < 0)
		return -1;
	for (i = 0; i < sizeof(phase) / sizeof(phase[0]); i++)
		if (phase[i] > 0)
			sum += phase[i];
	return sum;
}

/* Whole days the certificate has left at the end of the probe, floored. */
static int64_t
cert_days_left(const struct result *r)
{
	int64_t left = r->http.cert_not_after -
	    (r->start_us + r->duration_us) / USEC_PER_SEC;

	return left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
}

static void
perf_http(struct out *o, const struct result *r)
{
	char v[32];

	if (r->http.status > 0) {
		snprintf(v, sizeof(v), "%" PRId64, r->http.content_length);
		put_datum(o, "size", v, "B", NULL, NULL, "0", NULL);
	}
	if (r->connect_us >= 0)
		put_datum(o, "connect", seconds(r->connect_us, v, sizeof(v)),
		    "s", NULL, NULL, "0", NULL);
	if (ttfb_us(r) >= 0)
		put_datum(o, "ttfb", seconds(ttfb_us(r), v, sizeof(v)), "s",
		    NULL, NULL, "0", NULL);
	if (r->http.cert_not_after > 0) {
		snprintf(v, sizeof(v), "%" PRId64, cert_days_left(r));
		put_datum(o, "cert_days_left", v, NULL, NULL, NULL, NULL, NULL);
	}
}

int
check_perf_data(char *buf, size_t len, const struct target *t,
    const struct result *r, const struct check_thresholds *th,
    int64_t default_timeout_us)
{
	struct out o;
	char v[32], w[32], c[32], max[32];
	bool icmp = t->kind == TARGET_ICMP;

	out_init(&o, buf, len);
	/* An ICMP probe's latency is its rta, which carries the thresholds. */
	put_datum(&o, "time", seconds(r->duration_us, v, sizeof(v)), "s",
	    icmp ? NULL : seconds(th->warning.latency_us, w, sizeof(w)),
	    icmp ? NULL : seconds(th->critical.latency_us, c, sizeof(c)), "0",
	    seconds(t->timeout_us > 0 ? t->timeout_us : default_timeout_us, max,
	        sizeof(max)));
	if (icmp)
		perf_icmp(&o, r, th);
	else if (t->kind == TARGET_HTTP)
		perf_http(&o, r);
	return o.cut ? -1 : (int)o.n;
}

/* --- output ----------------------------------------------------------- */

static double
ms(int64_t us)
{
	return (double)us / 1000.0;
}

/* "tcp://127.0.0.1:22 up in 0.31 ms", and why the state is not OK. */
static void
put_status(struct out *o, const struct target *t, const struct result *r,
    enum check_state st, const char *why)
{
	char canon[TARGET_CANONICAL_MAX], v[16];

	target_canonical(t, canon, sizeof(canon));
	out_printf(o, "PULSE %s - ", check_state_name(st));
	out_clean(o, canon, STATUS_TARGET_MAX);
	if (!r->success) {
		out_printf(o, st == CHECK_UNKNOWN ? ": " : " down: ");
		out_clean(o, why, STATUS_WHY_MAX);
		out_printf(o, " (after %.2f ms)", ms(r->duration_us));
		return;
	}
	if (t->kind == TARGET_ICMP)
		out_printf(o, " up: rta %.3f ms, lost %s%%", ms(r->rtt_avg_us),
		    percent(loss_cp(r), v, sizeof(v)));
	else
		out_printf(o, " up in %.2f ms", ms(r->duration_us));
	if (t->kind == TARGET_HTTP && r->http.status > 0)
		out_printf(o, ", status %d, %" PRId64 " bytes", r->http.status,
		    r->http.content_length);
	if (st != CHECK_OK) {
		out_printf(o, ", ");
		out_clean(o, why, STATUS_WHY_MAX);
	}
}

/* What check_text_write() prints for r; NULL if out of memory. */
static char *
text_report(const struct target *t, const struct result *r,
    int64_t default_timeout_us)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&text, &len)) == NULL)
		return NULL;
	check_text_write(f, t, r, default_timeout_us);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* The text report less its verdict line, as long text, whole lines only. */
static void
put_long_text(struct out *o, const struct target *t, const struct result *r,
    int64_t default_timeout_us)
{
	struct result quiet;
	char *text, *line, *nl;
	size_t mark;

	/* The error is on the status line already, and may hold a '\n'. */
	result_copy(&quiet, r);
	quiet.error[0] = '\0';
	text = text_report(t, &quiet, default_timeout_us);
	result_release(&quiet);
	if (text == NULL)
		return;
	line = strchr(text, '\n');
	for (; line != NULL && line[1] != '\0'; line = nl) {
		line++;
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		mark = o->n;
		out_clean(o, line, o->len);
		out_putc(o, '\n');
		if (o->cut) {
			o->n = mark;
			o->buf[mark] = '\0';
			break;
		}
	}
	free(text);
}

enum check_state
check_plugin_write(FILE *f, const struct target *t, const struct result *r,
    const struct check_thresholds *th, int64_t default_timeout_us)
{
	char buf[CHECK_PLUGIN_OUTPUT_MAX], perf[1024], why[512];
	enum check_state st = check_evaluate(t, r, th, why, sizeof(why));
	struct out o;
	int n;

	out_init(&o, buf, sizeof(buf));
	put_status(&o, t, r, st, why);
	n = check_perf_data(perf, sizeof(perf), t, r, th, default_timeout_us);
	if (n > 0)
		out_printf(&o, " | %s", perf);
	out_putc(&o, '\n');
	if (!o.cut)
		put_long_text(&o, t, r, default_timeout_us);
	fputs(buf, f);
	return st;
}

void
check_plugin_unknown(FILE *f, const char *why)
{
	char buf[STATUS_WHY_MAX + 64];
	struct out o;

	out_init(&o, buf, sizeof(buf));
	out_printf(&o, "PULSE UNKNOWN - ");
	out_clean(&o, why, STATUS_WHY_MAX);
	fprintf(f, "%s\n", buf);
}

enum check_state
check_threshold_text(FILE *f, const struct target *t, const struct result *r,
    const struct check_thresholds *th, int64_t default_timeout_us)
{
	char why[512], canon[TARGET_CANONICAL_MAX], *text, *rest;
	enum check_state st = check_evaluate(t, r, th, why, sizeof(why));

	if (!r->success || st == CHECK_OK) {
		check_text_write(f, t, r, default_timeout_us);
		return st;
	}
	if (st == CHECK_WARNING) {
		check_text_write(f, t, r, default_timeout_us);
		fprintf(f, "  warning   %s\n", why);
		return st;
	}
	/* Too slow or too lossy to count as up: the verdict says down. */
	target_canonical(t, canon, sizeof(canon));
	fprintf(f, "DOWN  %s: critical threshold: %s (after %.1f ms)\n", canon,
	    why, ms(r->duration_us));
	if ((text = text_report(t, r, default_timeout_us)) != NULL &&
	    (rest = strchr(text, '\n')) != NULL)
		fputs(rest + 1, f);
	free(text);
	return st;
}

enum check_state
check_threshold_json(json_object *obj, const struct target *t,
    const struct result *r, const struct check_thresholds *th)
{
	char why[512], name[16];
	enum check_state st = check_evaluate(t, r, th, why, sizeof(why));
	json_object *o = json_object_new_object();
	size_t i;

	for (i = 0; check_state_name(st)[i] != '\0' && i + 1 < sizeof(name);
	     i++)
		name[i] = (char)tolower((unsigned char)check_state_name(st)[i]);
	name[i] = '\0';
	json_object_object_add(o, "state", json_object_new_string(name));
	json_object_object_add(o, "message",
	    st == CHECK_OK ? NULL : json_object_new_string(why));
	json_object_object_add(obj, "threshold", o);
	return st;
}

int
check_plugin_mute(void)
{
	int saved, null;

	fflush(stderr);
	if ((saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)) == -1)
		return -1;
	if ((null = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1) {
		close(saved);
		return -1;
	}
	if (dup2(null, STDERR_FILENO) == -1) {
		close(saved);
		saved = -1;
	}
	close(null);
	return saved;
}

void
check_plugin_unmute(int saved)
{
	if (saved < 0)
		return;
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
}
