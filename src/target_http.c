/* Parse http:// and https:// targets and the options of the HTTP probe. */
#include "config.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "regex.h"
#include "target_opt.h"
#include "util.h"

/* Shown instead of a password, as Go's URL.Redacted() does. */
#define REDACTED "xxxxx"

static struct target_http *
http_of(struct target *t)
{
	return t->http;
}

/* A URL part, or NULL when the URL has none. */
static char *
url_part(CURLU *u, CURLUPart what, unsigned flags)
{
	char *v = NULL, *copy;

	if (curl_url_get(u, what, &v, flags) != CURLUE_OK)
		return NULL;
	copy = xstrdup(v);
	curl_free(v);
	return copy;
}

/* The URL as text, with any password replaced. */
static char *
url_redacted(CURLU *u)
{
	CURLU *r = curl_url_dup(u);
	char *pw = url_part(u, CURLUPART_PASSWORD, 0), *s;

	if (r == NULL)
		fatalx("curl_url_dup: out of memory");
	if (pw != NULL)
		curl_url_set(r, CURLUPART_PASSWORD, REDACTED, 0);
	s = url_part(r, CURLUPART_URL, 0);
	curl_url_cleanup(r);
	free(pw);
	return s;
}

char *
target_http_redact(const char *url)
{
	CURLU *u = curl_url();
	char *s = NULL;

	if (u == NULL)
		fatalx("curl_url: out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) ==
	    CURLUE_OK)
		s = url_redacted(u);
	curl_url_cleanup(u);
	return s;
}

/*
 * One spelling per URL, so that duplicates are found: the host as
 * target_host_parse() wrote it (lower case), no default port.
 */
static void
url_normalize(CURLU *u, const struct target *t)
{
	char *scheme = url_part(u, CURLUPART_SCHEME, 0), *host;
	int v6 = strchr(t->host, ':') != NULL;

	xasprintf(&host, "%s%s%s", v6 ? "[" : "", t->host, v6 ? "]" : "");
	curl_url_set(u, CURLUPART_HOST, host, 0);
	free(host);
	if (scheme != NULL &&
	    ((strcmp(scheme, "http") == 0 && t->port == 80) ||
	        (strcmp(scheme, "https") == 0 && t->port == 443)))
		curl_url_set(u, CURLUPART_PORT, NULL, 0);
	free(scheme);
}

/* Host and port from a parsed URL into t; the host checked as elsewhere. */
static int
url_authority(CURLU *u, struct target *t, char *errbuf, size_t errlen)
{
	char *host = url_part(u, CURLUPART_HOST, 0);
	char *port = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
	char *zone = url_part(u, CURLUPART_ZONEID, 0);
	size_t n;
	int rc = -1;

	if (host == NULL || *host == '\0' || port == NULL) {
		snprintf(errbuf, errlen, "URL without a host");
		goto out;
	}
	n = strlen(host);
	if (host[0] == '[' && n > 2) {
		host[n - 1] = '\0';
		memmove(host, host + 1, n - 1);
	}
	if (zone != NULL) {
		snprintf(errbuf, errlen,
		    "IPv6 zones are not supported in URLs");
		goto out;
	}
	if ((t->host = target_host_parse(host, strlen(host), errbuf, errlen)) ==
	    NULL)
		goto out;
	t->port = (uint16_t)atoi(port);
	rc = t->port > 0 ? 0 : -1;
	if (rc == -1)
		snprintf(errbuf, errlen, "invalid port in URL");
	else
		url_normalize(u, t);
out:
	free(host);
	free(port);
	free(zone);
	return rc;
}

