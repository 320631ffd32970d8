/* Unit tests for target.c: the targets-file grammar and loader. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
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

struct good_case {
	const char *line;
	const char *host;
	unsigned port;
	int64_t timeout_us;
	const char *spec;
	const char *name; /* NULL: the spec */
};

/* Parse line (which may hold NULs); 1 if refused with a reason, else 0
 * after saying what went wrong. */
static int
refused(const char *line, size_t len)
{
	int show = (int)(len > 80 ? 80 : len);
	struct target t;
	char err[256];
	int rc;

	memset(err, 0, sizeof(err));
	rc = target_parse_line(line, len, &t, err, sizeof(err));
	if (rc == 1)
		target_clear(&t);
	if (rc != -1) {
		print_error("\"%.*s\" gave %d, want -1\n", show, line, rc);
		return 0;
	}
	if (err[0] == '\0') {
		print_error("\"%.*s\" refused without a reason\n", show, line);
		return 0;
	}
	return 1;
}

static void
expect_bad(const char *line, size_t len)
{
	if (!refused(line, len))
		fail();
}

/* Every accepted form yields the host, port, timeout, spec and name. */
static void
test_parse_good(void **state)
{
	static const struct good_case cases[] = {
	    {"tcp://example.com:80", "example.com", 80, 0,
	        "tcp://example.com:80", NULL},
	    {"127.0.0.1:22", "127.0.0.1", 22, 0, "127.0.0.1:22", NULL},
	    {"[::1]:443", "::1", 443, 0, "[::1]:443", NULL},
	    {"tcp://[::1]:80", "::1", 80, 0, "tcp://[::1]:80", NULL},
	    {"[2001:db8::1]:8080", "2001:db8::1", 8080, 0, "[2001:db8::1]:8080",
	        NULL},
	    {"localhost:65535", "localhost", 65535, 0, "localhost:65535", NULL},
	    {"a-b.c1.example:1", "a-b.c1.example", 1, 0, "a-b.c1.example:1",
	        NULL},
	    {"127.0.0.1:22 name=\"my ssh server\"", "127.0.0.1", 22, 0,
	        "127.0.0.1:22", "my ssh server"},
	    {"127.0.0.1:22 name='single quoted'", "127.0.0.1", 22, 0,
	        "127.0.0.1:22", "single quoted"},
	    {"127.0.0.1:22 name=\"say \\\"hi\\\" \\\\ bye\"", "127.0.0.1", 22,
	        0, "127.0.0.1:22", "say \"hi\" \\ bye"},
	    {"127.0.0.1:22 name='no \\escape'", "127.0.0.1", 22, 0,
	        "127.0.0.1:22", "no \\escape"},
	    {"127.0.0.1:22 name=ssh", "127.0.0.1", 22, 0, "127.0.0.1:22",
	        "ssh"},
	    {"127.0.0.1:22 name=\"caf\xc3\xa9\"", "127.0.0.1", 22, 0,
	        "127.0.0.1:22", "caf\xc3\xa9"},
	    {"127.0.0.1:22 timeout=1ms", "127.0.0.1", 22, 1000, "127.0.0.1:22",
	        NULL},
	    {"127.0.0.1:22 timeout=1h", "127.0.0.1", 22, 3600000000LL,
	        "127.0.0.1:22", NULL},
	    {"127.0.0.1:22 timeout=500ms", "127.0.0.1", 22, 500000,
	        "127.0.0.1:22", NULL},
	    {"127.0.0.1:22 timeout=1m30s name=x", "127.0.0.1", 22, 90000000,
	        "127.0.0.1:22", "x"},
	    {"127.0.0.1:22 name=\"a # b\" timeout='2s'", "127.0.0.1", 22,
	        2000000, "127.0.0.1:22", "a # b"},
	    {"  127.0.0.1:22\ttimeout=1s  ", "127.0.0.1", 22, 1000000,
	        "127.0.0.1:22", NULL},
	    {"127.0.0.1:22 # the ssh port", "127.0.0.1", 22, 0, "127.0.0.1:22",
	        NULL},
	    {"127.0.0.1:22\r", "127.0.0.1", 22, 0, "127.0.0.1:22", NULL},
	    {"127.0.0.1:22 name=ssh\r", "127.0.0.1", 22, 0, "127.0.0.1:22",
	        "ssh"},
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct good_case *c = &cases[i];
		struct target t;
		int rc;

		memset(&t, 0, sizeof(t));
		err[0] = '\0';
		rc = target_parse_line(c->line, strlen(c->line), &t, err,
		    sizeof(err));
		if (rc != 1)
			fail_msg("\"%s\" gave %d: %s", c->line, rc, err);
		assert_int_equal(t.kind, TARGET_TCP);
		assert_string_equal(t.host, c->host);
		assert_int_equal(t.port, c->port);
		assert_int_equal(t.timeout_us, c->timeout_us);
		assert_non_null(t.spec);
		assert_string_equal(t.spec, c->spec);
		if (c->name == NULL)
			assert_null(t.name);
		assert_string_equal(target_name(&t),
		    c->name != NULL ? c->name : c->spec);
		target_clear(&t);
	}
}

