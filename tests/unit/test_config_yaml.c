/* Unit tests for config_yaml.c: the YAML targets file and its limits. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config_yaml.h"
#include "log.h"
#include "target.h"
#include "util.h"

/* What the last load wrote to stderr, NUL-terminated. */
static char *logbuf;
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
	long n;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	n = ftell(capfile);
	assert_true(n >= 0);
	free(logbuf);
	logbuf = xmalloc((size_t)n + 1);
	rewind(capfile);
	assert_int_equal(fread(logbuf, 1, (size_t)n, capfile), (size_t)n);
	logbuf[n] = '\0';
	fclose(capfile);
}

/* Load yaml (len bytes) as "t.yaml" into list, capturing what is logged. */
static int
load_len(const char *yaml, size_t len, struct target_list *list)
{
	int rc;

	capture_start();
	rc = config_yaml_load_buffer("t.yaml", yaml, len, list);
	capture_end();
	return rc;
}

static int
load(const char *yaml, struct target_list *list)
{
	return load_len(yaml, strlen(yaml), list);
}

struct bad_case {
	const char *yaml;
	const char *want; /* everything logged */
};

#define E "test: t.yaml:"

static const struct bad_case bad_cases[] = {
    /* YAML syntax, with libyaml's words and place */
    {"targets: [a, b\n",
        E "2:1: did not find expected ',' or ']' "
          "(while parsing a flow sequence at 1:10)\n"},
    {"targets: a: b\n",
        E "1:10: 'targets' must be a sequence of targets\n" E
          "1:11: mapping values are not allowed in this context\n"},
    {"targets:\n\t- 127.0.0.1:22\n",
        E "2:1: found character that cannot start any token "
          "(while scanning for the next token at 2:1)\n"},
    {"targets:\n  - \"127.0.0.1:22\n",
        E "3:1: found unexpected end of stream "
          "(while scanning a quoted scalar at 2:5)\n"},
    /* the top level */
    {"127.0.0.1:22\n",
        E "1:1: the top level must be a mapping of defaults, modules and "
          "targets\n"},
    {"- 127.0.0.1:22\n",
        E "1:1: the top level must be a mapping of defaults, modules and "
          "targets\n"},
    {"tragets: []\n",
        E "1:1: unknown key 'tragets' (did you mean "
          "'targets'?)\n"},
    {"hosts: []\n", E "1:1: unknown key 'hosts'\n"},
    {"targets: []\ntargets: []\n",
        E "2:1: duplicate key 'targets' (first on line 1)\n"},
    {"targets: []\n---\ntargets: []\n", E "2:1: more than one YAML document\n"},
    {"\"a\\x01b\": 1\n", E "1:1: unknown key 'a?b'\n"},
    {"[a]: 1\n", E "1:1: a key must be a scalar, not a sequence\n"},
    /* defaults */
    {"defaults: 5s\n",
        E "1:11: 'defaults' must be a mapping (timeout, interval, "
          "labels)\n"},
    {"defaults: {timout: 5s}\n",
        E "1:12: unknown key 'timout' (did you mean 'timeout'?)\n"},
    {"defaults:\n  timeout: 5\n",
        E "2:12: timeout=5: missing unit (e.g. 5s or 500ms)\n"},
    {"defaults:\n  interval: 10ms\n",
        E "2:13: interval=10ms: must be between 100ms and 24h\n"},
    {"defaults:\n  timeout: [5s]\n",
        E "2:12: 'timeout' takes a scalar, not a sequence\n"},
    {"defaults:\n  labels: [env]\n",
        E "2:11: 'labels' must be a mapping of names to values\n"},
    {"defaults:\n  labels: {job: web}\n",
        E "2:12: label 'job': pulse sets that label itself\n"},
    {"defaults:\n  labels: {env: [a]}\n",
        E "2:17: label 'env' must have a scalar value\n"},
    {"defaults:\n  labels: {a-b: x}\n",
        E "2:12: label 'a-b': invalid character '-' (letters, digits and "
          "'_' only)\n"},
    /* modules */
    {"modules: [web]\n",
        E "1:10: 'modules' must be a mapping of names to modules\n"},
    {"modules:\n  web: tcp\n",
        E "2:8: module 'web' must be a mapping, not a scalar\n"},
    {"modules:\n  web: {expect: 200}\n",
        E "2:3: module 'web' needs kind: tcp, icmp or http\n"},
    {"modules:\n  web: {kind: udp}\n",
        E "2:15: kind 'udp': must be tcp, icmp or http\n"},
    {"modules:\n  web: {kind: tcp, count: 3}\n",
        E "2:27: count= does not apply to tcp targets\n"},
    {"modules:\n  web: {kind: http, tiemout: 1s}\n",
        E "2:21: unknown key 'tiemout' (did you mean 'timeout'?)\n"},
    {"modules:\n  web: {kind: http, knd: http}\n",
        E "2:21: unknown key 'knd' (did you mean 'kind'?)\n"},
    {"modules:\n  \"web site\": {kind: http}\n",
        E "2:3: module name 'web site': 1 to 64 letters, digits, '_' and "
          "'-'\n"},
    {"modules:\n  web: {kind: http, expect: [200, 7xx]}\n",
        E "2:29: expect=200,7xx: '7xx' is not a status code (100-599), "
          "class (2xx) or range (200-299)\n"},
    /* targets */
    {"targets: {a: b}\n", E "1:10: 'targets' must be a sequence of targets\n"},
    {"targets:\n  - {name: web}\n", E "2:5: missing 'target:'\n"},
    {"targets:\n  - ~\n",
        E "2:5: a target is an address, a URL or a mapping, not null\n"},
    {"targets:\n  - [127.0.0.1:22]\n",
        E "2:5: a target is an address, a URL or a mapping, not a "
          "sequence\n"},
    {"targets:\n  - \"icmp://127.0.0.1 count=3\"\n",
        E "2:5: target 'icmp://127.0.0.1 count=3' holds a space: options "
          "are keys of the entry, not part of target:\n"},
    {"targets:\n  - tcp://127.0.0.1:99999\n",
        E "2:5: invalid port '99999': 1..65535\n"},
    {"targets:\n  - {target: [127.0.0.1:22]}\n",
        E "2:14: 'target' takes a scalar, not a sequence\n"},
    {"targets:\n  - {target: }\n", E "2:14: 'target' needs a value\n"},
    {"targets:\n  - {target: 127.0.0.1:22, tiemout: 1s}\n",
        E "2:28: unknown key 'tiemout' (did you mean 'timeout'?)\n"},
    {"targets:\n  - {target: 127.0.0.1:22, colour: red}\n",
        E "2:28: unknown key 'colour'\n"},
    {"targets:\n  - {target: 127.0.0.1:22, timeout: 1s, timeout: 2s}\n",
        E "2:41: duplicate key 'timeout' (first on line 2)\n"},
    {"targets:\n  - {target: 127.0.0.1:22, timeout: soon}\n",
        E "2:37: timeout=soon: expected a number\n"},
    {"targets:\n  - {target: 127.0.0.1:22, timeout: null}\n",
        E "2:37: 'timeout' needs a value\n"},
    {"targets:\n  - {target: 127.0.0.1:22, count: 3}\n",
        E "2:35: count= does not apply to tcp targets\n"},
    {"targets:\n  - {target: 127.0.0.1:22, timeout: {a: 1}}\n",
        E "2:37: 'timeout' takes a scalar, not a mapping\n"},
    {"targets:\n  - {target: 'http://127.0.0.1/', expect: {a: 1}}\n",
        E "2:43: 'expect' takes a scalar or a sequence of scalars, not a "
          "mapping\n"},
    {"targets:\n  - {target: 'http://127.0.0.1/', header: [[a]]}\n",
        E "2:44: a value in this sequence must be a scalar\n"},
    {"targets:\n  - {target: 127.0.0.1:22, name: \"a\\0b\"}\n",
        E "2:34: a NUL character in a scalar\n"},
    {"targets:\n  - {target: 'http://127.0.0.1/', insecure: maybe}\n",
        E "2:45: insecure=maybe: yes or no\n"},
    {"targets:\n  - {target: 'http://127.0.0.1/', sni: a.example}\n",
        E "2:5: sni= applies to https:// only\n"},
    {"targets:\n  - {target: icmp://127.0.0.0/8}\n",
        E "2:14: range '127.0.0.0/8' holds more than 65536 addresses\n"},
    {"targets:\n  - {target: 127.0.0.1:22, labels: {le: x}}\n",
        E "2:37: label 'le': pulse sets that label itself\n"},
    {"targets:\n  - {target: 127.0.0.1:22, label.0a: x}\n",
        E "2:38: label '0a': a name of 1 to 64 letters, digits and '_', "
          "not starting with a digit\n"},
    {"modules:\n  web: {kind: http}\ntargets:\n"
     "  - {target: 127.0.0.1:22, module: wbe}\n",
        E "4:36: unknown module 'wbe' (did you mean 'web'?)\n"},
    {"modules:\n  web: {kind: http}\ntargets:\n"
     "  - {target: 127.0.0.1:22, module: web}\n",
        E "4:36: module 'web' is for http targets, not tcp\n"},
    /* anchors and aliases: no alias bombs */
    {"targets:\n  - &a 127.0.0.1:22\n  - *a\n",
        E "2:5: anchors and aliases are not supported; use modules\n" E
          "3:5: anchors and aliases are not supported; use modules\n"},
    {"defaults: &d {timeout: 1s}\nmodules:\n  m: *d\n",
        E "1:11: anchors and aliases are not supported; use modules\n" E
          "3:6: anchors and aliases are not supported; use modules\n"},
    /* every error, in file order, sections in any order */
    {"targets:\n  - {target: 127.0.0.1:22, timeout: x1}\n"
     "defaults:\n  timeout: y\n",
        E "2:37: timeout=x1: expected a number\n" E
          "4:12: timeout=y: expected a number\n"},
    /* a bad module is reported once, not at every target using it */
    {"modules:\n  web: {kind: tcp, timeout: 0s}\ntargets:\n"
     "  - {target: 127.0.0.1:22, module: web}\n"
     "  - {target: 127.0.0.1:23, module: web}\n",
        E "2:29: timeout=0s: must be between 1ms and 1h\n"},
};

