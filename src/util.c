/* Allocation that never returns NULL, clocks, durations, small parsers. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "util.h"

void *
xmalloc(size_t size)
{
	void *p;

	if (size == 0)
		fatalx("xmalloc: zero size");
	if ((p = malloc(size)) == NULL)
		fatal("xmalloc: allocating %zu bytes", size);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		fatalx("xcalloc: zero size");
	if ((p = calloc(nmemb, size)) == NULL)
		fatal("xcalloc: allocating %zu * %zu bytes", nmemb, size);
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		fatalx("xreallocarray: zero size");
	if (nmemb > SIZE_MAX / size)
		fatalx("xreallocarray: %zu * %zu overflows", nmemb, size);
	if ((p = realloc(ptr, nmemb * size)) == NULL)
		fatal("xreallocarray: allocating %zu * %zu bytes", nmemb, size);
	return p;
}

char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		fatal("xstrdup");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p;

	if ((p = strndup(s, n)) == NULL)
		fatal("xstrndup");
	return p;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("xasprintf");
	return n;
}

int64_t
mono_now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return (int64_t)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

int64_t
wall_now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		fatal("clock_gettime");
	return (int64_t)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

void
format_rfc3339(int64_t wall_us, char *buf, size_t len)
{
	time_t secs = (time_t)(wall_us / USEC_PER_SEC);
	struct tm tm;
	char date[32];

	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(buf, len, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(buf, len, "%s.%03dZ", date,
	    (int)((wall_us % USEC_PER_SEC) / USEC_PER_MSEC));
}

/* Microseconds per unit; the longest unit name is matched first. */
static int64_t
duration_unit(const char **p)
{
	static const struct {
		const char *name;
		int64_t us;
	} units[] = {
	    {"us", 1},
	    {"ms", USEC_PER_MSEC},
	    {"s", USEC_PER_SEC},
	    {"m", 60 * USEC_PER_SEC},
	    {"h", 3600 * USEC_PER_SEC},
	};
	size_t i, n;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		n = strlen(units[i].name);
		if (strncmp(*p, units[i].name, n) == 0 &&
		    !isalpha((unsigned char)(*p)[n])) {
			*p += n;
			return units[i].us;
		}
	}
	return -1;
}

/* Parse one "<number><unit>" run, adding it to *total. */
static int
duration_term(const char **p, int64_t *total, char *errbuf, size_t errlen)
{
	int64_t whole = 0, frac = 0, frac_div = 1, unit, v;
	const char *s = *p;

	if (!isdigit((unsigned char)*s)) {
		snprintf(errbuf, errlen, "expected a number");
		return -1;
	}
	while (isdigit((unsigned char)*s)) {
		if (whole > DURATION_MAX_US) {
			snprintf(errbuf, errlen, "too long (at most 24h)");
			return -1;
		}
		whole = whole * 10 + (*s++ - '0');
	}
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s)) {
			snprintf(errbuf, errlen, "expected digits after '.'");
			return -1;
		}
		for (; isdigit((unsigned char)*s); s++) {
			if (frac_div < 1000000000LL) {
				frac = frac * 10 + (*s - '0');
				frac_div *= 10;
			}
		}
	}
	if (*s == '\0' || !isalpha((unsigned char)*s)) {
		snprintf(errbuf, errlen, "missing unit (e.g. 5s or 500ms)");
		return -1;
	}
	if ((unit = duration_unit(&s)) == -1) {
		snprintf(errbuf, errlen,
		    "unknown unit (use us, ms, s, m or h)");
		return -1;
	}
	if (whole > DURATION_MAX_US / unit) {
		snprintf(errbuf, errlen, "too long (at most 24h)");
		return -1;
	}
	v = whole * unit + (frac * unit) / frac_div;
	if (v > DURATION_MAX_US - *total) {
		snprintf(errbuf, errlen, "too long (at most 24h)");
		return -1;
	}
	*total += v;
	*p = s;
	return 0;
}

int
duration_parse(const char *s, int64_t *us, char *errbuf, size_t errlen)
{
	int64_t total = 0;

	if (s == NULL || *s == '\0') {
		snprintf(errbuf, errlen, "empty duration");
		return -1;
	}
	if (strcmp(s, "0") == 0) {
		*us = 0;
		return 0;
	}
	while (*s != '\0') {
		if (duration_term(&s, &total, errbuf, errlen) == -1)
			return -1;
	}
	*us = total;
	return 0;
}

int
duration_flag(const char *name, const char *arg, int64_t min, int64_t max,
    int64_t *us)
{
	char why[128], lo[32], hi[32];

	if (duration_parse(arg, us, why, sizeof(why)) == -1) {
		log_errorx("--%s %s: %s", name, arg, why);
		return -1;
	}
	if (*us < min || *us > max) {
		duration_format(min, lo, sizeof(lo));
		duration_format(max, hi, sizeof(hi));
		log_errorx("--%s %s: must be between %s and %s", name, arg, lo,
		    hi);
		return -1;
	}
	return 0;
}

