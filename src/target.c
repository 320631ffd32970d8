/* Parse targets: "TARGET [key=value ...]" lines from a file or the shell. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "target.h"
#include "target_opt.h"
#include "util.h"

const char *
target_kind_name(enum target_kind kind)
{
	switch (kind) {
	case TARGET_TCP:
		return "tcp";
	case TARGET_ICMP:
		return "icmp";
	case TARGET_HTTP:
		return "http";
	}
	return "unknown";
}

int
target_sweepable(const struct target *t)
{
	struct in6_addr a;

	return t->kind == TARGET_ICMP && t->host != NULL &&
	    (inet_pton(AF_INET, t->host, &a) == 1 ||
	        inet_pton(AF_INET6, t->host, &a) == 1);
}

int
target_runs_beside(const struct target *t)
{
	struct in6_addr a;

	if (t->kind == TARGET_HTTP)
		return 1;
	return t->kind == TARGET_TCP && t->host != NULL &&
	    (inet_pton(AF_INET, t->host, &a) == 1 ||
	        inet_pton(AF_INET6, t->host, &a) == 1);
}

const char *
target_name(const struct target *t)
{
	return t->name != NULL ? t->name : t->spec;
}

void
target_clear(struct target *t)
{
	unsigned i;

	free(t->host);
	free(t->spec);
	free(t->name);
	target_http_free(t->http);
	for (i = 0; i < t->nlabels; i++) {
		free(t->labels[i].name);
		free(t->labels[i].value);
	}
	free(t->labels);
	memset(t, 0, sizeof(*t));
}

void
target_list_free(struct target_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		target_clear(&list->v[i]);
	free(list->v);
	free(list->slots);
	free(list->hashes);
	memset(list, 0, sizeof(*list));
}

void
target_canonical(const struct target *t, char *buf, size_t len)
{
	int v6 = strchr(t->host, ':') != NULL;

	if (t->kind == TARGET_HTTP)
		snprintf(buf, len, "%s", t->http->canonical);
	else if (t->kind == TARGET_ICMP)
		snprintf(buf, len, "icmp://%s%s%s", v6 ? "[" : "", t->host,
		    v6 ? "]" : "");
	else
		snprintf(buf, len, "%s://%s%s%s:%u", target_kind_name(t->kind),
		    v6 ? "[" : "", t->host, v6 ? "]" : "", (unsigned)t->port);
}

void
target_key(const struct target *t, char *buf, size_t len)
{
	char d[32];
	size_t n;

	target_canonical(t, buf, len);
	n = strlen(buf);
	if (t->ipv != 0)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, " ipv=%d",
		    t->ipv);
	if (t->kind == TARGET_HTTP)
		target_http_key(t->http, buf, len);
	if (t->kind != TARGET_ICMP)
		return;
	duration_format(t->interval_us > 0 ? t->interval_us
	                                   : TARGET_ICMP_INTERVAL_US,
	    d, sizeof(d));
	snprintf(buf + n, n < len ? len - n : 0,
	    " count=%u interval=%s size=%u ttl=%u", t->count, d, t->size,
	    t->ttl);
}

/*
 * Cut the next whitespace-separated token out of *p, undoing quotes: "..."
 * with \" and \\ escapes, '...' taken literally.  A '#' that starts a token
 * starts a comment.  Returns 1 with a token, 0 at the end, -1 on error.
 */
static int
next_token(const char **p, char **out, char *errbuf, size_t errlen)
{
	const char *s = *p;
	char *buf, *d;
	char quote;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == '#') {
		*p = s;
		return 0;
	}
	d = buf = xmalloc(strlen(s) + 1);
	while (*s != '\0' && *s != ' ' && *s != '\t') {
		if (*s != '"' && *s != '\'') {
			*d++ = *s++;
			continue;
		}
		quote = *s++;
		while (*s != quote) {
			if (*s == '\0') {
				snprintf(errbuf, errlen,
				    "unterminated %s quote",
				    quote == '"' ? "double" : "single");
				free(buf);
				return -1;
			}
			if (quote == '"' && *s == '\\' &&
			    (s[1] == '"' || s[1] == '\\'))
				s++;
			*d++ = *s++;
		}
		s++;
	}
	*d = '\0';
	*p = s;
	*out = buf;
	return 1;
}