static void
test_bad_cases(void **state)
{
	struct target_list list;
	size_t i, failed = 0;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		memset(&list, 0, sizeof(list));
		rc = load(bad_cases[i].yaml, &list);
		if (rc != -1 || strcmp(logbuf, bad_cases[i].want) != 0) {
			print_error("case %zu:\n%s\nrc %d, %zu targets, "
			            "logged:\n%swanted:\n%s\n",
			    i, bad_cases[i].yaml, rc, list.n, logbuf,
			    bad_cases[i].want);
			failed++;
		}
		target_list_free(&list);
	}
	assert_true(sizeof(bad_cases) / sizeof(bad_cases[0]) >= 30);
	assert_int_equal(failed, 0);
}

/* Every key the loader knows as an option is one the line format takes. */
static void
test_option_keys_exist(void **state)
{
	static const char *const lines[] = {
	    "127.0.0.1:22 name=a timeout=1s every=1s ipv=4",
	    "127.0.0.1 count=1 interval=10ms size=8 ttl=9",
	    "https://127.0.0.1/ method=GET header='A: b' body=x "
	    "expect=200 match=a not_match=b follow=1 insecure host=h sni=h "
	    "http_version=1.1 max_body=1k",
	};
	struct target t;
	char why[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(target_parse_line(lines[i], strlen(lines[i]),
		                     &t, why, sizeof(why)),
		    1);
		target_clear(&t);
	}
}