/* Blank lines and comments are not targets and not errors. */
static void
test_parse_blank_and_comment(void **state)
{
	static const char *cases[] = {
	    "",
	    "   ",
	    "\t",
	    "\r",
	    "# a comment",
	    "   # indented comment",
	    "#127.0.0.1:22",
	    " \t \r",
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct target t;
		int rc;

		memset(&t, 0, sizeof(t));
		err[0] = '\0';
		rc = target_parse_line(cases[i], strlen(cases[i]), &t, err,
		    sizeof(err));
		if (rc != 0)
			fail_msg("\"%s\" gave %d: %s", cases[i], rc, err);
	}
}

/* Bare hosts, bare and bracketed IPv6 and icmp:// are ICMP targets, with
 * their options; what identifies a probe includes them. */
static void
test_parse_icmp(void **state)
{
	static const struct {
		const char *line, *host, *canon;
		unsigned count, size, ttl;
		int ipv;
		int64_t interval_us;
	} cases[] = {
	    {"127.0.0.1", "127.0.0.1", "icmp://127.0.0.1", 0, 56, 0, 0, 0},
	    {"localhost", "localhost", "icmp://localhost", 0, 56, 0, 0, 0},
	    {"::1", "::1", "icmp://[::1]", 0, 56, 0, 0, 0},
	    {"[::1]", "::1", "icmp://[::1]", 0, 56, 0, 0, 0},
	    {"0:0::1", "::1", "icmp://[::1]", 0, 56, 0, 0, 0},
	    {"ICMP://Host.Example", "host.example", "icmp://host.example", 0,
	        56, 0, 0, 0},
	    {"icmp://[::1] count=3 interval=10ms size=0 ttl=9 ipv=6", "::1",
	        "icmp://[::1]", 3, 0, 9, 6, 10000},
	    {"127.0.0.2 size=65507 count=100", "127.0.0.2", "icmp://127.0.0.2",
	        100, 65507, 0, 0, 0},
	};
	char err[256], canon[TARGET_KEY_MAX];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct target t;

		if (target_parse_line(cases[i].line, strlen(cases[i].line), &t,
		        err, sizeof(err)) != 1)
			fail_msg("\"%s\": %s", cases[i].line, err);
		assert_int_equal(t.kind, TARGET_ICMP);
		assert_string_equal(t.host, cases[i].host);
		assert_int_equal(t.port, 0);
		target_canonical(&t, canon, sizeof(canon));
		assert_string_equal(canon, cases[i].canon);
		assert_int_equal(t.count, cases[i].count);
		assert_int_equal(t.size, cases[i].size);
		assert_int_equal(t.ttl, cases[i].ttl);
		assert_int_equal(t.ipv, cases[i].ipv);
		assert_int_equal(t.interval_us, cases[i].interval_us);
		target_clear(&t);
	}
}