/* A DNS name: labels of letters, digits, '-' and '_', 1..63 octets each. */
int
target_hostname_check(const char *h, char *errbuf, size_t errlen)
{
	size_t len = strlen(h), label = 0;
	int all_digits = 1;
	const char *p;

	if (len == 0) {
		snprintf(errbuf, errlen, "empty host");
		return -1;
	}
	if (len > TARGET_HOST_MAX) {
		snprintf(errbuf, errlen, "host name longer than %d characters",
		    TARGET_HOST_MAX);
		return -1;
	}
	for (p = h; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-') {
				snprintf(errbuf, errlen,
				    "invalid host name '%s'", h);
				return -1;
			}
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
			snprintf(errbuf, errlen,
			    "invalid character '%c' in host name", *p);
			return -1;
		}
		if ((label == 0 && *p == '-') || ++label > 63) {
			snprintf(errbuf, errlen, "invalid host name '%s'", h);
			return -1;
		}
		if (!isdigit((unsigned char)*p))
			all_digits = 0;
	}
	if (p[-1] == '-' || all_digits) {
		snprintf(errbuf, errlen, "invalid host name '%s'", h);
		return -1;
	}
	return 0;
}

/* An IPv6 literal, optionally with a %zone of interface-name characters. */
static int
valid_ipv6(const char *h, char *errbuf, size_t errlen)
{
	struct in6_addr a;
	char addr[INET6_ADDRSTRLEN + 1];
	const char *zone = strchr(h, '%'), *p;
	size_t n = zone != NULL ? (size_t)(zone - h) : strlen(h);

	if (n >= sizeof(addr))
		goto bad;
	memcpy(addr, h, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET6, addr, &a) != 1)
		goto bad;
	if (zone != NULL) {
		if (zone[1] == '\0' || strlen(zone) > 16)
			goto bad;
		for (p = zone + 1; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
				goto bad;
	}
	return 0;
bad:
	snprintf(errbuf, errlen, "invalid IPv6 address '%s'", h);
	return -1;
}

/* Rewrite a valid IPv6 literal in its one canonical spelling. */
static void
normalize_ipv6(char **host)
{
	char addr[INET6_ADDRSTRLEN], *zone = strchr(*host, '%'), *out;
	struct in6_addr a;

	if (zone != NULL)
		*zone = '\0';
	if (inet_pton(AF_INET6, *host, &a) != 1 ||
	    inet_ntop(AF_INET6, &a, addr, sizeof(addr)) == NULL)
		fatalx("normalize_ipv6: %s", *host);
	xasprintf(&out, "%s%s%s", addr, zone ? "%" : "", zone ? zone + 1 : "");
	free(*host);
	*host = out;
}

