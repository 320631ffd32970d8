/* Unit tests for target_http.c: http:// and https:// targets and options. */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "target.h"
#include "util.h"

#define PEM_HEAD "-----BEGIN CERTIFICATE-----\n"

/* A temp file holding data; the caller unlinks and frees the path. */
static char *
temp_file(const void *data, size_t len)
{
	const char *tmp = getenv("TMPDIR");
	char *path;
	int fd;

	xasprintf(&path, "%s/pulse-http.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

/* A temp file of len bytes that starts like a PEM certificate. */
static char *
temp_pem(size_t len)
{
	char *data = xmalloc(len), *path;

	assert_true(len >= strlen(PEM_HEAD));
	memset(data, 'A', len);
	memcpy(data, PEM_HEAD, strlen(PEM_HEAD));
	path = temp_file(data, len);
	free(data);
	return path;
}

static void
unlink_free(char *path)
{
	unlink(path);
	free(path);
}

/* Parse line (printf-style) into t or fail the test with the reason. */
static void parse(struct target *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
parse(struct target *t, const char *fmt, ...)
{
	char line[TARGET_LINE_MAX * 2], err[512] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (target_parse_line(line, strlen(line), t, err, sizeof(err)) != 1)
		fail_msg("\"%s\": %s", line, err);
	assert_int_equal(t->kind, TARGET_HTTP);
	assert_non_null(t->http);
}

/* 1 if line is refused with a reason (kept in err), else 0 after saying
 * why not. */
static int
refused(const char *line, char *err, size_t errlen)
{
	struct target t;
	int rc;

	memset(err, 0, errlen);
	rc = target_parse_line(line, strlen(line), &t, err, errlen);
	if (rc == 1)
		target_clear(&t);
	if (rc != -1) {
		print_error("\"%s\" gave %d, want -1\n", line, rc);
		return 0;
	}
	if (err[0] == '\0') {
		print_error("\"%s\" refused without a reason\n", line);
		return 0;
	}
	return 1;
}

/* Apply one option to a parsed http:// target; its verdict. */
static int
apply(const char *key, const char *value)
{
	struct target t;
	char err[512];
	int rc;

	parse(&t, "http://127.0.0.1/");
	rc = target_apply_option(&t, key, value, err, sizeof(err));
	target_clear(&t);
	return rc;
}

/* http:// and https:// URLs give the host, the scheme's port unless one
 * is written, TLS for https, and a canonical form that is also the spec
 * and the default name; every option starts at its default. */
static void
test_parse_urls(void **state)
{
	static const struct {
		const char *line, *host;
		unsigned port;
		bool tls;
		const char *canon;
	} cases[] = {
	    {"http://127.0.0.1", "127.0.0.1", 80, false, "http://127.0.0.1/"},
	    {"https://127.0.0.1:8443/health?full=1", "127.0.0.1", 8443, true,
	        "https://127.0.0.1:8443/health?full=1"},
	    {"http://[::1]:8080/x", "::1", 8080, false, "http://[::1]:8080/x"},
	    {"https://[0:0::1]/", "::1", 443, true, "https://[::1]/"},
	    {"https://www.example.test/", "www.example.test", 443, true,
	        "https://www.example.test/"},
	    {"HTTPS://www.example.test/a", "www.example.test", 443, true,
	        "https://www.example.test/a"},
	    {"http://0x7f.1/", "127.0.0.1", 80, false, "http://127.0.0.1/"},
	    {"http://127.0.0.1:65535/ name=web timeout=2s", "127.0.0.1", 65535,
	        false, "http://127.0.0.1:65535/"},
	};
	char canon[TARGET_CANONICAL_MAX];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct target t;

		parse(&t, "%s", cases[i].line);
		assert_string_equal(t.host, cases[i].host);
		assert_int_equal(t.port, cases[i].port);
		assert_int_equal(t.http->tls, cases[i].tls);
		target_canonical(&t, canon, sizeof(canon));
		assert_string_equal(canon, cases[i].canon);
		assert_string_equal(t.http->canonical, cases[i].canon);
		assert_string_equal(t.spec, cases[i].canon);
		/* Without a password, what is sent is the canonical form. */
		assert_string_equal(t.http->url, cases[i].canon);
		assert_null(t.http->method);
		assert_int_equal(t.http->nheaders, 0);
		assert_false(t.http->has_body);
		assert_int_equal(t.http->follow, -1);
		assert_false(t.http->insecure);
		assert_null(t.http->ca);
		assert_null(t.http->match);
		assert_null(t.http->not_match);
		assert_int_equal(t.http->version, 0);
		assert_int_equal(t.http->max_body, 0);
		target_clear(&t);
	}
	assert_string_equal(target_kind_name(TARGET_HTTP), "http");
}

/* A password in the URL reaches the worker, but never the canonical
 * form, the spec or the name that messages and outputs show. */
static void
test_password_redacted(void **state)
{
	static const char line[] =
	    "https://alice:s3cret@www.example.test:8443/p?q=1";
	char canon[TARGET_CANONICAL_MAX];
	struct target t;

	parse(&t, "%s", line);
	assert_string_equal(t.http->url, line);
	target_canonical(&t, canon, sizeof(canon));
	assert_string_equal(canon,
	    "https://alice:xxxxx@www.example.test:8443/p?q=1");
	assert_string_equal(t.spec, canon);
	assert_string_equal(target_name(&t), canon);
	target_clear(&t);

	/* A user without a password has nothing to hide. */
	parse(&t, "http://alice@127.0.0.1/");
	assert_string_equal(t.http->canonical, "http://alice@127.0.0.1/");
	target_clear(&t);
}

/* target_http_redact hides any password, of any scheme, and gives NULL
 * for text that is no URL. */
static void
test_redact(void **state)
{
	static const char *cases[][2] = {
	    {"https://u:p@h.example/", "https://u:xxxxx@h.example/"},
	    {"http://u:p%40ss@h.example:81/a?b=c",
	        "http://u:xxxxx@h.example:81/a?b=c"},
	    {"http://u@h.example/", "http://u@h.example/"},
	    {"http://h.example/a?b=c", "http://h.example/a?b=c"},
	    {"ftp://u:p@h.example/f", "ftp://u:xxxxx@h.example/f"},
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = target_http_redact(cases[i][0]);
		assert_non_null(s);
		assert_string_equal(s, cases[i][1]);
		free(s);
	}
	assert_null(target_http_redact("not a url"));
	assert_null(target_http_redact(""));
}

/* Every option lands in its field, with files read and the CA path made
 * absolute. */
static void
test_options(void **state)
{
	static const char pem[] = PEM_HEAD "MIIB\n-----END CERTIFICATE-----\n";
	char *ca = temp_file(pem, sizeof(pem) - 1), *abs;
	struct target t;

	abs = realpath(ca, NULL);
	assert_non_null(abs);
	parse(&t,
	    "https://127.0.0.1:8443/api method=PUT header='X-A: 1' "
	    "header=\"X-B: two words\" body='{\"k\": 1}' "
	    "expect=200,3xx,404-410 match='^ok' not_match=error follow=7 "
	    "insecure ca=%s host=WWW.Example.TEST sni=sni.example.test "
	    "http_version=2 max_body=2MiB ipv=4 timeout=3s name=api",
	    ca);
	assert_string_equal(t.http->method, "PUT");
	assert_int_equal(t.http->nheaders, 2);
	assert_string_equal(t.http->headers[0], "X-A: 1");
	assert_string_equal(t.http->headers[1], "X-B: two words");
	assert_null(t.http->headers[2]);
	assert_true(t.http->has_body);
	assert_int_equal(t.http->body_len, 8);
	assert_string_equal(t.http->body, "{\"k\": 1}");
	assert_true(target_http_expects(t.http, 200));
	assert_false(target_http_expects(t.http, 201));
	assert_true(target_http_expects(t.http, 301));
	assert_true(target_http_expects(t.http, 404));
	assert_true(target_http_expects(t.http, 410));
	assert_false(target_http_expects(t.http, 411));
	assert_string_equal(t.http->match, "^ok");
	assert_string_equal(t.http->not_match, "error");
	assert_int_equal(t.http->follow, 7);
	assert_true(t.http->insecure);
	assert_string_equal(t.http->ca, abs);
	assert_int_equal(t.http->ca_len, sizeof(pem) - 1);
	assert_memory_equal(t.http->ca_pem, pem, sizeof(pem) - 1);
	assert_string_equal(t.http->host_header, "www.example.test");
	assert_string_equal(t.http->sni, "sni.example.test");
	assert_int_equal(t.http->version, 20);
	assert_int_equal(t.http->max_body, 2 << 20);
	assert_int_equal(t.ipv, 4);
	assert_int_equal(t.timeout_us, 3 * USEC_PER_SEC);
	assert_string_equal(t.name, "api");
	target_clear(&t);
	unlink_free(ca);
	free(abs);
}

/* The other spellings of values, and a later option replacing an
 * earlier one of the same key. */
static void
test_option_values(void **state)
{
	struct target t;

	parse(&t,
	    "http://127.0.0.1/ insecure=yes http_version=1.1 "
	    "max_body=512 follow=0 expect=2XX method=HEAD");
	assert_true(t.http->insecure);
	assert_int_equal(t.http->version, 11);
	assert_int_equal(t.http->max_body, 512);
	assert_int_equal(t.http->follow, 0);
	assert_true(target_http_expects(t.http, 299));
	assert_false(target_http_expects(t.http, 300));
	assert_string_equal(t.http->method, "HEAD");
	target_clear(&t);

	parse(&t,
	    "https://127.0.0.1/ insecure insecure=no http_version=2.0 "
	    "max_body=256MiB follow=20 match=a match=b method=GET "
	    "method=DELETE body=one body=two");
	assert_false(t.http->insecure);
	assert_int_equal(t.http->version, 20);
	assert_int_equal(t.http->max_body, 256ULL << 20);
	assert_int_equal(t.http->follow, 20);
	assert_string_equal(t.http->match, "b");
	assert_string_equal(t.http->method, "DELETE");
	assert_string_equal(t.http->body, "two");
	assert_int_equal(t.http->body_len, 3);
	target_clear(&t);

	/* An empty body= is a body: it makes a POST of nothing. */
	parse(&t, "http://127.0.0.1/ body=");
	assert_true(t.http->has_body);
	assert_int_equal(t.http->body_len, 0);
	target_clear(&t);
}

/* Malformed URLs, options, values and contradictions are refused with a
 * reason. */
static void
test_parse_bad(void **state)
{
	static const char *cases[] = {
	    "http://",
	    "https://",
	    "http:////path",
	    "http://:80/",
	    "http://127.0.0.1:0/",
	    "http://127.0.0.1:65536/",
	    "http://127.0.0.1:99999999999/",
	    "http://127.0.0.1:x/",
	    "http://[fe80::1%25lo]/",
	    "http://[::1/",
	    "http://bad$host/",
	    "http://-lead.example/",
	    "http://a..b/",
	    "http://h\x7f/",
	    "http://h/\x7f",
	    "gopher://127.0.0.1/",
	    "http://127.0.0.1/ method=",
	    "http://127.0.0.1/ method='GE T'",
	    "http://127.0.0.1/ method=G(ET",
	    "http://127.0.0.1/ method=ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG",
	    "http://127.0.0.1/ header=NoColon",
	    "http://127.0.0.1/ header=': v'",
	    "http://127.0.0.1/ header='Bad Name: v'",
	    "http://127.0.0.1/ header='X: a\x01z'",
	    "http://127.0.0.1/ header='X: a\x7fz\r'",
	    "http://127.0.0.1/ body_file=/nonexistent/pulse/body",
	    "http://127.0.0.1/ body_file=/",
	    "http://127.0.0.1/ expect=600",
	    "http://127.0.0.1/ expect=099",
	    "http://127.0.0.1/ expect=6xx",
	    "http://127.0.0.1/ expect=0xx",
	    "http://127.0.0.1/ expect=299-200",
	    "http://127.0.0.1/ expect=2x",
	    "http://127.0.0.1/ expect=20x",
	    "http://127.0.0.1/ expect=",
	    "http://127.0.0.1/ expect=200,",
	    "http://127.0.0.1/ expect=,200",
	    "http://127.0.0.1/ expect=abc",
	    "http://127.0.0.1/ expect=1000",
	    "http://127.0.0.1/ expect=200-",
	    "http://127.0.0.1/ expect=2xx-3xx",
	    "http://127.0.0.1/ match=(",
	    "http://127.0.0.1/ match=",
	    "http://127.0.0.1/ not_match=[a",
	    "http://127.0.0.1/ follow=21",
	    "http://127.0.0.1/ follow=-1",
	    "http://127.0.0.1/ follow=x",
	    "http://127.0.0.1/ insecure=maybe",
	    "http://127.0.0.1/ insecure=",
	    "http://127.0.0.1/ ca=/nonexistent/pulse/ca.pem",
	    "http://127.0.0.1/ ca=/",
	    "http://127.0.0.1/ host=",
	    "http://127.0.0.1/ host=bad$host",
	    "http://127.0.0.1/ sni=www.example.test",
	    "https://127.0.0.1/ sni=bad$host",
	    "http://127.0.0.1/ http_version=3",
	    "http://127.0.0.1/ http_version=1.0",
	    "http://127.0.0.1/ http_version=",
	    "http://127.0.0.1/ max_body=0",
	    "http://127.0.0.1/ max_body=257MiB",
	    "http://127.0.0.1/ max_body=1T",
	    "http://127.0.0.1/ max_body=abc",
	    "http://127.0.0.1/ max_body=-1",
	    "http://127.0.0.1/ max_body=1.5M",
	    "http://127.0.0.1/ count=3",
	    "http://127.0.0.1/ size=10",
	    "http://127.0.0.1/ ttl=5",
	    "http://127.0.0.1/ interval=1s",
	    "http://127.0.0.1/ method=HEAD match=x",
	    "http://127.0.0.1/ not_match=x method=HEAD",
	    "http://127.0.0.1/ ipv=6",
	    "http://[::1]/ ipv=4",
	    "http://127.0.0.1/ bogus=1",
	    "http://127.0.0.1/ method",
	    "http://127.0.0.1/ header='X: unterminated",
	    "127.0.0.1:80 method=GET",
	    "127.0.0.1 expect=200",
	};
	size_t i, wrong = 0;
	char err[512];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!refused(cases[i], err, sizeof(err)))
			wrong++;
	assert_int_equal(wrong, 0);
}

/* Refusals say what is wrong in words a user can act on. */
static void
test_error_messages(void **state)
{
	static const char *cases[][2] = {
	    {"http://127.0.0.1/ match=(",
	        "match=(: missing closing parenthesis at offset 1"},
	    {"http://127.0.0.1/ expect=200,6xx", "'6xx' is not a status code"},
	    {"http://127.0.0.1/ follow=21", "follow=21"},
	    {"http://127.0.0.1/ sni=a.example", "https://"},
	    {"http://127.0.0.1/ count=3",
	        "count= does not apply to http targets"},
	    {"http://127.0.0.1/ max_body=0", "max_body=0"},
	    {"http://127.0.0.1/ method=HEAD match=x", "method=HEAD"},
	    {"http://[fe80::1%25lo]/", "zone"},
	    {"gopher://127.0.0.1/", "unknown scheme 'gopher'"},
	    {"http://127.0.0.1/ bogus=1", "unknown key 'bogus'"},
	};
	size_t i;
	char err[512];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(refused(cases[i][0], err, sizeof(err)));
		if (strstr(err, cases[i][1]) == NULL)
			fail_msg("\"%s\": \"%s\", want \"%s\"", cases[i][0],
			    err, cases[i][1]);
	}
}