/* Two lines for one host are one probe only if their options agree. */
static void
test_key_includes_options(void **state)
{
	struct target_list list;

	memset(&list, 0, sizeof(list));
	assert_int_equal(target_list_add(&list, "f", 1, "127.0.0.1", 9), 1);
	assert_int_equal(target_list_add(&list, "f", 2, "icmp://127.0.0.1", 16),
	    0);
	assert_int_equal(target_list_add(&list, "f", 3, "127.0.0.1 count=3",
	                     17),
	    1);
	assert_int_equal(target_list_add(&list, "f", 4, "127.0.0.1 name=x", 16),
	    0);
	assert_int_equal(target_list_add(&list, "f", 5, "127.0.0.1:80", 12), 1);
	assert_int_equal(list.n, 3);
	target_list_free(&list);
}

/* Only ICMP targets of an address may run in a sweep: a name needs a
 * lookup, and TCP targets run alone. */
static void
test_sweepable(void **state)
{
	static const struct {
		const char *line;
		int want;
	} cases[] = {
	    {"127.0.0.1", 1},
	    {"::1 count=3", 1},
	    {"icmp://[fe80::1%lo]", 0},
	    {"localhost", 0},
	    {"127.0.0.1:80", 0},
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct target t;

		assert_int_equal(target_parse_line(cases[i].line,
		                     strlen(cases[i].line), &t, err,
		                     sizeof(err)),
		    1);
		if (target_sweepable(&t) != cases[i].want)
			fail_msg("%s: sweepable %d", cases[i].line,
			    target_sweepable(&t));
		target_clear(&t);
	}
}

/* Malformed targets, ports, hosts, keys and values are refused with a
 * reason. */
static void
test_parse_bad(void **state)
{
	static const char *cases[] = {
	    "127.0.0.1:0",
	    "127.0.0.1:65536",
	    "127.0.0.1:99999999999",
	    "127.0.0.1:abc",
	    "127.0.0.1:-1",
	    "127.0.0.1:+80",
	    "127.0.0.1:22x",
	    "tcp://127.0.0.1",
	    "127.0.0.1:",
	    "tcp://localhost",
	    "[::1",
	    "[::1]80",
	    "[::1]:",
	    "tcp://[::1]",
	    "tcp://::1:80",
	    "icmp://127.0.0.1:80",
	    "icmp://[::1]:80",
	    "icmp://",
	    "icmp://host/path",
	    "127.0.0.1 count=0",
	    "127.0.0.1 count=101",
	    "127.0.0.1 size=65508",
	    "127.0.0.1 size=-1",
	    "127.0.0.1 ttl=0",
	    "127.0.0.1 ttl=256",
	    "127.0.0.1 interval=0s",
	    "127.0.0.1 interval=2m",
	    "127.0.0.1 ipv=5",
	    "127.0.0.1 ipv=6",
	    "[::1]:80 ipv=4",
	    "127.0.0.1:80 count=3",
	    "127.0.0.1:80 ttl=3",
	    "256.1.1.1",
	    "[::1]x",
	    "[zz::1]:80",
	    "[]:80",
	    "tcp://[::1",
	    ":80",
	    "tcp://:80",
	    "tcp://",
	    "bad$host:80",
	    "host!:80",
	    "h\xc3\xa9.example:80",
	    "ho st:80",
	    "-lead.example:80",
	    "trail-.example:80",
	    "a..b:80",
	    "ftp://x:1",
	    "tcp:/x:1",
	    "TCP//x:1",
	    "127.0.0.1:22 bogus=1",
	    "127.0.0.1:22 name",
	    "127.0.0.1:22 timeout",
	    "127.0.0.1:22 =x",
	    "127.0.0.1:22 name=\"unterminated",
	    "127.0.0.1:22 name='unterminated",
	    "127.0.0.1:22 name=\"ends in escape\\\"",
	    "127.0.0.1:22 timeout=5",
	    "127.0.0.1:22 timeout=abc",
	    "127.0.0.1:22 timeout=",
	    "127.0.0.1:22 timeout=-1s",
	    "127.0.0.1:22 timeout=5x",
	    "127.0.0.1:22 timeout=500us",
	    "127.0.0.1:22 timeout=2h",
	    "127.0.0.1:22 name=\"\xff\"",
	    "127.0.0.1:22 name=\"\xc0\xaf\"",
	    "127.0.0.1:22 name=\"\xed\xa0\x80\"",
	};
	size_t i, wrong = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!refused(cases[i], strlen(cases[i])))
			wrong++;
	assert_int_equal(wrong, 0);
}