static const struct target *
find(const struct target_list *list, const char *name)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		if (strcmp(target_name(&list->v[i]), name) == 0)
			return &list->v[i];
	fail_msg("no target named %s", name);
	return NULL;
}

static const char *
label(const struct target *t, const char *name)
{
	unsigned i;

	for (i = 0; i < t->nlabels; i++)
		if (strcmp(t->labels[i].name, name) == 0)
			return t->labels[i].value;
	return NULL;
}

/* defaults < module < entry, for options and for labels alike. */
static void
test_precedence(void **state)
{
	static const char yaml[] =
	    "targets:\n"
	    "  - {target: 127.0.0.1:1, name: plain}\n"
	    "  - {target: 127.0.0.1:2, name: mod, module: slow}\n"
	    "  - {target: 127.0.0.1:3, name: own, module: slow, timeout: 2s,\n"
	    "     labels: {team: c, role: api}, every: 1m}\n"
	    "modules:\n"
	    "  slow:\n"
	    "    kind: tcp\n"
	    "    timeout: 3s\n"
	    "    labels: {team: b, tier: web}\n"
	    "defaults:\n"
	    "  timeout: 5s\n"
	    "  interval: 30s\n"
	    "  labels: {env: prod, team: a}\n";
	struct target_list list = {0};
	const struct target *t;

	(void)state;
	assert_int_equal(load(yaml, &list), 0);
	assert_string_equal(logbuf, "");
	assert_int_equal(list.n, 3);
	t = find(&list, "plain");
	assert_int_equal(t->timeout_us, 5 * USEC_PER_SEC);
	assert_int_equal(t->every_us, 30 * USEC_PER_SEC);
	assert_int_equal(t->nlabels, 2);
	assert_string_equal(label(t, "env"), "prod");
	assert_string_equal(label(t, "team"), "a");
	assert_string_equal(t->file, "t.yaml");
	assert_int_equal(t->line, 2);
	t = find(&list, "mod");
	assert_int_equal(t->timeout_us, 3 * USEC_PER_SEC);
	assert_int_equal(t->nlabels, 3);
	assert_string_equal(label(t, "team"), "b");
	assert_string_equal(label(t, "tier"), "web");
	assert_string_equal(label(t, "env"), "prod");
	t = find(&list, "own");
	assert_int_equal(t->timeout_us, 2 * USEC_PER_SEC);
	assert_int_equal(t->every_us, 60 * USEC_PER_SEC);
	assert_int_equal(t->line, 4);
	assert_int_equal(t->nlabels, 4);
	assert_string_equal(t->labels[0].name, "env"); /* sorted */
	assert_string_equal(t->labels[1].name, "role");
	assert_string_equal(t->labels[2].name, "team");
	assert_string_equal(t->labels[3].value, "web");
	assert_string_equal(label(t, "team"), "c");
	target_list_free(&list);
}