static int
parse_port(const char *s, uint16_t *port, char *errbuf, size_t errlen)
{
	long long v;
	char why[128];

	if (*s == '\0') {
		snprintf(errbuf, errlen, "missing port number");
		return -1;
	}
	/* strtoll would take "+80" and " 80"; a port is digits only. */
	if (!isdigit((unsigned char)*s)) {
		snprintf(errbuf, errlen, "invalid port '%s': 1..65535", s);
		return -1;
	}
	if (parse_int_range(s, 1, 65535, &v, why, sizeof(why)) == -1) {
		snprintf(errbuf, errlen, "invalid port '%s': 1..65535", s);
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

char *
target_host_parse(const char *s, size_t n, char *errbuf, size_t errlen)
{
	struct in_addr a4;
	char *host = xstrndup(s, n), *p;

	if (inet_pton(AF_INET, host, &a4) == 1) {
		free(host);
		host = xmalloc(INET_ADDRSTRLEN);
		inet_ntop(AF_INET, &a4, host, INET_ADDRSTRLEN);
		return host;
	}
	if (strchr(host, ':') != NULL) {
		if (valid_ipv6(host, errbuf, errlen) == -1)
			goto fail;
		normalize_ipv6(&host);
		return host;
	}
	if (target_hostname_check(host, errbuf, errlen) == -1)
		goto fail;
	for (p = host; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return host;
fail:
	free(host);
	return NULL;
}

/*
 * Split an authority into t->host and t->port: "host:port", "[v6]:port",
 * or, when the port may be absent, "host", "[v6]" and a bare "v6".
 */
static int
parse_authority(const char *s, int port_required, struct target *t,
    char *errbuf, size_t errlen)
{
	const char *end, *colon = NULL;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL) {
			snprintf(errbuf, errlen,
			    "missing ']' after IPv6 address in '%s'", s);
			return -1;
		}
		if (end[1] == ':')
			colon = end + 1;
		else if (end[1] != '\0' || port_required) {
			snprintf(errbuf, errlen, "missing ':port' after '%.*s'",
			    (int)(end - s + 1), s);
			return -1;
		}
		if (strchr(s, ':') == NULL || strchr(s, ':') > end) {
			snprintf(errbuf, errlen, "invalid IPv6 address '%.*s'",
			    (int)(end - s + 1), s);
			return -1;
		}
		t->host = target_host_parse(s + 1, (size_t)(end - s - 1),
		    errbuf, errlen);
	} else {
		colon = strrchr(s, ':');
		if (colon != NULL && memchr(s, ':', (size_t)(colon - s))) {
			if (port_required) {
				snprintf(errbuf, errlen,
				    "IPv6 address must "
				    "be in brackets, e.g. [::1]:80");
				return -1;
			}
			colon = NULL; /* a bare IPv6 address */
		}
		if (colon == NULL && port_required) {
			snprintf(errbuf, errlen,
			    "missing port in '%s' (write host:port)", s);
			return -1;
		}
		t->host = target_host_parse(s,
		    colon != NULL ? (size_t)(colon - s) : strlen(s), errbuf,
		    errlen);
	}
	if (t->host == NULL)
		return -1;
	if (colon != NULL && !port_required) {
		snprintf(errbuf, errlen, "an icmp target takes no port");
		return -1;
	}
	return colon != NULL ? parse_port(colon + 1, &t->port, errbuf, errlen)
	                     : 0;
}

/*
 * The first token: "tcp://host:port", "icmp://host", an http:// or
 * https:// URL, or without a scheme "host:port" (TCP) or a bare host or
 * address (ICMP).
 */
int
target_parse_spec(const char *spec, struct target *t, char *errbuf,
    size_t errlen)
{
	const char *sep = strstr(spec, "://"), *rest = spec;
	const char *colon = strrchr(spec, ':');

	if (t->spec == NULL)
		t->spec = xstrdup(spec);
	if (sep != NULL &&
	    (((size_t)(sep - spec) == 4 && !strncasecmp(spec, "http", 4)) ||
	        ((size_t)(sep - spec) == 5 && !strncasecmp(spec, "https", 5))))
		return target_http_parse_url(spec, t, errbuf, errlen);
	if (sep != NULL) {
		rest = sep + 3;
		if ((size_t)(sep - spec) == 3 && !strncasecmp(spec, "tcp", 3))
			t->kind = TARGET_TCP;
		else if ((size_t)(sep - spec) == 4 &&
		    !strncasecmp(spec, "icmp", 4))
			t->kind = TARGET_ICMP;
		else {
			snprintf(errbuf, errlen,
			    "unknown scheme '%.*s' "
			    "(supported: tcp, icmp, http, https)",
			    (int)(sep - spec), spec);
			return -1;
		}
		if (strchr(rest, '/') != NULL) {
			snprintf(errbuf, errlen,
			    "%s:// targets take no "
			    "path",
			    target_kind_name(t->kind));
			return -1;
		}
	} else if (colon == NULL ||
	    (spec[0] != '[' && strchr(spec, ':') != colon) ||
	    spec[strlen(spec) - 1] == ']')
		t->kind = TARGET_ICMP; /* no port: a host or a bare IPv6 */
	else
		t->kind = TARGET_TCP;
	if (t->kind == TARGET_ICMP) {
		t->size = TARGET_ICMP_SIZE;
		return parse_authority(rest, 0, t, errbuf, errlen);
	}
	return parse_authority(rest, 1, t, errbuf, errlen);
}

/* A duration option within [min, max], both whole units for the message. */
static int
opt_duration(const char *key, const char *value, int64_t min, int64_t max,
    int64_t *out, char *errbuf, size_t errlen)
{
	char why[128], lo[32], hi[32];

	if (duration_parse(value, out, why, sizeof(why)) == -1) {
		snprintf(errbuf, errlen, "%s=%s: %s", key, value, why);
		return -1;
	}
	if (*out < min || *out > max) {
		duration_format(min, lo, sizeof(lo));
		duration_format(max, hi, sizeof(hi));
		snprintf(errbuf, errlen, "%s=%s: must be between %s and %s",
		    key, value, lo, hi);
		return -1;
	}
	return 0;
}

static int
opt_timeout(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	return opt_duration("timeout", value, USEC_PER_MSEC,
	    3600 * USEC_PER_SEC, &t->timeout_us, errbuf, errlen);
}

static int
opt_every(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	return opt_duration("every", value, 100 * USEC_PER_MSEC,
	    DURATION_MAX_US, &t->every_us, errbuf, errlen);
}

static int
opt_name(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	if (*value == '\0') {
		snprintf(errbuf, errlen, "name= is empty");
		return -1;
	}
	free(t->name);
	t->name = xstrdup(value);
	return 0;
}

/* Labels every output sets itself; a target may not set them. */
static const char *const reserved_labels[] = {"target", "kind", "name",
    "reason", "phase", "stat", "instance", "job", "le", "quantile", "result",
    "version", "state"};

static int
check_label_name(const char *name, char *errbuf, size_t errlen)
{
	const char *p;
	size_t i;

	if (*name == '\0' || strlen(name) > TARGET_LABEL_NAME_MAX ||
	    isdigit((unsigned char)*name)) {
		snprintf(errbuf, errlen,
		    "label '%s': a name of 1 to %d "
		    "letters, digits and '_', not starting with a digit",
		    name, TARGET_LABEL_NAME_MAX);
		return -1;
	}
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_') {
			snprintf(errbuf, errlen,
			    "label '%s': invalid "
			    "character '%c' (letters, digits and '_' only)",
			    name, *p);
			return -1;
		}
	if (strncmp(name, "__", 2) == 0) {
		snprintf(errbuf, errlen,
		    "label '%s': names starting with "
		    "'__' are Prometheus' own",
		    name);
		return -1;
	}
	for (i = 0; i < sizeof(reserved_labels) / sizeof(reserved_labels[0]);
	     i++)
		if (strcmp(name, reserved_labels[i]) == 0) {
			snprintf(errbuf, errlen,
			    "label '%s': pulse sets that "
			    "label itself",
			    name);
			return -1;
		}
	return 0;
}