/* DNS length limits: 63 octets per label, 253 per name. */
static void
test_parse_host_lengths(void **state)
{
	char line[600], host[300], err[256];
	struct target t;

	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 octets: the longest name. */
	memset(host, 'a', sizeof(host));
	host[63] = host[127] = host[191] = '.';
	host[253] = '\0';
	snprintf(line, sizeof(line), "%s:80", host);
	memset(&t, 0, sizeof(t));
	if (target_parse_line(line, strlen(line), &t, err, sizeof(err)) != 1)
		fail_msg("253-octet name refused: %s", err);
	assert_string_equal(t.host, host);
	target_clear(&t);

	/* 254 octets. */
	host[253] = 'a';
	host[254] = '\0';
	snprintf(line, sizeof(line), "%s:80", host);
	expect_bad(line, strlen(line));

	/* A label of 64 octets. */
	memset(host, 'b', 64);
	strcpy(host + 64, ".example");
	snprintf(line, sizeof(line), "%s:80", host);
	expect_bad(line, strlen(line));

	/* A label of exactly 63 octets is fine. */
	strcpy(host + 63, ".example");
	snprintf(line, sizeof(line), "%s:80", host);
	memset(&t, 0, sizeof(t));
	if (target_parse_line(line, strlen(line), &t, err, sizeof(err)) != 1)
		fail_msg("63-octet label refused: %s", err);
	target_clear(&t);
}

/* A NUL byte inside the line is an error, not an early end of line. */
static void
test_parse_nul_byte(void **state)
{
	static const char line[] = "127.0.0.1:22\0 name=x";

	expect_bad(line, sizeof(line) - 1);
	expect_bad("127.0.0.1:22\0", 13);
}

/* Lines longer than TARGET_LINE_MAX are refused even when well formed. */
static void
test_parse_line_too_long(void **state)
{
	size_t len = TARGET_LINE_MAX + 100;
	char *line = xmalloc(len + 1);

	memset(line, 'n', len);
	memcpy(line, "127.0.0.1:22 name=", 18);
	line[len] = '\0';
	expect_bad(line, len);
	free(line);
}

/* The canonical form names the kind, lower-cases names and spells IPv6
 * literals one way, bracketed, whatever the spelling in the file. */
static void
test_canonical(void **state)
{
	static const char *cases[][2] = {
	    {"127.0.0.1:80", "tcp://127.0.0.1:80"},
	    {"tcp://127.0.0.1:80", "tcp://127.0.0.1:80"},
	    {"[::1]:80", "tcp://[::1]:80"},
	    {"tcp://[::1]:80 name=x timeout=1s", "tcp://[::1]:80"},
	    {"localhost:8080 name=\"web\"", "tcp://localhost:8080"},
	    {"LocalHost:8080", "tcp://localhost:8080"},
	    {"[0:0:0:0:0:0:0:1]:80", "tcp://[::1]:80"},
	    {"[2001:DB8:0::1]:80", "tcp://[2001:db8::1]:80"},
	};
	char buf[512], err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct target t;
		int rc;

		memset(&t, 0, sizeof(t));
		rc = target_parse_line(cases[i][0], strlen(cases[i][0]), &t,
		    err, sizeof(err));
		assert_int_equal(rc, 1);
		target_canonical(&t, buf, sizeof(buf));
		assert_string_equal(buf, cases[i][1]);
		target_clear(&t);
	}
	assert_string_equal(target_kind_name(TARGET_TCP), "tcp");
}