/* A module's HTTP options reach the target; sequences as the spec says. */
static void
test_module_http(void **state)
{
	static const char yaml[] =
	    "modules:\n"
	    "  http_2xx_json:\n"
	    "    kind: http\n"
	    "    expect: [200, 3xx]\n"
	    "    match: '\"ok\"'\n"
	    "    header: [\"Accept: application/json\", \"X-A: b\"]\n"
	    "targets:\n"
	    "  - target: https://127.0.0.1:8443/health\n"
	    "    module: http_2xx_json\n"
	    "    name: web\n"
	    "    insecure: true\n"
	    "  - target: https://127.0.0.1:8444/\n"
	    "    module: http_2xx_json\n"
	    "    header: \"X-Only: this\"\n"
	    "    insecure: no\n";
	struct target_list list = {0};
	const struct target *t;
	char expect[64];

	(void)state;
	assert_int_equal(load(yaml, &list), 0);
	assert_string_equal(logbuf, "");
	assert_int_equal(list.n, 2);
	t = find(&list, "web");
	assert_int_equal(t->kind, TARGET_HTTP);
	assert_true(t->http->insecure);
	assert_string_equal(t->http->match, "\"ok\"");
	assert_int_equal(t->http->nheaders, 2);
	assert_string_equal(t->http->headers[0], "Accept: application/json");
	assert_string_equal(t->http->headers[1], "X-A: b");
	target_http_expect_text(t->http, expect, sizeof(expect));
	assert_string_equal(expect, "200,3xx");
	/* The entry's header: replaces the module's, as any key does. */
	t = find(&list, "https://127.0.0.1:8444/");
	assert_false(t->http->insecure);
	assert_int_equal(t->http->nheaders, 1);
	assert_string_equal(t->http->headers[0], "X-Only: this");
	target_list_free(&list);
}