int
target_set_label(struct target *t, const char *name, const char *value,
    char *errbuf, size_t errlen)
{
	unsigned i;

	if (check_label_name(name, errbuf, errlen) == -1)
		return -1;
	if (strlen(value) > TARGET_LABEL_VALUE_MAX) {
		snprintf(errbuf, errlen,
		    "label '%s': value longer than %d "
		    "bytes",
		    name, TARGET_LABEL_VALUE_MAX);
		return -1;
	}
	for (i = 0; i < t->nlabels && strcmp(t->labels[i].name, name) < 0; i++)
		;
	if (i < t->nlabels && strcmp(t->labels[i].name, name) == 0) {
		free(t->labels[i].value);
		t->labels[i].value = xstrdup(value);
		return 0;
	}
	if (t->nlabels == TARGET_LABELS_MAX) {
		snprintf(errbuf, errlen, "more than %d labels",
		    TARGET_LABELS_MAX);
		return -1;
	}
	t->labels =
	    xreallocarray(t->labels, t->nlabels + 1, sizeof(*t->labels));
	memmove(&t->labels[i + 1], &t->labels[i],
	    (t->nlabels - i) * sizeof(*t->labels));
	t->labels[i].name = xstrdup(name);
	t->labels[i].value = xstrdup(value);
	t->nlabels++;
	return 0;
}