/* What the code under test logged on stderr, between capture_start()
 * and capture_end(). */
static char logbuf[16384];
static FILE *capfile;
static int saved_stderr = -1;

static void
capture_start(void)
{
	capfile = tmpfile();
	assert_non_null(capfile);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr >= 0);
	assert_true(dup2(fileno(capfile), STDERR_FILENO) >= 0);
}

static void
capture_end(void)
{
	size_t n;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	rewind(capfile);
	n = fread(logbuf, 1, sizeof(logbuf) - 1, capfile);
	logbuf[n] = '\0';
	fclose(capfile);
}

/* Run target_list_add on text with stderr captured. */
static int
add_capturing(struct target_list *tl, const char *file, unsigned line,
    const char *text)
{
	int rc;

	capture_start();
	rc = target_list_add(tl, file, line, text, strlen(text));
	capture_end();
	return rc;
}

/* Command-line targets are named "argument N" in errors and duplicate
 * warnings, and only good ones join the list. */
static void
test_list_add_arguments(void **state)
{
	struct target_list tl;

	memset(&tl, 0, sizeof(tl));
	assert_int_equal(add_capturing(&tl, NULL, 1, "127.0.0.1:80"), 1);
	assert_string_equal(logbuf, "");
	assert_int_equal(add_capturing(&tl, NULL, 2, "tcp://127.0.0.1:80"), 0);
	assert_non_null(
	    strstr(logbuf, "argument 2: duplicate of argument 1, ignored"));
	assert_int_equal(add_capturing(&tl, NULL, 3, "127.0.0.1:0"), -1);
	assert_non_null(strstr(logbuf, "argument 3: "));
	assert_int_equal(add_capturing(&tl, NULL, 4, ""), 0);
	assert_int_equal(tl.n, 1);
	assert_int_equal(tl.errors, 1);
	assert_null(tl.v[0].file);
	assert_int_equal(tl.v[0].line, 1);
	target_list_free(&tl);
}

/* Many distinct targets all survive the duplicate index growing. */
static void
test_list_add_many(void **state)
{
	struct target_list tl;
	char text[64];
	unsigned i;
	int rc;

	memset(&tl, 0, sizeof(tl));
	for (i = 1; i <= 3000; i++) {
		snprintf(text, sizeof(text), "127.0.%u.%u:%u", i / 256, i % 256,
		    1000 + i % 7);
		rc = target_list_add(&tl, "many", i, text, strlen(text));
		assert_int_equal(rc, 1);
	}
	assert_int_equal(tl.n, 3000);
	/* Any of them written again is a duplicate of its first line. */
	i = 1234;
	snprintf(text, sizeof(text), "tcp://127.0.%u.%u:%u", i / 256, i % 256,
	    1000 + i % 7);
	assert_int_equal(add_capturing(&tl, "many", 3001, text), 0);
	assert_non_null(strstr(logbuf, "many:3001: duplicate of line 1234"));
	assert_int_equal(tl.n, 3000);
	target_list_free(&tl);
}