int
target_http_parse_url(const char *spec, struct target *t, char *errbuf,
    size_t errlen)
{
	CURLU *u;
	CURLUcode uc;
	char *scheme = NULL;
	int rc = -1;

	if (strlen(spec) > TARGET_URL_MAX) {
		snprintf(errbuf, errlen, "URL longer than %d characters",
		    TARGET_URL_MAX);
		return -1;
	}
	if ((u = curl_url()) == NULL)
		fatalx("curl_url: out of memory");
	/* The text is not echoed: it may hold a password. */
	if ((uc = curl_url_set(u, CURLUPART_URL, spec, 0)) != CURLUE_OK) {
		snprintf(errbuf, errlen, "invalid URL: %s",
		    curl_url_strerror(uc));
		goto out;
	}
	scheme = url_part(u, CURLUPART_SCHEME, 0);
	if (scheme == NULL ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		snprintf(errbuf, errlen,
		    "unknown scheme '%s' (supported: "
		    "tcp, icmp, http, https)",
		    scheme != NULL ? scheme : "");
		goto out;
	}
	if (url_authority(u, t, errbuf, errlen) == -1)
		goto out;
	t->kind = TARGET_HTTP;
	t->http = xcalloc(1, sizeof(*t->http));
	if ((t->http->url = url_part(u, CURLUPART_URL, 0)) == NULL)
		fatalx("curl_url_get: out of memory");
	t->http->tls = strcmp(scheme, "https") == 0;
	t->http->follow = -1;
	t->http->canonical = url_redacted(u);
	if (t->http->canonical == NULL)
		fatalx("curl_url_get: out of memory");
	/* The spec names the target in messages: it must not show a password. */
	free(t->spec);
	t->spec = xstrdup(t->http->canonical);
	rc = 0;
out:
	free(scheme);
	curl_url_cleanup(u);
	return rc;
}

void
target_http_free(struct target_http *h)
{
	unsigned i;

	if (h == NULL)
		return;
	for (i = 0; i < h->nheaders; i++)
		free(h->headers[i]);
	free(h->headers);
	free(h->url);
	free(h->canonical);
	free(h->method);
	free(h->body);
	free(h->match);
	free(h->not_match);
	free(h->ca);
	free(h->ca_pem);
	free(h->host_header);
	free(h->sni);
	free(h);
}

/* RFC 9110 token characters: what a method or a header name may hold. */
static int
is_token(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("!#$%&'*+-.^_`|~", s[i]) == NULL)
			return 0;
	return 1;
}

static int
opt_method(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	if (!is_token(value, strlen(value)) || strlen(value) > 32) {
		snprintf(errbuf, errlen, "method=%s: not an HTTP method",
		    value);
		return -1;
	}
	free(http_of(t)->method);
	http_of(t)->method = xstrdup(value);
	return 0;
}

static int
opt_header(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	struct target_http *h = http_of(t);
	const char *colon = strchr(value, ':'), *p;

	if (colon == NULL || !is_token(value, (size_t)(colon - value))) {
		snprintf(errbuf, errlen, "header=%s: expected 'Name: value'",
		    value);
		return -1;
	}
	for (p = colon + 1; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			snprintf(errbuf, errlen,
			    "header=%.*s: control character in value",
			    (int)(colon - value), value);
			return -1;
		}
	if (strlen(value) > TARGET_HTTP_HEADER_MAX ||
	    h->nheaders == TARGET_HTTP_HEADERS_MAX) {
		snprintf(errbuf, errlen,
		    "header=: at most %d headers of %d "
		    "bytes",
		    TARGET_HTTP_HEADERS_MAX, TARGET_HTTP_HEADER_MAX);
		return -1;
	}
	h->headers =
	    xreallocarray(h->headers, h->nheaders + 2, sizeof(*h->headers));
	h->headers[h->nheaders++] = xstrdup(value);
	h->headers[h->nheaders] = NULL;
	return 0;
}

static void
set_body(struct target_http *h, char *body, size_t len)
{
	free(h->body);
	h->body = body;
	h->body_len = len;
	h->has_body = true;
}

static int
opt_body(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	if (strlen(value) > TARGET_HTTP_BODY_MAX) {
		snprintf(errbuf, errlen, "body=: longer than %d bytes",
		    TARGET_HTTP_BODY_MAX);
		return -1;
	}
	set_body(http_of(t), xstrdup(value), strlen(value));
	return 0;
}