/* No refusal repeats the password of the URL it refuses. */
static void
test_errors_hide_password(void **state)
{
	static const char *cases[] = {
	    "https://u:s3cret@bad$host/",
	    "https://u:s3cret@127.0.0.1:0/",
	    "https://u:s3cret@127.0.0.1:99999/",
	    "https://u:s3cret@[fe80::1%25lo]/",
	    "https://u:s3cret@127.0.0.1/ expect=9",
	    "https://u:s3cret@127.0.0.1/ bogus=1",
	    "http://u:s3cret@127.0.0.1/ sni=a.example",
	    "https://u:s3cret@127.0.0.1/ ipv=6",
	    "https://u:s3cret@127.0.0.1/ method=HEAD match=x",
	    "https://u:s3cret@127.0.0.1/\x7f",
	};
	size_t i;
	char err[512];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(refused(cases[i], err, sizeof(err)));
		if (strstr(err, "s3cret") != NULL)
			fail_msg("\"%s\" shows the password: %s", cases[i],
			    err);
	}
}

/* body= holds up to 32 KiB and body_file= reads a file of up to 32 KiB,
 * NULs and all; 64 KiB + 1 is refused either way. */
static void
test_body_limits(void **state)
{
	size_t max = TARGET_HTTP_BODY_MAX;
	char *big = xmalloc(64 * 1024 + 2), *path, err[512];
	struct target t;

	memset(big, 'b', 64 * 1024 + 1);
	big[max] = '\0';
	parse(&t, "http://127.0.0.1/");
	assert_int_equal(target_apply_option(&t, "body", big, err, sizeof(err)),
	    0);
	assert_int_equal(t.http->body_len, max);
	big[max] = 'b';
	big[64 * 1024 + 1] = '\0';
	assert_int_equal(target_apply_option(&t, "body", big, err, sizeof(err)),
	    -1);
	target_clear(&t);

	path = temp_file(big, max);
	parse(&t, "http://127.0.0.1/ body_file=%s", path);
	assert_true(t.http->has_body);
	assert_int_equal(t.http->body_len, max);
	target_clear(&t);
	unlink_free(path);

	path = temp_file(big, 64 * 1024 + 1);
	assert_int_equal(apply("body_file", path), -1);
	unlink_free(path);

	path = temp_file("a\0b\0c", 5);
	parse(&t, "http://127.0.0.1/ body_file=%s", path);
	assert_int_equal(t.http->body_len, 5);
	assert_memory_equal(t.http->body, "a\0b\0c", 5);
	target_clear(&t);
	unlink_free(path);

	path = temp_file("", 0);
	parse(&t, "http://127.0.0.1/ body_file=%s", path);
	assert_true(t.http->has_body);
	assert_int_equal(t.http->body_len, 0);
	target_clear(&t);
	unlink_free(path);
	free(big);
}

