/*
 * Render a scan as aligned columns for people: one row a target, then a
 * line that sums it up.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "output.h"
#include "util.h"

#define NAME_COLS_MAX 48 /* a longer name is cut, ending in "…" */
#define GAP "  "         /* between columns */
#define DETAIL_MAX (RESULT_ERROR_MAX + 64)

#define ANSI_GREEN "\033[32m"
#define ANSI_RED "\033[31m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_RESET "\033[0m"

/*
 * The code point at s and the bytes it takes; 0 bytes for a malformed
 * sequence, which is then shown as one "?" a byte.
 */
static size_t
decode(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, *cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, *cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, *cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && *cp < 0x800) || (n == 4 && *cp < 0x10000) ||
	    (*cp >= 0xd800 && *cp <= 0xdfff) || *cp > 0x10ffff)
		return 0;
	return n;
}

/* C0, DEL and C1: they would move the cursor or worse. */
static int
is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* Code points in s, each malformed byte counted as one. */
static size_t
text_cols(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t cp;
	size_t n, cols;

	for (cols = 0; *s != '\0'; cols++) {
		n = decode(s, &cp);
		s += n > 0 ? n : 1;
	}
	return cols;
}

/* Columns that s takes once cut to cap. */
static size_t
shown_cols(const char *s, size_t cap)
{
	size_t cols = text_cols(s);

	return cols > cap ? cap : cols;
}

/*
 * Write s as safe text: controls and malformed bytes as "?", and past cap
 * columns cut to cap - 1 and "…".  Returns the columns written.
 */
static size_t
put_text(FILE *f, const char *str, size_t cap)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n, cols = 0, keep = text_cols(str) > cap ? cap - 1 : cap;
	uint32_t cp;

	for (; *s != '\0' && cols < keep; cols++) {
		n = decode(s, &cp);
		if (n == 0 || is_control(cp))
			fputc('?', f);
		else
			fwrite(s, 1, n, f);
		s += n > 0 ? n : 1;
	}
	if (*s != '\0') {
		fputs("\xe2\x80\xa6", f);
		cols++;
	}
	return cols;
}

static void
pad(FILE *f, size_t n)
{
	while (n-- > 0)
		fputc(' ', f);
}

static const char *
state_word(const struct result *r)
{
	if (r->success)
		return "UP";
	return r->reason == REASON_CANCELLED ? "CANCELLED" : "DOWN";
}

static const char *
state_colour(const struct result *r)
{
	if (r->success)
		return ANSI_GREEN;
	return r->reason == REASON_CANCELLED ? ANSI_YELLOW : ANSI_RED;
}

/* Milliseconds with one decimal, rounded half up; "-" when never run. */
static void
time_text(const struct result *r, char *buf, size_t len)
{
	int64_t tenths = (r->duration_us + 50) / 100;

	if (r->reason == REASON_CANCELLED && r->duration_us == 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%" PRId64 ".%" PRId64 " ms", tenths / 10,
		    tenths % 10);
}

/* Whole days until the certificate expires, floored as in the JSON. */
static int64_t
cert_days(const struct result *r)
{
	int64_t left = r->http.cert_not_after -
	    (r->start_us + r->duration_us) / USEC_PER_SEC;

	return left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
}

static void
http_detail(const struct result *r, char *buf, size_t len)
{
	const struct result_http *h = &r->http;
	const char *v = h->version == 10 ? "1.0"
	    : h->version == 11           ? "1.1"
	    : h->version == 20           ? "2"
	                                 : "3";
	int n;

	n = snprintf(buf, len, "%d HTTP/%s, %" PRId64 " B", h->status, v,
	    h->content_length);
	if (h->cert_not_after > 0 && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ", cert %" PRId64 "d",
		    cert_days(r));
}

/*
 * What a person wants to know next: why it failed, or what answered.  An
 * error that already starts with its reason does not repeat it.
 */