/* The same targets written in both formats are the same probes. */
static void
test_same_as_line_format(void **state)
{
	static const char lines[] =
	    "127.0.0.1:22 name=ssh label.env=prod\n"
	    "tcp://[::1]:80 name=\"web v6\" timeout=2s ipv=6\n"
	    "icmp://127.0.0.1 count=3 interval=10ms size=100 ttl=9 "
	    "every=1m\n"
	    "https://user:pw@127.0.0.1:8443/x?y=1 method=POST body=hello "
	    "header='A: 1' header='B: 2' expect=200,404 match=ok "
	    "not_match=bad follow=2 insecure host=example.org "
	    "sni=example.org http_version=2 max_body=64k label.role=api\n"
	    "127.0.0.10-12:7 name=range\n";
	static const char yaml[] =
	    "targets:\n"
	    "  - {target: 127.0.0.1:22, name: ssh, labels: {env: prod}}\n"
	    "  - target: tcp://[::1]:80\n"
	    "    name: web v6\n"
	    "    timeout: 2s\n"
	    "    ipv: 6\n"
	    "  - {target: icmp://127.0.0.1, count: 3, interval: 10ms, "
	    "size: 100, ttl: 9, every: 1m}\n"
	    "  - target: https://user:pw@127.0.0.1:8443/x?y=1\n"
	    "    method: POST\n"
	    "    body: hello\n"
	    "    header: ['A: 1', 'B: 2']\n"
	    "    expect: [200, 404]\n"
	    "    match: ok\n"
	    "    not_match: bad\n"
	    "    follow: 2\n"
	    "    insecure: true\n"
	    "    host: example.org\n"
	    "    sni: example.org\n"
	    "    http_version: 2\n"
	    "    max_body: 64k\n"
	    "    label.role: api\n"
	    "  - {target: 127.0.0.10-12:7, name: range}\n";
	struct target_list a = {0}, b = {0};
	char ka[TARGET_KEY_MAX], kb[TARGET_KEY_MAX];
	const char *p, *nl;
	unsigned line = 0, i;
	size_t j;

	(void)state;
	for (p = lines; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_true(target_list_add(&a, "t.txt", ++line, p,
		                (size_t)(nl - p)) >= 0);
	}
	assert_int_equal(a.errors, 0);
	assert_int_equal(load(yaml, &b), 0);
	assert_string_equal(logbuf, "");
	assert_int_equal(a.n, 7);
	assert_int_equal(b.n, a.n);
	for (j = 0; j < a.n; j++) {
		target_key(&a.v[j], ka, sizeof(ka));
		target_key(&b.v[j], kb, sizeof(kb));
		assert_string_equal(ka, kb);
		assert_string_equal(target_name(&a.v[j]), target_name(&b.v[j]));
		assert_string_equal(a.v[j].spec, b.v[j].spec);
		assert_int_equal(a.v[j].timeout_us, b.v[j].timeout_us);
		assert_int_equal(a.v[j].every_us, b.v[j].every_us);
		assert_int_equal(a.v[j].nlabels, b.v[j].nlabels);
		for (i = 0; i < a.v[j].nlabels; i++) {
			assert_string_equal(a.v[j].labels[i].name,
			    b.v[j].labels[i].name);
			assert_string_equal(a.v[j].labels[i].value,
			    b.v[j].labels[i].value);
		}
	}
	target_list_free(&a);
	target_list_free(&b);
}

/* Empty files, empty sections and comments give no targets, no errors. */
static void
test_empty(void **state)
{
	static const char *const good[] = {"", "# nothing\n", "---\n",
	    "targets:\n", "targets: []\ndefaults: {}\nmodules: {}\n",
	    "defaults:\nmodules:\ntargets:\n"};
	struct target_list list;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&list, 0, sizeof(list));
		assert_int_equal(load(good[i], &list), 0);
		assert_string_equal(logbuf, "");
		assert_int_equal(list.n, 0);
	}
}

/* A duplicate is warned about and dropped, as in the line format. */
static void
test_duplicate_target(void **state)
{
	static const char yaml[] = "targets:\n"
	                           "  - 127.0.0.1:22\n"
	                           "  - {target: 'tcp://127.0.0.1:22'}\n";
	struct target_list list = {0};

	(void)state;
	assert_int_equal(load(yaml, &list), 0);
	assert_string_equal(logbuf,
	    "test: t.yaml:3: duplicate of line 2, ignored\n");
	assert_int_equal(list.n, 1);
	target_list_free(&list);
}

/* Good targets load even when others in the file are bad. */
static void
test_good_beside_bad(void **state)
{
	static const char yaml[] = "targets:\n"
	                           "  - 127.0.0.1:22\n"
	                           "  - 127.0.0.1:0\n"
	                           "  - 127.0.0.1:23\n";
	struct target_list list = {0};

	(void)state;
	assert_int_equal(load(yaml, &list), -1);
	assert_string_equal(logbuf, E "3:5: invalid port '0': 1..65535\n");
	assert_int_equal(list.n, 2);
	assert_int_equal(list.errors, 1);
	target_list_free(&list);
}

/* A growing buffer of text. */
struct text {
	char *s;
	size_t n, cap;
};