/* A whole number option within [min, max]. */
static int
opt_number(const char *key, const char *value, long long min, long long max,
    unsigned *out, char *errbuf, size_t errlen)
{
	char why[128];
	long long v;

	if (parse_int_range(value, min, max, &v, why, sizeof(why)) == -1) {
		snprintf(errbuf, errlen, "%s=%s: %s", key, value, why);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int
opt_ipv(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	if (strcmp(value, "4") != 0 && strcmp(value, "6") != 0) {
		snprintf(errbuf, errlen, "ipv=%s: must be 4 or 6", value);
		return -1;
	}
	t->ipv = value[0] - '0';
	return 0;
}

static int
opt_count(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	return opt_number("count", value, 1, TARGET_ICMP_COUNT_MAX, &t->count,
	    errbuf, errlen);
}

static int
opt_interval(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	return opt_duration("interval", value, USEC_PER_MSEC, 60 * USEC_PER_SEC,
	    &t->interval_us, errbuf, errlen);
}

static int
opt_size(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	return opt_number("size", value, 0, TARGET_ICMP_SIZE_MAX, &t->size,
	    errbuf, errlen);
}

static int
opt_ttl(const char *value, struct target *t, char *errbuf, size_t errlen)
{
	return opt_number("ttl", value, 1, 255, &t->ttl, errbuf, errlen);
}

#define KINDS_ALL                                                              \
	(KIND_BIT(TARGET_TCP) | KIND_BIT(TARGET_ICMP) | KIND_BIT(TARGET_HTTP))
#define KIND_ICMP KIND_BIT(TARGET_ICMP)

static const struct target_option target_options[] = {
    {"name", KINDS_ALL, opt_name, false},
    {"timeout", KINDS_ALL, opt_timeout, false},
    {"every", KINDS_ALL, opt_every, false},
    {"ipv", KINDS_ALL, opt_ipv, false},
    {"count", KIND_ICMP, opt_count, false},
    {"interval", KIND_ICMP, opt_interval, false},
    {"size", KIND_ICMP, opt_size, false},
    {"ttl", KIND_ICMP, opt_ttl, false},
};

static const struct target_option *
find_option(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(target_options) / sizeof(target_options[0]); i++)
		if (strcmp(key, target_options[i].key) == 0)
			return &target_options[i];
	for (i = 0; i < target_http_noptions; i++)
		if (strcmp(key, target_http_options[i].key) == 0)
			return &target_http_options[i];
	return NULL;
}

/* The keys that fit a kind, for a message: "name, timeout, ipv, ...". */
static void
known_keys(enum target_kind kind, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(target_options) / sizeof(target_options[0]); i++)
		if (target_options[i].kinds & KIND_BIT(kind))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
			    "%s%s", n ? ", " : "", target_options[i].key);
	for (i = 0; i < target_http_noptions; i++)
		if (target_http_options[i].kinds & KIND_BIT(kind))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
			    "%s%s", n ? ", " : "", target_http_options[i].key);
}

int
target_apply_option(struct target *t, const char *key, const char *value,
    char *errbuf, size_t errlen)
{
	const struct target_option *o = find_option(key);
	char known[512];

	if (strncmp(key, "label.", 6) == 0 && value != NULL)
		return target_set_label(t, key + 6, value, errbuf, errlen);
	if (o == NULL) {
		known_keys(t->kind, known, sizeof(known));
		snprintf(errbuf, errlen,
		    "unknown key '%s' (known for %s "
		    "targets: %s)",
		    key, target_kind_name(t->kind), known);
		return -1;
	}
	if ((o->kinds & KIND_BIT(t->kind)) == 0) {
		snprintf(errbuf, errlen, "%s= does not apply to %s targets",
		    key, target_kind_name(t->kind));
		return -1;
	}
	if (value == NULL && !o->bare) {
		snprintf(errbuf, errlen, "expected key=value, got '%s'", key);
		return -1;
	}
	return o->parse(value, t, errbuf, errlen);
}