/* A temp file for the loader tests; the path is freed by the caller. */
static char *
temp_file(const void *data, size_t len)
{
	const char *tmp = getenv("TMPDIR");
	char *path;
	int fd;

	xasprintf(&path, "%s/pulse-targets.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Load path with stderr captured into logbuf. */
static int
load_capturing(const char *path, struct target_list *tl)
{
	int rc;

	capture_start();
	rc = target_load_file(path, tl);
	capture_end();
	return rc;
}

/* Load text as a file; return the loader's verdict and keep its log. */
static int
load_text(const void *text, size_t len, struct target_list *tl, char **pathp)
{
	char *path = temp_file(text, len);
	int rc;

	memset(tl, 0, sizeof(*tl));
	rc = load_capturing(path, tl);
	*pathp = path;
	return rc;
}

/* True when the log holds "path:line:" somewhere. */
static int
logged_line(const char *path, unsigned line)
{
	char want[PATH_MAX + 32];

	snprintf(want, sizeof(want), "%s:%u:", path, line);
	return strstr(logbuf, want) != NULL;
}

static void
unlink_free(char *path)
{
	unlink(path);
	free(path);
}

/* A good file with comments, blanks and CRLF loads in order, each target
 * knowing its file and line. */
static void
test_load_good(void **state)
{
	static const char text[] = "# pulse targets\r\n"
	                           "\r\n"
	                           "127.0.0.1:22 name=\"ssh\"\r\n"
	                           "   # indented comment\n"
	                           "tcp://[::1]:80 timeout=250ms\n"
	                           "localhost:8080";
	struct target_list tl;
	char *path;

	assert_int_equal(load_text(text, sizeof(text) - 1, &tl, &path), 0);
	assert_int_equal(tl.n, 3);
	assert_string_equal(tl.v[0].host, "127.0.0.1");
	assert_string_equal(tl.v[0].name, "ssh");
	assert_int_equal(tl.v[0].line, 3);
	assert_string_equal(tl.v[1].host, "::1");
	assert_int_equal(tl.v[1].port, 80);
	assert_int_equal(tl.v[1].timeout_us, 250000);
	assert_int_equal(tl.v[1].line, 5);
	assert_string_equal(tl.v[2].host, "localhost");
	assert_int_equal(tl.v[2].port, 8080);
	assert_int_equal(tl.v[2].line, 6);
	assert_non_null(tl.v[2].file);
	assert_string_equal(tl.v[2].file, path);
	target_list_free(&tl);
	unlink_free(path);
}

/* Every bad line is reported with its number, not only the first, and
 * the load fails. */
static void
test_load_reports_every_bad_line(void **state)
{
	static const char text[] = "127.0.0.1:22\n"
	                           "127.0.0.1:0\n"
	                           "127.0.0.1:23\n"
	                           "127.0.0.1:24 colour=blue\n"
	                           "[::1\n";
	struct target_list tl;
	char *path;

	assert_int_equal(load_text(text, sizeof(text) - 1, &tl, &path), -1);
	assert_true(logged_line(path, 2));
	assert_true(logged_line(path, 4));
	assert_true(logged_line(path, 5));
	assert_false(logged_line(path, 1));
	assert_false(logged_line(path, 3));
	target_list_free(&tl);
	unlink_free(path);
}

/* The same canonical target twice is kept once, with a warning naming the
 * first line. */
static void
test_load_duplicates(void **state)
{
	static const char text[] = "127.0.0.1:80\n"
	                           "127.0.0.1:81\n"
	                           "tcp://127.0.0.1:80 name=again\n"
	                           "[::1]:80\n"
	                           "tcp://[::1]:80\n";
	struct target_list tl;
	char want[PATH_MAX + 64], *path;

	assert_int_equal(load_text(text, sizeof(text) - 1, &tl, &path), 0);
	assert_int_equal(tl.n, 3);
	assert_int_equal(tl.v[0].port, 80);
	assert_int_equal(tl.v[0].line, 1);
	assert_string_equal(tl.v[0].host, "127.0.0.1");
	assert_int_equal(tl.v[1].port, 81);
	assert_string_equal(tl.v[2].host, "::1");
	assert_int_equal(tl.v[2].line, 4);
	snprintf(want, sizeof(want), "%s:3: duplicate of line 1, ignored",
	    path);
	assert_non_null(strstr(logbuf, want));
	snprintf(want, sizeof(want), "%s:5: duplicate of line 4, ignored",
	    path);
	assert_non_null(strstr(logbuf, want));
	target_list_free(&tl);
	unlink_free(path);
}

/* A NUL byte in the file fails the load and names its line. */
static void
test_load_nul_byte(void **state)
{
	static const char text[] = "127.0.0.1:22\n127.0.0.1:\00023\n";
	struct target_list tl;
	char *path;

	assert_int_equal(load_text(text, sizeof(text) - 1, &tl, &path), -1);
	assert_true(logged_line(path, 2));
	target_list_free(&tl);
	unlink_free(path);
}

/* Invalid UTF-8 fails the load and names its line. */
static void
test_load_invalid_utf8(void **state)
{
	static const char text[] =
	    "127.0.0.1:22\n# fine\n127.0.0.1:23 name=\"\xc3\x28\"\n";
	struct target_list tl;
	char *path;

	assert_int_equal(load_text(text, sizeof(text) - 1, &tl, &path), -1);
	assert_true(logged_line(path, 3));
	target_list_free(&tl);
	unlink_free(path);
}

/* An overlong line fails the load, and the lines after it keep their
 * numbers. */
static void
test_load_long_line(void **state)
{
	size_t len = TARGET_LINE_MAX * 2;
	struct target_list tl;
	char *path, *text;

	text = xmalloc(len + 64);
	memset(text, 'x', len);
	memcpy(text, "127.0.0.1:22 name=", 18);
	strcpy(text + len, "\n127.0.0.1:\n");
	assert_int_equal(load_text(text, strlen(text), &tl, &path), -1);
	assert_true(logged_line(path, 1));
	assert_true(logged_line(path, 2));
	target_list_free(&tl);
	unlink_free(path);
	free(text);
}

/* A file that cannot be opened fails the load. */
static void
test_load_missing_file(void **state)
{
	struct target_list tl;

	memset(&tl, 0, sizeof(tl));
	assert_int_equal(load_capturing("/nonexistent/pulse/targets", &tl), -1);
	assert_non_null(strstr(logbuf, "/nonexistent/pulse/targets"));
	target_list_free(&tl);
}

/* An empty file (or one of comments) loads as an empty list. */
static void
test_load_empty(void **state)
{
	static const char text[] = "# nothing here\n\n";
	struct target_list tl;
	char *path;

	assert_int_equal(load_text(text, sizeof(text) - 1, &tl, &path), 0);
	assert_int_equal(tl.n, 0);
	target_list_free(&tl);
	unlink_free(path);
}

/* The canonical forms of a list, joined by spaces. */
static void
list_text(const struct target_list *list, char *buf, size_t len)
{
	char canon[TARGET_CANONICAL_MAX];
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < list->n; i++) {
		target_canonical(&list->v[i], canon, sizeof(canon));
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
		    i ? " " : "", canon);
	}
}