static void add(struct text *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	while (t->n + (size_t)n + 1 > t->cap) {
		t->cap = t->cap ? t->cap * 2 : 4096;
		t->s = xreallocarray(t->s, t->cap, 1);
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->n, t->cap - t->n, fmt, ap);
	va_end(ap);
	t->n += (size_t)n;
}

/* 10,000 targets load in well under the time a scan of them takes. */
static void
test_many_targets(void **state)
{
	struct target_list list = {0};
	struct text y = {0};
	int64_t t0;
	int i;

	(void)state;
	add(&y,
	    "defaults: {timeout: 2s, labels: {env: test}}\n"
	    "modules:\n  web: {kind: http, expect: [200, 204]}\n"
	    "targets:\n");
	for (i = 0; i < 10000; i++)
		if (i % 2 == 0)
			add(&y, "  - {target: 127.0.%d.%d:%d, name: t%d}\n",
			    i / 250, i % 250 + 1, 1 + i % 60000, i);
		else
			add(&y,
			    "  - target: http://127.0.%d.%d/\n"
			    "    module: web\n    labels: {n: '%d'}\n",
			    i / 250, i % 250 + 1, i);
	t0 = mono_now_us();
	assert_int_equal(load_len(y.s, y.n, &list), 0);
	assert_true(mono_now_us() - t0 < 5 * USEC_PER_SEC);
	assert_string_equal(logbuf, "");
	assert_int_equal(list.n, 10000);
	assert_int_equal(list.v[9999].kind, TARGET_HTTP);
	assert_int_equal(list.v[9999].nlabels, 2);
	free(y.s);
	target_list_free(&list);
}

/* Contains the line want, exactly. */
static void
assert_logged(const char *want)
{
	if (strstr(logbuf, want) == NULL)
		fail_msg("'%s' not logged; got:\n%.2000s", want, logbuf);
}

/* A nesting bomb stops at the 17th level, without reading the rest. */
static void
test_deep_nesting(void **state)
{
	struct target_list list = {0};
	struct text y = {0};
	int i;

	(void)state;
	add(&y, "targets:\n  - ");
	for (i = 0; i < 100000; i++)
		add(&y, "[");
	assert_int_equal(load_len(y.s, y.n, &list), -1);
	assert_string_equal(logbuf,
	    E "2:5: a target is an address, a URL or a mapping, not a "
	      "sequence\n" E "2:19: nesting deeper than 16 levels\n");
	free(y.s);
}

/* A mapping of 100,001 keys stops at the last one. */
static void
test_many_keys(void **state)
{
	struct target_list list = {0};
	struct text y = {0};
	int i;

	(void)state;
	add(&y, "defaults:\n  labels:\n");
	for (i = 0; i <= 100000; i++)
		add(&y, "    l%d: v\n", i);
	assert_int_equal(load_len(y.s, y.n, &list), -1);
	assert_string_equal(logbuf,
	    E "35:5: more than 32 labels\n" E
	      "100003:5: more than 100000 keys in a mapping\n");
	free(y.s);
}

/* One scalar over 64 KiB is refused; one of exactly 64 KiB is read. */
static void
test_long_scalar(void **state)
{
	struct target_list list = {0};
	struct text y = {0};
	int i;

	(void)state;
	add(&y, "targets:\n  - {target: 127.0.0.1:1, name: ");
	for (i = 0; i < 65536; i++)
		add(&y, "x");
	add(&y, "}\n  - {target: 127.0.0.1:2, name: y");
	for (i = 0; i < 65536; i++)
		add(&y, "x");
	add(&y, "}\n");
	assert_int_equal(load_len(y.s, y.n, &list), -1);
	assert_string_equal(logbuf,
	    E "3:33: a scalar longer than 65536 "
	      "bytes\n");
	assert_int_equal(list.n, 1);
	assert_int_equal(strlen(list.v[0].name), 65536);
	free(y.s);
	target_list_free(&list);
}

/* Bytes that are not UTF-8 stop the file before it is parsed. */
static void
test_invalid_utf8(void **state)
{
	static const char *const bad[] = {"targets:\n  - \xc3\xa9h\xff:1\n",
	    "targets:\n  - \xc3\xa9h\xc0\xaf:1\n",
	    "targets:\n  - \xc3\xa9h\xed\xa0\x80:1\n",
	    "targets:\n  - \xc3\xa9h\xe2\x82"};
	struct target_list list = {0};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(load(bad[i], &list), -1);
		assert_string_equal(logbuf, E "2:7: invalid UTF-8\n");
	}
	assert_int_equal(list.n, 0);
}

