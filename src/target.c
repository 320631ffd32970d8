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
#include "util.h"

const char *
target_kind_name(enum target_kind kind)
{
	switch (kind) {
	case TARGET_TCP:
		return "tcp";
	}
	return "unknown";
}

const char *
target_name(const struct target *t)
{
	return t->name != NULL ? t->name : t->spec;
}

void
target_clear(struct target *t)
{
	free(t->host);
	free(t->spec);
	free(t->name);
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
	memset(list, 0, sizeof(*list));
}

void
target_canonical(const struct target *t, char *buf, size_t len)
{
	int v6 = strchr(t->host, ':') != NULL;

	snprintf(buf, len, "%s://%s%s%s:%u", target_kind_name(t->kind),
	    v6 ? "[" : "", t->host, v6 ? "]" : "", (unsigned)t->port);
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
				snprintf(errbuf, errlen, "unterminated %s quote",
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
static int
valid_hostname(const char *h, char *errbuf, size_t errlen)
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

/* Split "host:port" or "[v6]:port" into t->host and t->port. */
static int
parse_hostport(const char *s, struct target *t, char *errbuf, size_t errlen)
{
	const char *end, *colon;
	struct in_addr a4;
	char *host;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL) {
			snprintf(errbuf, errlen,
			    "missing ']' after IPv6 address in '%s'", s);
			return -1;
		}
		host = xstrndup(s + 1, (size_t)(end - s - 1));
		if (valid_ipv6(host, errbuf, errlen) == -1)
			goto fail;
		normalize_ipv6(&host);
		if (end[1] != ':') {
			snprintf(errbuf, errlen, "missing ':port' after '%.*s'",
			    (int)(end - s + 1), s);
			goto fail;
		}
		colon = end + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL) {
			snprintf(errbuf, errlen,
			    "missing port in '%s' (write host:port)", s);
			return -1;
		}
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			snprintf(errbuf, errlen, "IPv6 address must be in "
			    "brackets, e.g. [::1]:80");
			return -1;
		}
		host = xstrndup(s, (size_t)(colon - s));
		if (inet_pton(AF_INET, host, &a4) == 1) {
			free(host);
			host = xmalloc(INET_ADDRSTRLEN);
			inet_ntop(AF_INET, &a4, host, INET_ADDRSTRLEN);
		} else if (valid_hostname(host, errbuf, errlen) == -1)
			goto fail;
		for (char *p = host; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	if (parse_port(colon + 1, &t->port, errbuf, errlen) == -1)
		goto fail;
	t->host = host;
	return 0;
fail:
	free(host);
	return -1;
}

/* The first token: "tcp://host:port" or plain "host:port". */
static int
parse_spec(const char *spec, struct target *t, char *errbuf, size_t errlen)
{
	const char *sep = strstr(spec, "://");

	t->kind = TARGET_TCP;
	if (sep != NULL) {
		if ((size_t)(sep - spec) != 3 || strncasecmp(spec, "tcp", 3)) {
			snprintf(errbuf, errlen,
			    "unknown scheme '%.*s' (supported: tcp)",
			    (int)(sep - spec), spec);
			return -1;
		}
		spec = sep + 3;
		if (strchr(spec, '/') != NULL) {
			snprintf(errbuf, errlen,
			    "a tcp:// target takes no path");
			return -1;
		}
	}
	return parse_hostport(spec, t, errbuf, errlen);
}

/* Apply one key=value option to t. */
static int
parse_option(char *tok, struct target *t, char *errbuf, size_t errlen)
{
	char *value = strchr(tok, '='), why[128];
	int64_t us;

	if (value == NULL) {
		snprintf(errbuf, errlen, "expected key=value, got '%s'", tok);
		return -1;
	}
	*value++ = '\0';
	if (strcmp(tok, "timeout") == 0) {
		if (duration_parse(value, &us, why, sizeof(why)) == -1) {
			snprintf(errbuf, errlen, "timeout=%s: %s", value, why);
			return -1;
		}
		if (us < USEC_PER_MSEC || us > 3600 * USEC_PER_SEC) {
			snprintf(errbuf, errlen,
			    "timeout=%s: must be between 1ms and 1h", value);
			return -1;
		}
		t->timeout_us = us;
	} else if (strcmp(tok, "name") == 0) {
		if (*value == '\0') {
			snprintf(errbuf, errlen, "name= is empty");
			return -1;
		}
		free(t->name);
		t->name = xstrdup(value);
	} else {
		snprintf(errbuf, errlen, "unknown key '%s' (known: name, "
		    "timeout)", tok);
		return -1;
	}
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
	if (parse_spec(tok, t, errbuf, errlen) == -1)
		return -1;
	while ((rc = next_token(&p, &tok, errbuf, errlen)) == 1) {
		rc = parse_option(tok, t, errbuf, errlen);
		free(tok);
		if (rc == -1)
			return -1;
	}
	return rc == 0 ? 1 : -1;
}

int
target_parse_line(const char *line, size_t len, struct target *t,
    char *errbuf, size_t errlen)
{
	char *copy;
	int rc;

	memset(t, 0, sizeof(*t));
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len > TARGET_LINE_MAX) {
		snprintf(errbuf, errlen, "line too long (%zu bytes, at most %d)",
		    len, TARGET_LINE_MAX);
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