static void
detail_text(const struct target *t, const struct result *r, char *buf,
    size_t len)
{
	const char *reason = reason_name(r->reason);
	size_t rl = strlen(reason);
	int64_t tenths;

	if (!r->success) {
		if (r->error[0] == '\0')
			snprintf(buf, len, "%s", reason);
		else if (strncmp(r->error, reason, rl) == 0 &&
		    (r->error[rl] == ':' || r->error[rl] == '\0'))
			snprintf(buf, len, "%s", r->error);
		else
			snprintf(buf, len, "%s: %s", reason, r->error);
	} else if (t->kind == TARGET_HTTP) {
		http_detail(r, buf, len);
	} else if (t->kind == TARGET_ICMP) {
		tenths = (r->rtt_avg_us + 50) / 100;
		snprintf(buf, len, "%u/%u, rtt %" PRId64 ".%" PRId64 " ms",
		    r->received, r->sent, tenths / 10, tenths % 10);
	} else if (r->address[0] != '\0') {
		snprintf(buf, len, "connected to %s", r->address);
	} else {
		snprintf(buf, len, "connected");
	}
}

struct widths {
	size_t state, name, kind, time;
};

static void
measure(const struct scan_report *rep, struct widths *w)
{
	char buf[32];
	struct result tmp;
	const struct result *r;
	size_t i, n;

	result_init(&tmp);
	w->state = strlen("STATE");
	w->name = strlen("NAME");
	w->kind = strlen("KIND");
	w->time = strlen("TIME");
	for (i = 0; i < rep->n; i++) {
		r = scan_report_result(rep, i, &tmp);
		if ((n = strlen(state_word(r))) > w->state)
			w->state = n;
		n = shown_cols(target_name(&rep->targets[i]), NAME_COLS_MAX);
		if (n > w->name)
			w->name = n;
		n = strlen(target_kind_name(rep->targets[i].kind));
		if (n > w->kind)
			w->kind = n;
		time_text(r, buf, sizeof(buf));
		if ((n = strlen(buf)) > w->time)
			w->time = n;
	}
	result_release(&tmp);
}

static void
put_row(FILE *f, const struct widths *w, const struct target *t,
    const struct result *r, bool colour)
{
	const char *word = state_word(r), *kind = target_kind_name(t->kind);
	char when[32], detail[DETAIL_MAX];

	if (colour)
		fprintf(f, "%s%s%s", state_colour(r), word, ANSI_RESET);
	else
		fputs(word, f);
	pad(f, w->state - strlen(word));
	fputs(GAP, f);
	pad(f, w->name - put_text(f, target_name(t), NAME_COLS_MAX));
	fprintf(f, GAP "%-*s" GAP, (int)w->kind, kind);
	time_text(r, when, sizeof(when));
	fprintf(f, "%*s" GAP, (int)w->time, when);
	detail_text(t, r, detail, sizeof(detail));
	put_text(f, detail, SIZE_MAX);
	fputc('\n', f);
}

static void
put_summary(FILE *f, const struct scan_report *rep)
{
	struct scan_counts c;
	int64_t hundredths = (rep->duration_us + 5000) / 10000;

	scan_report_count(rep, &c);
	fprintf(f,
	    "%zu target%s: %zu up, %zu down, %zu cancelled in %" PRId64
	    ".%02" PRId64 " s",
	    c.total, c.total == 1 ? "" : "s", c.up, c.down, c.cancelled,
	    hundredths / 100, hundredths % 100);
	if (rep->interrupted != NULL && *rep->interrupted != '\0')
		fprintf(f, ", interrupted by %s", rep->interrupted);
	fputc('\n', f);
}

int
output_table_write(FILE *f, const struct scan_report *rep, bool colour)
{
	struct widths w;
	struct result tmp;
	size_t i;

	if (rep->n > 0) {
		measure(rep, &w);
		fprintf(f,
		    "%-*s" GAP "%-*s" GAP "%-*s" GAP "%*s" GAP "DETAIL\n",
		    (int)w.state, "STATE", (int)w.name, "NAME", (int)w.kind,
		    "KIND", (int)w.time, "TIME");
		result_init(&tmp);
		for (i = 0; i < rep->n; i++)
			put_row(f, &w, &rep->targets[i],
			    scan_report_result(rep, i, &tmp), colour);
		result_release(&tmp);
	}
	put_summary(f, rep);
	return ferror(f) ? -1 : 0;
}