/* Past 100 messages the rest are counted; a fatal one is always shown. */
static void
test_error_cap(void **state)
{
	struct target_list list = {0};
	struct text y = {0};
	char want[128];
	int i;

	(void)state;
	add(&y, "targets:\n");
	for (i = 0; i < 150; i++)
		add(&y, "  - 127.0.0.1:0\n");
	assert_int_equal(load_len(y.s, y.n, &list), -1);
	assert_logged(E "2:5: invalid port '0': 1..65535\n");
	assert_logged(E "101:5: invalid port '0': 1..65535\n"
	                "test: t.yaml: 50 more errors not shown\n");
	snprintf(want, sizeof(want), E "102:5:");
	assert_null(strstr(logbuf, want));
	assert_int_equal(list.errors, 150);
	free(y.s);
}

/* More than a million targets, and then no more is read. */
static void
test_too_many_targets(void **state)
{
	struct target_list list = {0};
	struct text y = {0};
	int i;

	(void)state;
	add(&y, "targets:\n");
	for (i = 0; i < 1000001; i++)
		add(&y, "- 1\n");
	add(&y, "- 127.0.0.1:1\n");
	assert_int_equal(load_len(y.s, y.n, &list), -1);
	assert_logged(E "1000002:3: more than 1000000 targets\n"
	                "test: t.yaml: 999900 more errors not shown\n");
	assert_int_equal(list.n, 0);
	free(y.s);
}

/* A file over 64 MiB is refused before it is parsed, from disk too. */
static void
test_file_too_large(void **state)
{
	struct target_list list = {0};
	char path[] = "/tmp/test_config_yaml.XXXXXX", *big, want[128];
	size_t len = (64UL << 20) + 1;
	int fd;

	(void)state;
	big = xmalloc(len);
	memset(big, '#', len);
	assert_int_equal(load_len(big, len, &list), -1);
	assert_string_equal(logbuf, "test: t.yaml: larger than 64 MiB\n");
	free(big);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	close(fd);
	capture_start();
	assert_int_equal(config_yaml_load(path, &list), -1);
	capture_end();
	unlink(path);
	snprintf(want, sizeof(want), "test: %s: larger than 64 MiB\n", path);
	assert_string_equal(logbuf, want);
	assert_int_equal(list.n, 0);
}

static void
test_missing_file(void **state)
{
	struct target_list list = {0};

	(void)state;
	capture_start();
	assert_int_equal(config_yaml_load("/nonexistent/t.yaml", &list), -1);
	capture_end();
	assert_string_equal(logbuf,
	    "test: /nonexistent/t.yaml: No such file or directory\n");
	assert_int_equal(list.errors, 1);
}

static void
test_path(void **state)
{
	(void)state;
	assert_true(config_yaml_path("a.yaml"));
	assert_true(config_yaml_path("dir/a.YML"));
	assert_true(config_yaml_path("a.Yaml"));
	assert_false(config_yaml_path("a.txt"));
	assert_false(config_yaml_path("yaml"));
	assert_false(config_yaml_path(".yml"));
	assert_false(config_yaml_path("a.yaml.txt"));
	assert_false(config_yaml_path("-"));
}

/* Load yaml from a file of its own, keeping the modules. */
static int
load_modules(const char *yaml, struct target_list *list,
    struct config_modules **mods)
{
	char path[] = "/tmp/pulse-modules-XXXXXX.yaml";
	int fd = mkstemps(path, 5), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	capture_start();
	rc = config_yaml_load_modules(path, list, mods);
	capture_end();
	unlink(path);
	return rc;
}