/* A range expands to its addresses, each with the line's options. */
static void
test_ranges(void **state)
{
	static const struct {
		const char *line, *want;
	} cases[] = {
	    /* A network's own and broadcast addresses are left out. */
	    {"127.0.0.0/30", "icmp://127.0.0.1 icmp://127.0.0.2"},
	    {"icmp://127.0.0.4/31", "icmp://127.0.0.4 icmp://127.0.0.5"},
	    {"127.0.0.9/32", "icmp://127.0.0.9"},
	    {"127.0.0.1-3 count=2",
	        "icmp://127.0.0.1 icmp://127.0.0.2 icmp://127.0.0.3"},
	    {"127.0.0.254-127.0.1.1",
	        "icmp://127.0.0.254 icmp://127.0.0.255 icmp://127.0.1.0 "
	        "icmp://127.0.1.1"},
	    {"tcp://127.0.0.0/30:22", "tcp://127.0.0.1:22 tcp://127.0.0.2:22"},
	    {"127.0.0.7-8:80", "tcp://127.0.0.7:80 tcp://127.0.0.8:80"},
	    {"::/127", "icmp://[::] icmp://[::1]"},
	    {"[::1/128]:443", "tcp://[::1]:443"},
	};
	struct target_list list;
	char got[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&list, 0, sizeof(list));
		assert_int_equal(target_list_add(&list, "f", 1, cases[i].line,
		                     strlen(cases[i].line)),
		    1);
		list_text(&list, got, sizeof(got));
		assert_string_equal(got, cases[i].want);
		assert_int_equal(list.v[0].line, 1);
		target_list_free(&list);
	}
	memset(&list, 0, sizeof(list));
	assert_int_equal(target_list_add(&list, "f", 1, "127.0.0.1-2 count=3",
	                     19),
	    1);
	assert_int_equal(list.v[1].count, 3);
	target_list_free(&list);
}