/* Headers, patterns and the CA file have limits of their own. */
static void
test_option_limits(void **state)
{
	char *value = xmalloc(TARGET_HTTP_CA_MAX + 2), *path, err[512];
	struct target t;
	unsigned i;

	/* A header of 4096 bytes, not one more. */
	memset(value, 'v', TARGET_HTTP_HEADER_MAX + 1);
	memcpy(value, "X-Big: ", 7);
	value[TARGET_HTTP_HEADER_MAX] = '\0';
	assert_int_equal(apply("header", value), 0);
	value[TARGET_HTTP_HEADER_MAX] = 'v';
	value[TARGET_HTTP_HEADER_MAX + 1] = '\0';
	assert_int_equal(apply("header", value), -1);

	/* 32 headers, not 33. */
	parse(&t, "http://127.0.0.1/");
	for (i = 0; i < TARGET_HTTP_HEADERS_MAX; i++)
		assert_int_equal(target_apply_option(&t, "header", "X-N: 1",
		                     err, sizeof(err)),
		    0);
	assert_int_equal(t.http->nheaders, TARGET_HTTP_HEADERS_MAX);
	assert_int_equal(target_apply_option(&t, "header", "X-N: 1", err,
	                     sizeof(err)),
	    -1);
	assert_int_equal(t.http->nheaders, TARGET_HTTP_HEADERS_MAX);
	target_clear(&t);

	/* A pattern of 1024 characters, not 1025. */
	memset(value, 'p', TARGET_HTTP_REGEX_MAX + 1);
	value[TARGET_HTTP_REGEX_MAX] = '\0';
	assert_int_equal(apply("match", value), 0);
	assert_int_equal(apply("not_match", value), 0);
	value[TARGET_HTTP_REGEX_MAX] = 'p';
	value[TARGET_HTTP_REGEX_MAX + 1] = '\0';
	assert_int_equal(apply("match", value), -1);
	assert_int_equal(apply("not_match", value), -1);

	/* A CA file of 64 KiB, not one byte more; and it must be PEM. */
	path = temp_pem(TARGET_HTTP_CA_MAX);
	assert_int_equal(apply("ca", path), 0);
	unlink_free(path);
	path = temp_pem(TARGET_HTTP_CA_MAX + 1);
	assert_int_equal(apply("ca", path), -1);
	unlink_free(path);
	path = temp_file("not a certificate\n", 18);
	assert_int_equal(apply("ca", path), -1);
	unlink_free(path);
	free(value);
}