void
duration_format(int64_t us, char *buf, size_t len)
{
	if (us == 0)
		snprintf(buf, len, "0s");
	else if (us % (3600 * USEC_PER_SEC) == 0)
		snprintf(buf, len, "%" PRId64 "h", us / (3600 * USEC_PER_SEC));
	else if (us % (60 * USEC_PER_SEC) == 0)
		snprintf(buf, len, "%" PRId64 "m", us / (60 * USEC_PER_SEC));
	else if (us % USEC_PER_SEC == 0)
		snprintf(buf, len, "%" PRId64 "s", us / USEC_PER_SEC);
	else if (us % USEC_PER_MSEC == 0)
		snprintf(buf, len, "%" PRId64 "ms", us / USEC_PER_MSEC);
	else
		snprintf(buf, len, "%" PRId64 "us", us);
}

int
parse_int_range(const char *s, long long min, long long max, long long *out,
    char *errbuf, size_t errlen)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s)) {
		snprintf(errbuf, errlen, "expected a number");
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0') {
		snprintf(errbuf, errlen, "'%s' is not a number", s);
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		snprintf(errbuf, errlen, "%s is out of range %lld..%lld", s,
		    min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int
size_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    char *errbuf, size_t errlen)
{
	static const struct {
		const char *suffix;
		unsigned shift;
	} units[] = {{"", 0}, {"b", 0}, {"k", 10}, {"kb", 10}, {"kib", 10},
	    {"m", 20}, {"mb", 20}, {"mib", 20}, {"g", 30}, {"gb", 30},
	    {"gib", 30}};
	unsigned long long v = 0;
	const char *p = s;
	size_t i;

	if (!isdigit((unsigned char)*p)) {
		snprintf(errbuf, errlen, "not a size (e.g. 4096, 64k, 1MiB)");
		return -1;
	}
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10) {
			snprintf(errbuf, errlen, "too large");
			return -1;
		}
		v = v * 10 + (unsigned)(*p - '0');
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(p, units[i].suffix) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0])) {
		snprintf(errbuf, errlen, "unknown unit '%s' (use k, M or G)",
		    p);
		return -1;
	}
	if (v > (UINT64_MAX >> units[i].shift)) {
		snprintf(errbuf, errlen, "too large");
		return -1;
	}
	v <<= units[i].shift;
	if (v < min || v > max) {
		snprintf(errbuf, errlen, "must be between %llu and %llu bytes",
		    (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

const char *
net_strerror(int err)
{
	switch (err) {
	case ENETUNREACH:
		return "network unreachable";
	case EHOSTUNREACH:
		return "no route to host";
	case EHOSTDOWN:
		return "host down";
	case ENETDOWN:
		return "network down";
	case EADDRNOTAVAIL:
		return "address not available";
	case ECONNREFUSED:
		return "connection refused";
	case EACCES:
		return "permission denied";
	case EPERM:
		return "operation not permitted";
	case EMSGSIZE:
		return "message too long";
	case ENOBUFS:
		return "no buffer space available";
	default:
		return strerror(err);
	}
}

/* Written by hand because a scan renders thousands of these. */
void
fixed_text(int64_t v, int digits, char *buf, size_t len)
{
	char tmp[32];
	size_t n = 0, o = 0;
	uint64_t mag = v < 0 ? (uint64_t) - (v + 1) + 1 : (uint64_t)v;
	int d;

	/* Digits from the least significant: the fraction, '.', the rest. */
	for (d = 0; d < digits; d++, mag /= 10)
		tmp[n++] = (char)('0' + mag % 10);
	if (digits > 0)
		tmp[n++] = '.';
	do {
		tmp[n++] = (char)('0' + mag % 10);
		mag /= 10;
	} while (mag > 0);
	if (v < 0)
		tmp[n++] = '-';
	while (n > 0 && o + 1 < len)
		buf[o++] = tmp[--n];
	buf[o] = '\0';
	while (digits > 0 && o > 2 && buf[o - 1] == '0' && buf[o - 2] != '.')
		buf[--o] = '\0';
}

/* Length of the UTF-8 sequence at s, or 0 if it is malformed. */
static size_t
utf8_seqlen(const unsigned char *s)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

int
utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	while (*s != '\0') {
		if ((n = utf8_seqlen(s)) == 0)
			return 0;
		s += n;
	}
	return 1;
}

uint64_t
hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 1469598103934665603ULL;

	while (n-- > 0) {
		h ^= *b++;
		h *= 1099511628211ULL;
	}
	return h;
}