/* Modules outlive the load and build targets as an entry would get them. */
static void
test_modules_build(void **state)
{
	static const char yaml[] =
	    "defaults:\n  timeout: 3s\n  labels: {team: core}\n"
	    "modules:\n"
	    "  web:\n    kind: http\n    expect: [200, 301]\n"
	    "    timeout: 2s\n    labels: {tier: edge}\n"
	    "  ssh:\n    kind: tcp\n"
	    "  ping:\n    kind: icmp\n    count: 3\n";
	struct target_list list = {0};
	struct config_modules *mods = NULL;
	struct target t;
	char why[256];

	(void)state;
	assert_int_equal(load_modules(yaml, &list, &mods), 0);
	assert_non_null(mods);
	assert_int_equal(list.n, 0);
	assert_int_equal(config_modules_count(mods), 3);
	assert_int_equal(config_modules_kind(mods, "web"), TARGET_HTTP);
	assert_int_equal(config_modules_kind(mods, "ssh"), TARGET_TCP);
	assert_int_equal(config_modules_kind(mods, "nope"), 0);
	assert_int_equal(config_modules_build(mods, "web",
	                     "http://127.0.0.1:8080/x", &t, why, sizeof(why)),
	    0);
	assert_int_equal(t.timeout_us, 2 * USEC_PER_SEC);
	assert_true(target_http_expects(t.http, 301));
	assert_false(target_http_expects(t.http, 204));
	assert_int_equal(t.nlabels, 2);
	assert_string_equal(t.labels[0].name, "team");
	assert_string_equal(t.labels[1].name, "tier");
	target_clear(&t);
	assert_int_equal(config_modules_build(mods, "ssh", "tcp://127.0.0.1:22",
	                     &t, why, sizeof(why)),
	    0);
	assert_int_equal(t.timeout_us, 3 * USEC_PER_SEC);
	target_clear(&t);
	assert_int_equal(config_modules_build(mods, "ping", "icmp://127.0.0.1",
	                     &t, why, sizeof(why)),
	    0);
	assert_int_equal(t.count, 3);
	target_clear(&t);
	config_modules_free(mods);
	target_list_free(&list);
}

/* A target of another kind, or a module that is not there, is refused. */
static void
test_modules_refuse(void **state)
{
	static const char yaml[] = "modules:\n  web:\n    kind: http\n"
	                           "targets:\n  - target: 127.0.0.1:1\n";
	struct target_list list = {0};
	struct config_modules *mods = NULL;
	struct target t;
	char why[256];

	(void)state;
	assert_int_equal(load_modules(yaml, &list, &mods), 0);
	assert_int_equal(list.n, 1);
	assert_int_equal(config_modules_build(mods, "web", "tcp://127.0.0.1:1",
	                     &t, why, sizeof(why)),
	    -1);
	assert_string_equal(why, "module 'web' is for http targets, not tcp");
	assert_null(t.host);
	assert_int_equal(config_modules_build(mods, "ssh", "tcp://127.0.0.1:1",
	                     &t, why, sizeof(why)),
	    -1);
	assert_string_equal(why, "unknown module");
	assert_int_equal(config_modules_build(mods, "web", "http://a b/", &t,
	                     why, sizeof(why)),
	    -1);
	assert_int_equal(config_modules_build(NULL, "web", "http://h/", &t, why,
	                     sizeof(why)),
	    -1);
	assert_int_equal(config_modules_count(NULL), 0);
	assert_int_equal(config_modules_kind(NULL, "web"), 0);
	config_modules_free(mods);
	config_modules_free(NULL);
	target_list_free(&list);
}

/* A file with an error keeps no modules. */
static void
test_modules_bad_file(void **state)
{
	static const char yaml[] = "modules:\n  web:\n    kind: http\n"
	                           "    expect: banana\n";
	struct target_list list = {0};
	struct config_modules *mods = (struct config_modules *)&list;

	(void)state;
	assert_int_equal(load_modules(yaml, &list, &mods), -1);
	assert_null(mods);
	target_list_free(&list);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_cases),
	    cmocka_unit_test(test_option_keys_exist),
	    cmocka_unit_test(test_precedence),
	    cmocka_unit_test(test_module_http),
	    cmocka_unit_test(test_same_as_line_format),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_duplicate_target),
	    cmocka_unit_test(test_good_beside_bad),
	    cmocka_unit_test(test_many_targets),
	    cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_many_keys),
	    cmocka_unit_test(test_long_scalar),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_error_cap),
	    cmocka_unit_test(test_too_many_targets),
	    cmocka_unit_test(test_file_too_large),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_path),
	    cmocka_unit_test(test_modules_build),
	    cmocka_unit_test(test_modules_refuse),
	    cmocka_unit_test(test_modules_bad_file),
	};
	int rc;

	log_init("test", LOG_LEVEL_WARN);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(logbuf);
	return rc;
}