/* Read a whole small regular file; -1 with a reason naming it. */
static int
read_small_file(const char *key, const char *path, size_t max, char **out,
    size_t *len, char *errbuf, size_t errlen)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(errbuf, errlen, "%s=%s: %s", key, path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		snprintf(errbuf, errlen, "%s=%s: %s", key, path,
		    S_ISREG(st.st_mode) ? "file too large" : "not a file");
		close(fd);
		return -1;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != (ssize_t)st.st_size) {
		snprintf(errbuf, errlen, "%s=%s: short read", key, path);
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n;
	return 0;
}

static int
opt_body_file(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	char *body;
	size_t len;

	if (read_small_file("body_file", value, TARGET_HTTP_BODY_MAX, &body,
	        &len, errbuf, errlen) == -1)
		return -1;
	set_body(http_of(t), body, len);
	return 0;
}

static void
expect_set(uint64_t *expect, unsigned lo, unsigned hi)
{
	unsigned c;

	for (c = lo; c <= hi; c++)
		expect[(c - TARGET_HTTP_CODE_MIN) / 64] |= 1ULL
		    << ((c - TARGET_HTTP_CODE_MIN) % 64);
}

/* A status code of three digits, 100..599. */
static int
parse_code(const char *s, size_t n, unsigned *code)
{
	if (n != 3 || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]))
		return -1;
	*code = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + s[2] - '0');
	return *code >= TARGET_HTTP_CODE_MIN && *code <= TARGET_HTTP_CODE_MAX
	    ? 0
	    : -1;
}

/* One item of expect=: "200", "2xx" or "200-299". */
static int
expect_item(const char *s, size_t n, uint64_t *expect)
{
	const char *dash = memchr(s, '-', n);
	unsigned lo, hi;

	if (n == 3 && s[0] >= '1' && s[0] <= '5' && tolower(s[1]) == 'x' &&
	    tolower(s[2]) == 'x') {
		lo = (unsigned)(s[0] - '0') * 100;
		expect_set(expect, lo, lo + 99);
		return 0;
	}
	if (dash == NULL)
		dash = s + n;
	if (parse_code(s, (size_t)(dash - s), &lo) == -1)
		return -1;
	hi = lo;
	if (dash < s + n &&
	    parse_code(dash + 1, (size_t)(s + n - dash - 1), &hi) == -1)
		return -1;
	if (hi < lo)
		return -1;
	expect_set(expect, lo, hi);
	return 0;
}

static int
opt_expect(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	uint64_t expect[TARGET_HTTP_EXPECT_WORDS] = {0};
	const char *p = value, *end;

	do {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		if (expect_item(p, (size_t)(end - p), expect) == -1) {
			snprintf(errbuf, errlen,
			    "expect=%s: '%.*s' is not a status code (100-599), "
			    "class (2xx) or range (200-299)",
			    value, (int)(end - p), p);
			return -1;
		}
		p = end + 1;
	} while (*end != '\0');
	memcpy(http_of(t)->expect, expect, sizeof(expect));
	return 0;
}

static int
check_regex(const char *key, const char *value, char *errbuf, size_t errlen)
{
	char why[160];

	if (*value == '\0' || strlen(value) > TARGET_HTTP_REGEX_MAX) {
		snprintf(errbuf, errlen, "%s=: 1 to %d characters", key,
		    TARGET_HTTP_REGEX_MAX);
		return -1;
	}
	if (regex_check(value, why, sizeof(why)) == -1) {
		snprintf(errbuf, errlen, "%s=%s: %s", key, value, why);
		return -1;
	}
	return 0;
}

static int
opt_match(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	if (check_regex("match", value, errbuf, errlen) == -1)
		return -1;
	free(http_of(t)->match);
	http_of(t)->match = xstrdup(value);
	return 0;
}

static int
opt_not_match(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	if (check_regex("not_match", value, errbuf, errlen) == -1)
		return -1;
	free(http_of(t)->not_match);
	http_of(t)->not_match = xstrdup(value);
	return 0;
}

static int
opt_follow(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	long long v;
	char why[128];

	if (parse_int_range(value, 0, TARGET_HTTP_FOLLOW_MAX, &v, why,
	        sizeof(why)) == -1) {
		snprintf(errbuf, errlen, "follow=%s: %s", value, why);
		return -1;
	}
	http_of(t)->follow = (int)v;
	return 0;
}