/* A URL of 4096 characters is a target; one more is refused. */
static void
test_url_length(void **state)
{
	char *url = xmalloc(TARGET_URL_MAX + 2), err[512];
	struct target t;

	memset(url, 'p', TARGET_URL_MAX + 1);
	memcpy(url, "http://127.0.0.1/", 17);
	url[TARGET_URL_MAX] = '\0';
	memset(&t, 0, sizeof(t));
	if (target_parse_spec(url, &t, err, sizeof(err)) != 0)
		fail_msg("4096-character URL: %s", err);
	assert_int_equal(t.kind, TARGET_HTTP);
	target_clear(&t);
	url[TARGET_URL_MAX] = 'p';
	url[TARGET_URL_MAX + 1] = '\0';
	memset(&t, 0, sizeof(t));
	err[0] = '\0';
	assert_int_equal(target_parse_spec(url, &t, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	target_clear(&t);
	free(url);
}

/* Status codes against expect=: the default is 2xx; lists, classes and
 * ranges allow exactly their codes; nothing outside 100..599 is ever
 * expected. */
static void
test_expects(void **state)
{
	static const struct {
		const char *opts;
		int yes[6], no[6];
	} cases[] = {
	    {"", {200, 204, 299}, {199, 300, 404, 0, -1, 600}},
	    {"expect=200", {200}, {201, 299, 100, 0}},
	    {"expect=200,204,3xx", {200, 204, 300, 302, 399}, {201, 400, 299}},
	    {"expect=404-410", {404, 407, 410}, {403, 411, 200}},
	    {"expect=100-599", {100, 200, 599}, {99, 600, 0, -1}},
	    {"expect=1xx,5xx", {100, 199, 500, 599}, {200, 499, 600}},
	    {"expect=599", {599}, {598, 600}},
	};
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct target t;

		parse(&t, "http://127.0.0.1/ %s", cases[i].opts);
		for (j = 0; j < 6 && cases[i].yes[j] != 0; j++)
			if (!target_http_expects(t.http, cases[i].yes[j]))
				fail_msg("\"%s\": %d not expected",
				    cases[i].opts, cases[i].yes[j]);
		for (j = 0; j < 6; j++)
			if (target_http_expects(t.http, cases[i].no[j]))
				fail_msg("\"%s\": %d expected", cases[i].opts,
				    cases[i].no[j]);
		target_clear(&t);
	}
}

/* expect= reads back in its shortest form: whole classes as "2xx",
 * ranges merged and split at class boundaries, codes in order. */
static void
test_expect_text(void **state)
{
	static const char *cases[][2] = {
	    {"", "2xx"},
	    {"expect=2XX", "2xx"},
	    {"expect=200-299", "2xx"},
	    {"expect=200,204,3xx", "200,204,3xx"},
	    {"expect=404,200", "200,404"},
	    {"expect=200-302", "2xx,300-302"},
	    {"expect=250-349", "250-299,300-349"},
	    {"expect=301-302,302-303", "301-303"},
	    {"expect=100-599", "1xx,2xx,3xx,4xx,5xx"},
	    {"expect=100", "100"},
	    {"expect=599", "599"},
	};
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct target t;

		parse(&t, "http://127.0.0.1/ %s", cases[i][0]);
		target_http_expect_text(t.http, buf, sizeof(buf));
		if (strcmp(buf, cases[i][1]) != 0)
			fail_msg("\"%s\": \"%s\", want \"%s\"", cases[i][0],
			    buf, cases[i][1]);
		target_clear(&t);
	}
}