/* Bad or oversized ranges are errors; names with dashes are no ranges. */
static void
test_ranges_bad(void **state)
{
	static const char *const bad[] = {"127.0.0.9-3", "10.0.0.0/8",
	    "127.0.0.0/33", "127.0.0.1-127.0.0.0", "::/64", "127.0.0.0/30 x=1"};
	struct target_list list;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&list, 0, sizeof(list));
		if (target_list_add(&list, "f", 1, bad[i], strlen(bad[i])) !=
		    -1)
			fail_msg("'%s' was taken", bad[i]);
		assert_int_equal(list.n, 0);
		assert_int_equal(list.errors, 1);
		target_list_free(&list);
	}
	memset(&list, 0, sizeof(list));
	assert_int_equal(target_list_add(&list, "f", 1, "web-1.example:80", 16),
	    1);
	assert_int_equal(list.n, 1);
	assert_string_equal(list.v[0].host, "web-1.example");
	target_list_free(&list);
}

/* label.NAME=VALUE labels a target, sorted by name; bad names refused. */
static void
test_labels(void **state)
{
	struct target t;
	char err[256];
	const char *line = "127.0.0.1:22 label.zone=b label.role=db "
	                   "label.zone=a";

	assert_int_equal(target_parse_line(line, strlen(line), &t, err,
	                     sizeof(err)),
	    1);
	assert_int_equal(t.nlabels, 2);
	assert_string_equal(t.labels[0].name, "role");
	assert_string_equal(t.labels[0].value, "db");
	assert_string_equal(t.labels[1].name, "zone");
	assert_string_equal(t.labels[1].value, "a");
	target_clear(&t);
	expect_bad("127.0.0.1:22 label.kind=x", 25);
	expect_bad("127.0.0.1:22 label.__x=x", 24);
	expect_bad("127.0.0.1:22 label.1x=x", 23);
	expect_bad("127.0.0.1:22 label.a-b=x", 24);
	expect_bad("127.0.0.1:22 label.=x", 21);
}

/* every= is how often serve probes; its range is checked. */
static void
test_every(void **state)
{
	struct target t;
	char err[256];

	assert_int_equal(target_parse_line("127.0.0.1 every=30s", 19, &t, err,
	                     sizeof(err)),
	    1);
	assert_int_equal(t.every_us, 30 * USEC_PER_SEC);
	target_clear(&t);
	expect_bad("127.0.0.1 every=10ms", 20);
	expect_bad("127.0.0.1 every=2d", 18);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_blank_and_comment),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_parse_icmp),
	    cmocka_unit_test(test_sweepable),
	    cmocka_unit_test(test_key_includes_options),
	    cmocka_unit_test(test_parse_host_lengths),
	    cmocka_unit_test(test_parse_nul_byte),
	    cmocka_unit_test(test_parse_line_too_long),
	    cmocka_unit_test(test_canonical),
	    cmocka_unit_test(test_list_add_arguments),
	    cmocka_unit_test(test_list_add_many),
	    cmocka_unit_test(test_load_good),
	    cmocka_unit_test(test_load_reports_every_bad_line),
	    cmocka_unit_test(test_load_duplicates),
	    cmocka_unit_test(test_load_nul_byte),
	    cmocka_unit_test(test_load_invalid_utf8),
	    cmocka_unit_test(test_load_long_line),
	    cmocka_unit_test(test_load_missing_file),
	    cmocka_unit_test(test_load_empty),
	    cmocka_unit_test(test_ranges),
	    cmocka_unit_test(test_ranges_bad),
	    cmocka_unit_test(test_labels),
	    cmocka_unit_test(test_every),
	};

	log_init("test_target", LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