/* Apply one key=value (or bare flag) token to t. */
static int
parse_option(char *tok, struct target *t, char *errbuf, size_t errlen)
{
	char *value = strchr(tok, '=');

	if (value != NULL)
		*value++ = '\0';
	return target_apply_option(t, tok, value, errbuf, errlen);
}

/* The bytes a probe request carries for h, roughly and from above. */
static size_t
http_request_size(const struct target_http *h)
{
	size_t n = strlen(h->url) + h->body_len + h->ca_len + 1024;
	unsigned i;

	for (i = 0; i < h->nheaders; i++)
		n += strlen(h->headers[i]) + 2;
	n += h->match != NULL ? strlen(h->match) : 0;
	n += h->not_match != NULL ? strlen(h->not_match) : 0;
	n += h->ca != NULL ? strlen(h->ca) : 0;
	return n;
}

/* Options that contradict each other or the URL. */
static int
check_http(const struct target *t, char *errbuf, size_t errlen)
{
	const struct target_http *h = t->http;

	if (!h->tls && h->sni != NULL) {
		snprintf(errbuf, errlen, "sni= applies to https:// only");
		return -1;
	}
	if (h->method != NULL && strcmp(h->method, "HEAD") == 0 &&
	    (h->match != NULL || h->not_match != NULL)) {
		snprintf(errbuf, errlen,
		    "match= and not_match= need a body: "
		    "method=HEAD gets none");
		return -1;
	}
	if (http_request_size(h) > TARGET_HTTP_REQUEST_MAX) {
		snprintf(errbuf, errlen,
		    "headers, body and ca= together are larger than %d KiB",
		    TARGET_HTTP_REQUEST_MAX / 1024);
		return -1;
	}
	return 0;
}

int
target_check(const struct target *t, char *errbuf, size_t errlen)
{
	struct in6_addr a;
	int v4 = inet_pton(AF_INET, t->host, &a) == 1;
	int v6 = strchr(t->host, ':') != NULL;

	if ((t->ipv == 6 && v4) || (t->ipv == 4 && v6)) {
		snprintf(errbuf, errlen, "ipv=%d: %s is an IPv%d address",
		    t->ipv, t->host, v4 ? 4 : 6);
		return -1;
	}
	if (t->kind == TARGET_HTTP)
		return check_http(t, errbuf, errlen);
	return 0;
}

/* Tokenise a NUL-free, UTF-8 checked line into t. */
static int
parse_tokens(const char *line, struct target *t, char *errbuf, size_t errlen)
{
	const char *p = line;
	char *tok;
	int rc;

	if ((rc = next_token(&p, &tok, errbuf, errlen)) <= 0)
		return rc;
	t->spec = tok;
	if (target_parse_spec(tok, t, errbuf, errlen) == -1)
		return -1;
	while ((rc = next_token(&p, &tok, errbuf, errlen)) == 1) {
		rc = parse_option(tok, t, errbuf, errlen);
		free(tok);
		if (rc == -1)
			return -1;
	}
	if (rc == -1 || target_check(t, errbuf, errlen) == -1)
		return -1;
	return 1;
}

int
target_parse_line(const char *line, size_t len, struct target *t, char *errbuf,
    size_t errlen)
{
	char *copy;
	int rc;

	memset(t, 0, sizeof(*t));
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len > TARGET_LINE_MAX) {
		snprintf(errbuf, errlen,
		    "line too long (%zu bytes, at most %d)", len,
		    TARGET_LINE_MAX);
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		snprintf(errbuf, errlen, "NUL byte in line");
		return -1;
	}
	copy = xstrndup(line, len);
	if (!utf8_valid(copy)) {
		snprintf(errbuf, errlen, "invalid UTF-8");
		free(copy);
		return -1;
	}
	rc = parse_tokens(copy, t, errbuf, errlen);
	free(copy);
	if (rc != 1)
		target_clear(t);
	return rc;
}