/* The text is cut to a small buffer, terminated, never overflowing. */
static void
test_expect_text_small_buffer(void **state)
{
	struct target t;
	char buf[16];

	parse(&t, "http://127.0.0.1/ expect=200,204,3xx,404");
	memset(buf, 'z', sizeof(buf));
	target_http_expect_text(t.http, buf, 6);
	assert_string_equal(buf, "200,2");
	assert_int_equal(buf[6], 'z');
	target_clear(&t);
}

/* The key of the target on line a equals that of line b. */
static int
same_key(const char *a, const char *b)
{
	char ka[TARGET_KEY_MAX], kb[TARGET_KEY_MAX];
	struct target t;

	parse(&t, "%s", a);
	target_key(&t, ka, sizeof(ka));
	target_clear(&t);
	parse(&t, "%s", b);
	target_key(&t, kb, sizeof(kb));
	target_clear(&t);
	return strcmp(ka, kb) == 0;
}

/* Every option that changes what is sent makes another probe; a name, a
 * timeout or another spelling of the same expect= does not. */
static void
test_key_options(void **state)
{
	static const char base[] = "http://127.0.0.1/";
	static const char *differ[] = {
	    "https://127.0.0.1/",
	    "http://127.0.0.1/other",
	    "http://127.0.0.1/?q=1",
	    "http://127.0.0.1:81/",
	    "http://u:a@127.0.0.1/",
	    "http://127.0.0.1/ method=PUT",
	    "http://127.0.0.1/ header='X-A: 1'",
	    "http://127.0.0.1/ body=x",
	    "http://127.0.0.1/ body=",
	    "http://127.0.0.1/ expect=200",
	    "http://127.0.0.1/ match=ok",
	    "http://127.0.0.1/ not_match=ok",
	    "http://127.0.0.1/ follow=0",
	    "http://127.0.0.1/ insecure",
	    "http://127.0.0.1/ host=localhost",
	    "http://127.0.0.1/ http_version=1.1",
	    "http://127.0.0.1/ max_body=1k",
	    "http://127.0.0.1/ ipv=4",
	};
	static const char *same[] = {
	    "http://127.0.0.1/ name=web",
	    "http://127.0.0.1/ timeout=2s",
	    "http://127.0.0.1/ expect=2xx",
	    "http://127.0.0.1/ expect=200-299",
	    "http://127.0.0.1/ expect=200-249,250-299",
	};
	size_t i;

	for (i = 0; i < sizeof(differ) / sizeof(differ[0]); i++)
		if (same_key(base, differ[i]))
			fail_msg("\"%s\" is the same probe as \"%s\"",
			    differ[i], base);
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		if (!same_key(base, same[i]))
			fail_msg("\"%s\" is another probe than \"%s\"", same[i],
			    base);
	/* Other passwords, other credentials: not one probe. */
	assert_false(
	    same_key("http://u:a@127.0.0.1/", "http://u:b@127.0.0.1/"));
	/* The body's bytes count, not only its length. */
	assert_false(
	    same_key("http://127.0.0.1/ body=aa", "http://127.0.0.1/ body=ab"));
	assert_false(same_key("http://127.0.0.1/ match=ab",
	    "http://127.0.0.1/ not_match=ab"));
	assert_false(same_key("http://127.0.0.1/ header='X-A: 1'",
	    "http://127.0.0.1/ header='X-A: 1' header='X-B: 2'"));
}