static int
opt_insecure(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	if (value == NULL || !strcmp(value, "yes") || !strcmp(value, "true") ||
	    !strcmp(value, "1"))
		http_of(t)->insecure = true;
	else if (!strcmp(value, "no") || !strcmp(value, "false") ||
	    !strcmp(value, "0"))
		http_of(t)->insecure = false;
	else {
		snprintf(errbuf, errlen, "insecure=%s: yes or no", value);
		return -1;
	}
	return 0;
}

/*
 * The CA file is read now, while pulse may still read what root can, and
 * travels with each probe: workers open no files.  A typo is a FILE:LINE
 * error, not a failed probe.
 */
static int
opt_ca(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	struct target_http *h = http_of(t);
	char *pem, *abs;
	size_t len;

	if (read_small_file("ca", value, TARGET_HTTP_CA_MAX, &pem, &len, errbuf,
	        errlen) == -1)
		return -1;
	if (strstr(pem, "-----BEGIN CERTIFICATE-----") == NULL) {
		snprintf(errbuf, errlen, "ca=%s: no PEM certificate in it",
		    value);
		free(pem);
		return -1;
	}
	free(h->ca_pem);
	h->ca_pem = pem;
	h->ca_len = len;
	if ((abs = realpath(value, NULL)) == NULL) {
		snprintf(errbuf, errlen, "ca=%s: %s", value, strerror(errno));
		return -1;
	}
	if (strlen(abs) > TARGET_URL_MAX) {
		snprintf(errbuf, errlen, "ca=%s: path too long", value);
		free(abs);
		return -1;
	}
	free(http_of(t)->ca);
	http_of(t)->ca = abs;
	return 0;
}

static int
opt_tls_name(const char *key, const char *value, char **out, char *errbuf,
    size_t errlen)
{
	char *host, why[128];

	if ((host = target_host_parse(value, strlen(value), why,
	         sizeof(why))) == NULL) {
		snprintf(errbuf, errlen, "%s=%s: %s", key, value, why);
		return -1;
	}
	free(*out);
	*out = host;
	return 0;
}

static int
opt_host(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	return opt_tls_name("host", value, &http_of(t)->host_header, errbuf,
	    errlen);
}

static int
opt_sni(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	return opt_tls_name("sni", value, &http_of(t)->sni, errbuf, errlen);
}

static int
opt_http_version(const char *value, struct target *t, char *errbuf,
    size_t errlen)
{
	if (!strcmp(value, "1.1"))
		http_of(t)->version = 11;
	else if (!strcmp(value, "2") || !strcmp(value, "2.0"))
		http_of(t)->version = 20;
	else {
		snprintf(errbuf, errlen, "http_version=%s: 1.1 or 2", value);
		return -1;
	}
	return 0;
}

static int
opt_max_body(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	char why[128];
	uint64_t v;

	if (size_parse(value, 1, TARGET_HTTP_MAX_BODY_MAX, &v, why,
	        sizeof(why)) == -1) {
		snprintf(errbuf, errlen, "max_body=%s: %s", value, why);
		return -1;
	}
	http_of(t)->max_body = v;
	return 0;
}

#define KIND_HTTP KIND_BIT(TARGET_HTTP)

const struct target_option target_http_options[] = {
    {"method", KIND_HTTP, opt_method, false},
    {"header", KIND_HTTP, opt_header, false},
    {"body", KIND_HTTP, opt_body, false},
    {"body_file", KIND_HTTP, opt_body_file, false},
    {"expect", KIND_HTTP, opt_expect, false},
    {"match", KIND_HTTP, opt_match, false},
    {"not_match", KIND_HTTP, opt_not_match, false},
    {"follow", KIND_HTTP, opt_follow, false},
    {"insecure", KIND_HTTP, opt_insecure, true},
    {"ca", KIND_HTTP, opt_ca, false},
    {"host", KIND_HTTP, opt_host, false},
    {"sni", KIND_HTTP, opt_sni, false},
    {"http_version", KIND_HTTP, opt_http_version, false},
    {"max_body", KIND_HTTP, opt_max_body, false},
};
const size_t target_http_noptions =
    sizeof(target_http_options) / sizeof(target_http_options[0]);

int
target_http_expects(const struct target_http *h, int status)
{
	unsigned i, any = 0, c;

	if (status < TARGET_HTTP_CODE_MIN || status > TARGET_HTTP_CODE_MAX)
		return 0;
	for (i = 0; i < TARGET_HTTP_EXPECT_WORDS; i++)
		any |= h->expect[i] != 0;
	if (!any)
		return status >= 200 && status <= 299;
	c = (unsigned)status - TARGET_HTTP_CODE_MIN;
	return (h->expect[c / 64] >> (c % 64)) & 1;
}

/* Append "2xx", "200-204" or "301" to buf for the codes lo..hi. */
static void
expect_run_text(unsigned lo, unsigned hi, char *buf, size_t len)
{
	size_t n = strlen(buf);
	const char *sep = n > 0 ? "," : "";

	if (n >= len)
		return;
	if (lo % 100 == 0 && hi == lo + 99)
		snprintf(buf + n, len - n, "%s%uxx", sep, lo / 100);
	else if (lo == hi)
		snprintf(buf + n, len - n, "%s%u", sep, lo);
	else
		snprintf(buf + n, len - n, "%s%u-%u", sep, lo, hi);
}

void
target_http_expect_text(const struct target_http *h, char *buf, size_t len)
{
	unsigned c, lo = 0, end;
	int in = 0;

	buf[0] = '\0';
	for (c = TARGET_HTTP_CODE_MIN; c <= TARGET_HTTP_CODE_MAX + 1; c++) {
		int on =
		    c <= TARGET_HTTP_CODE_MAX && target_http_expects(h, (int)c);
		/* A run stops at a class boundary so "2xx,3xx" reads well. */
		end = !on || (in && c % 100 == 0);
		if (in && end) {
			expect_run_text(lo, c - 1, buf, len);
			in = 0;
		}
		if (on && !in) {
			lo = c;
			in = 1;
		}
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "none");
}

void
target_http_key(const struct target_http *h, char *buf, size_t len)
{
	char expect[TARGET_HTTP_EXPECT_WORDS * 16 + 1];
	uint64_t codes[TARGET_HTTP_EXPECT_WORDS];
	size_t n = strlen(buf), e;
	unsigned i, any;

	/* The bitmap itself: cheaper than its text, and as exact. */
	for (i = 0, any = 0; i < TARGET_HTTP_EXPECT_WORDS; i++)
		any |= h->expect[i] != 0;
	memcpy(codes, h->expect, sizeof(codes));
	if (!any) /* the default, so that expect=2xx is the same probe */
		expect_set(codes, 200, 299);
	for (i = 0, e = 0; i < TARGET_HTTP_EXPECT_WORDS; i++)
		e += (size_t)snprintf(expect + e, sizeof(expect) - e, "%016llx",
		    (unsigned long long)codes[i]);
	n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
	    " url=%s method=%s body=%d:%zu:%016llx expect=%s follow=%d "
	    "insecure=%d ca=%s host=%s sni=%s v=%u max_body=%llu",
	    h->url, h->method ? h->method : "", h->has_body, h->body_len,
	    (unsigned long long)hash_bytes(h->body ? h->body : "", h->body_len),
	    expect, h->follow, h->insecure, h->ca ? h->ca : "",
	    h->host_header ? h->host_header : "", h->sni ? h->sni : "",
	    h->version, (unsigned long long)h->max_body);
	n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
	    " match=%zu:%s not_match=%zu:%s", h->match ? strlen(h->match) : 0,
	    h->match ? h->match : "", h->not_match ? strlen(h->not_match) : 0,
	    h->not_match ? h->not_match : "");
	for (i = 0; i < h->nheaders; i++)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
		    " header=%zu:%s", strlen(h->headers[i]), h->headers[i]);
}