/* Spellings of one URL that share its canonical form send the same
 * request: they are one probe, so a targets file lists it once. */
static void
test_key_url_spellings(void **state)
{
	static const char *cases[][2] = {
	    {"http://127.0.0.1/", "http://127.0.0.1"},
	    {"http://127.0.0.1/", "HTTP://127.0.0.1/"},
	    {"http://127.0.0.1/", "http://0x7f.1/"},
	};
	size_t i, wrong = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!same_key(cases[i][0], cases[i][1])) {
			print_error("\"%s\" and \"%s\" are two probes\n",
			    cases[i][0], cases[i][1]);
			wrong++;
		}
	assert_int_equal(wrong, 0);
}

/* Like tcp:// targets, a URL's canonical form has its host name in
 * lower case. */
static void
test_canonical_host_case(void **state)
{
	char host[64], canon[64];
	struct target t;

	parse(&t, "http://LocalHost/");
	snprintf(host, sizeof(host), "%s", t.host);
	snprintf(canon, sizeof(canon), "%s", t.http->canonical);
	target_clear(&t);
	assert_string_equal(host, "localhost");
	assert_string_equal(canon, "http://localhost/");
}

/* Two expect= lists that differ only far along are two probes: the key
 * holds the whole list, however long its text. */
static void
test_key_long_expect(void **state)
{
	char a[TARGET_LINE_MAX], b[TARGET_LINE_MAX];
	size_t n;
	int code;

	n = (size_t)snprintf(a, sizeof(a), "http://127.0.0.1/ expect=100");
	for (code = 102; code <= 596; code += 2)
		n += (size_t)snprintf(a + n, sizeof(a) - n, ",%d", code);
	assert_true(n < sizeof(a) - 8);
	memcpy(b, a, n);
	memcpy(b + n, ",598", 5);
	if (same_key(a, b))
		fail_msg("expect= lists of %zu and %zu characters that differ "
		         "in their last code are one probe",
		    strlen(a), strlen(b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_urls),
	    cmocka_unit_test(test_password_redacted),
	    cmocka_unit_test(test_redact),
	    cmocka_unit_test(test_options),
	    cmocka_unit_test(test_option_values),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_error_messages),
	    cmocka_unit_test(test_errors_hide_password),
	    cmocka_unit_test(test_body_limits),
	    cmocka_unit_test(test_option_limits),
	    cmocka_unit_test(test_url_length),
	    cmocka_unit_test(test_expects),
	    cmocka_unit_test(test_expect_text),
	    cmocka_unit_test(test_expect_text_small_buffer),
	    cmocka_unit_test(test_key_options),
	    cmocka_unit_test(test_key_url_spellings),
	    cmocka_unit_test(test_canonical_host_case),
	    cmocka_unit_test(test_key_long_expect),
	};

	log_init("test_target_http", LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
