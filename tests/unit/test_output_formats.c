/*
 * Golden-file tests of every whole-report writer: JSON, YAML, Prometheus
 * text and the table, on one fixed scan whose names need escaping.
 *
 * The files are tests/golden/report.{json,yaml,prom,txt} and
 * report-colour.txt, found under $GOLDEN_DIR, else $srcdir/tests/golden
 * (make check exports srcdir), else tests/golden.  UPDATE_GOLDEN=1
 * writes them anew from the current output.
 */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include <cmocka.h>

#include "output.h"
#include "output_json.h"
#include "result.h"
#include "scan_report.h"
#include "target.h"
#include "util.h"

#define START_US (1764081589LL * USEC_PER_SEC + 123456) /* 14:39:49.123 */
#define NTARGETS 6
#define GOLDEN_MAX (1 << 20)

/* Stands for the version in the golden files, which must not change. */
#define VERSION_MARK "@VERSION@"

struct fixture {
	struct target t[NTARGETS];
	struct result r[NTARGETS];
	struct scan_report rep;
};

/* The targets as a targets file has them. */
static const char *const lines[NTARGETS] = {
    "127.0.0.1:22 name=\"say \\\"hi\\\" \\\\ caf\xc3\xa9 \xe2\x98\x95\" "
    "label.team=ops label.on=yes",
    "tcp://[::1]:80 timeout=1500ms",
    "icmp://127.0.0.1 count=3 name=loopback label.team=net",
    "https://127.0.0.1:8443/health name=web label.team=web expect=200 "
    "match=ok",
    "http://localhost:8080/api name='a rather long name for a target, "
    "with \xc3\xbcn\xc3\xaf"
    "c\xc3\xb6\x64\xc3\xa9 letters in it' "
    "match=ready timeout=2s",
    "localhost:9000 name=123",
};

static void
parse(struct target *t, const char *line)
{
	char err[256] = "";

	if (target_parse_line(line, strlen(line), t, err, sizeof(err)) != 1)
		fail_msg("\"%s\": %s", line, err);
}

static void
set_label(struct target *t, const char *name, const char *value)
{
	char err[256] = "";

	if (target_set_label(t, name, value, err, sizeof(err)) != 0)
		fail_msg("label %s: %s", name, err);
}

static void
result_tcp_up(struct result *r)
{
	result_init(r);
	r->success = true;
	snprintf(r->address, sizeof(r->address), "127.0.0.1");
	r->start_us = START_US;
	r->duration_us = 1234;
	r->connect_us = 1100;
}

static void
result_tcp_refused(struct result *r)
{
	result_init(r);
	result_fail(r, REASON_REFUSED, "connection refused");
	snprintf(r->address, sizeof(r->address), "::1");
	r->start_us = START_US + 10;
	r->duration_us = 312;
}

static void
result_icmp_up(struct result *r)
{
	result_init(r);
	r->success = true;
	snprintf(r->address, sizeof(r->address), "127.0.0.1");
	r->start_us = START_US + 20;
	r->duration_us = 200150;
	r->sent = r->received = 3;
	r->rtt_min_us = 45;
	r->rtt_avg_us = 61;
	r->rtt_max_us = 80;
	r->rtt_stddev_us = 14;
	r->reply_ttl = 64;
}

static void
result_https_up(struct result *r)
{
	struct result_http *h = &r->http;

	result_init(r);
	r->success = true;
	snprintf(r->address, sizeof(r->address), "127.0.0.1");
	r->start_us = START_US + 30;
	r->duration_us = 3500;
	r->connect_us = 150;
	h->status = 200;
	h->version = 11;
	h->content_length = 612;
	h->body_matched = 1;
	h->tls_us = 2400;
	h->processing_us = 800;
	h->transfer_us = 50;
	snprintf(h->tls_version, sizeof(h->tls_version), "TLSv1.3");
	snprintf(h->tls_cipher, sizeof(h->tls_cipher),
	    "TLS_AES_256_GCM_SHA384");
	/* 89 days and a half after the probe ended. */
	h->cert_not_after = START_US / USEC_PER_SEC + 89 * 86400 + 43200;
}

/* A body that failed match=, and an error with a terminal escape in it. */
static void
result_http_match(struct result *r)
{
	struct result_http *h = &r->http;

	result_init(r);
	result_fail(r, REASON_MATCH, "body does not match \"ready\"\x1b[2J");
	snprintf(r->address, sizeof(r->address), "::1");
	r->start_us = START_US + 40;
	r->duration_us = 2049;
	r->dns_us = 900;
	r->connect_us = 120;
	h->status = 200;
	h->version = 11;
	h->content_length = 5;
	h->body_matched = 0;
	h->processing_us = 700;
	h->transfer_us = 30;
}

static void
result_cancelled(struct result *r)
{
	result_init(r);
	result_fail(r, REASON_CANCELLED,
	    "cancelled: shutting down before the probe started");
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	int i;

	if (fx == NULL)
		return -1;
	for (i = 0; i < NTARGETS; i++)
		parse(&fx->t[i], lines[i]);
	set_label(&fx->t[0], "note", "two\nlines, \"quoted\" \\ back");
	result_tcp_up(&fx->r[0]);
	result_tcp_refused(&fx->r[1]);
	result_icmp_up(&fx->r[2]);
	result_https_up(&fx->r[3]);
	result_http_match(&fx->r[4]);
	result_cancelled(&fx->r[5]);
	fx->rep.targets = fx->t;
	fx->rep.results = fx->r;
	fx->rep.n = NTARGETS;
	fx->rep.start_us = START_US;
	fx->rep.duration_us = 2345678;
	fx->rep.default_timeout_us = 5 * USEC_PER_SEC;
	fx->rep.workers = 4;
	fx->rep.interrupted = "SIGTERM";
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	int i;

	for (i = 0; i < NTARGETS; i++) {
		target_clear(&fx->t[i]);
		result_release(&fx->r[i]);
	}
	free(fx);
	return 0;
}

enum writer { W_JSON, W_YAML, W_PROM, W_PROM_PROBE, W_TABLE, W_TABLE_COLOUR };

static int
write_with(FILE *f, enum writer w, const struct scan_report *rep)
{
	switch (w) {
	case W_JSON:
		return output_json_write(f, rep);
	case W_YAML:
		return output_yaml_write(f, rep);
	case W_PROM:
		return output_prom_write(f, rep);
	case W_PROM_PROBE:
		/* /probe's answers for the https target and the failed match. */
		return output_prom_write_probe(f, &rep->targets[3],
		           &rep->results[3]) == -1 ||
		        fputs("---\n", f) == EOF
		    ? -1
		    : output_prom_write_probe(f, &rep->targets[4],
		          &rep->results[4]);
	case W_TABLE:
		return output_table_write(f, rep, false);
	case W_TABLE_COLOUR:
		return output_table_write(f, rep, true);
	}
	return -1;
}

/*
 * The version in quotes, as JSON and YAML show it, replaced by a mark:
 * the golden files must not change with every commit.
 */
static char *
unversioned(char *text)
{
	const char *v = "\"" PULSE_VERSION "\"";
	char *p = strstr(text, v), *out;

	if (p == NULL)
		return text;
	if (xasprintf(&out, "%.*s\"%s\"%s", (int)(p - text), text, VERSION_MARK,
	        p + strlen(v)) == -1)
		fail_msg("out of memory");
	free(text);
	return out;
}

/* What writer w makes of rep, as one string. */
static char *
render(enum writer w, const struct scan_report *rep)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(write_with(f, w, rep), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return unversioned(text);
}

static char *
golden_path(const char *name)
{
	const char *dir = getenv("GOLDEN_DIR"), *src = getenv("srcdir");
	char *path;

	if (dir != NULL && *dir != '\0')
		xasprintf(&path, "%s/%s", dir, name);
	else if (src != NULL && *src != '\0')
		xasprintf(&path, "%s/tests/golden/%s", src, name);
	else
		xasprintf(&path, "tests/golden/%s", name);
	return path;
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL) {
		fail_msg("%s: %s (UPDATE_GOLDEN=1 makes it)", path,
		    strerror(errno));
		return NULL;
	}
	buf = xmalloc(GOLDEN_MAX + 1);
	n = fread(buf, 1, GOLDEN_MAX, f);
	assert_false(ferror(f));
	assert_true(n < GOLDEN_MAX);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL) {
		fail_msg("%s: %s", path, strerror(errno));
		return;
	}
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* The line of s at p, up to 80 bytes, for a message. */
static int
line_len(const char *p)
{
	size_t n = strcspn(p, "\n");

	return n > 80 ? 80 : (int)n;
}

/* Line and column of the first byte where a and b differ. */
static void
first_difference(const char *a, const char *b)
{
	size_t i, line = 1, start = 0;

	for (i = 0; a[i] != '\0' && a[i] == b[i]; i++)
		if (a[i] == '\n')
			line++, start = i + 1;
	print_error("first difference at line %zu, byte %zu:\n"
	            "  got:  %.*s\n  want: %.*s\n",
	    line, i - start + 1, line_len(a + start), a + start,
	    line_len(b + start), b + start);
}

/* The writer's output is the golden file, byte for byte. */
static void
check_golden(enum writer w, const struct scan_report *rep, const char *name)
{
	char *got = render(w, rep), *path = golden_path(name), *want;
	const char *update = getenv("UPDATE_GOLDEN");

	if (update != NULL && strcmp(update, "1") == 0)
		write_file(path, got);
	want = read_file(path);
	if (strcmp(got, want) != 0) {
		first_difference(got, want);
		fail_msg("%s differs from the output (UPDATE_GOLDEN=1 to "
		         "accept it)",
		    path);
	}
	free(want);
	free(path);
	free(got);
}

static void
test_golden_json(void **state)
{
	struct fixture *fx = *state;

	check_golden(W_JSON, &fx->rep, "report.json");
}

static void
test_golden_yaml(void **state)
{
	struct fixture *fx = *state;

	check_golden(W_YAML, &fx->rep, "report.yaml");
}

static void
test_golden_prom(void **state)
{
	struct fixture *fx = *state;

	check_golden(W_PROM, &fx->rep, "report.prom");
}

static void
test_golden_prom_probe(void **state)
{
	struct fixture *fx = *state;

	check_golden(W_PROM_PROBE, &fx->rep, "probe.prom");
}

static void
test_golden_table(void **state)
{
	struct fixture *fx = *state;

	check_golden(W_TABLE, &fx->rep, "report.txt");
}

static void
test_golden_table_colour(void **state)
{
	struct fixture *fx = *state;

	check_golden(W_TABLE_COLOUR, &fx->rep, "report-colour.txt");
}

/* --- YAML read back ------------------------------------------------------ */

static json_object *yaml_node(yaml_parser_t *, yaml_event_t *, int);

static void
next_event(yaml_parser_t *p, yaml_event_t *ev)
{
	if (!yaml_parser_parse(p, ev))
		fail_msg("YAML does not parse: %s at line %zu",
		    p->problem != NULL ? p->problem : "?",
		    p->problem_mark.line + 1);
}

/*
 * A quoted scalar is a string; a plain one is what JSON would make of the
 * same text (a number, true, false or null), and nothing else.
 */
static json_object *
yaml_scalar(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	json_object *o;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_object_new_string_len(s,
		    (int)ev->data.scalar.length);
	if (strcmp(s, "null") == 0)
		return NULL;
	if ((o = json_tokener_parse(s)) == NULL ||
	    json_object_is_type(o, json_type_string) ||
	    json_object_is_type(o, json_type_object) ||
	    json_object_is_type(o, json_type_array))
		fail_msg("plain scalar \"%s\" is not a JSON number or boolean",
		    s);
	return o;
}

static json_object *
yaml_mapping(yaml_parser_t *p, int depth)
{
	json_object *o = json_object_new_object();
	yaml_event_t ev;
	char *key;

	for (;;) {
		next_event(p, &ev);
		if (ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (ev.type != YAML_SCALAR_EVENT)
			fail_msg("a key that is not a scalar");
		key = xstrdup((const char *)ev.data.scalar.value);
		yaml_event_delete(&ev);
		next_event(p, &ev);
		if (json_object_object_get_ex(o, key, NULL))
			fail_msg("duplicate key %s", key);
		json_object_object_add(o, key, yaml_node(p, &ev, depth + 1));
		free(key);
	}
	yaml_event_delete(&ev);
	return o;
}

static json_object *
yaml_sequence(yaml_parser_t *p, int depth)
{
	json_object *a = json_object_new_array();
	yaml_event_t ev;

	for (;;) {
		next_event(p, &ev);
		if (ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		json_object_array_add(a, yaml_node(p, &ev, depth + 1));
	}
	yaml_event_delete(&ev);
	return a;
}

/* The node that starts with ev (which is consumed), as JSON. */
static json_object *
yaml_node(yaml_parser_t *p, yaml_event_t *ev, int depth)
{
	json_object *o = NULL;

	if (depth > 16)
		fail_msg("YAML nested too deep");
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor != NULL ||
		    ev->data.scalar.tag != NULL)
			fail_msg("a scalar with an anchor or a tag");
		o = yaml_scalar(ev);
		break;
	case YAML_MAPPING_START_EVENT:
		o = yaml_mapping(p, depth);
		break;
	case YAML_SEQUENCE_START_EVENT:
		o = yaml_sequence(p, depth);
		break;
	default:
		fail_msg("unexpected YAML event %d", ev->type);
	}
	yaml_event_delete(ev);
	return o;
}

/* The one document of text, as JSON. */
static json_object *
yaml_to_json(const char *text)
{
	yaml_parser_t p;
	yaml_event_t ev;
	json_object *doc;
	int i;

	assert_true(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (const unsigned char *)text,
	    strlen(text));
	for (i = 0; i < 2; i++) {
		next_event(&p, &ev);
		assert_int_equal(ev.type,
		    i == 0 ? YAML_STREAM_START_EVENT
		           : YAML_DOCUMENT_START_EVENT);
		yaml_event_delete(&ev);
	}
	next_event(&p, &ev);
	doc = yaml_node(&p, &ev, 0);
	next_event(&p, &ev);
	assert_int_equal(ev.type, YAML_DOCUMENT_END_EVENT);
	yaml_event_delete(&ev);
	next_event(&p, &ev);
	assert_int_equal(ev.type, YAML_STREAM_END_EVENT);
	yaml_event_delete(&ev);
	yaml_parser_delete(&p);
	return doc;
}

#define FLAT (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* The same keys in the same order, the same values of the same types. */
static void
assert_same_data(const struct scan_report *rep)
{
	char *json = render(W_JSON, rep), *yaml = render(W_YAML, rep);
	json_object *a = json_tokener_parse(json), *b = yaml_to_json(yaml);

	assert_non_null(a);
	assert_non_null(b);
	assert_true(json_object_equal(a, b));
	assert_string_equal(json_object_to_json_string_ext(b, FLAT),
	    json_object_to_json_string_ext(a, FLAT));
	json_object_put(a);
	json_object_put(b);
	free(json);
	free(yaml);
}

static void
test_yaml_reads_back_as_json(void **state)
{
	struct fixture *fx = *state;

	assert_same_data(&fx->rep);
	/* And with nothing in it. */
	fx->rep.n = 0;
	fx->rep.interrupted = NULL;
	assert_same_data(&fx->rep);
}

/* Strings that YAML would read as something else stay strings. */
static void
test_yaml_strings_stay_strings(void **state)
{
	struct fixture *fx = *state;
	char *yaml;

	fx->rep.n = NTARGETS;
	yaml = render(W_YAML, &fx->rep);
	assert_non_null(strstr(yaml, "  name: \"123\"\n"));
	assert_non_null(strstr(yaml, "    \"on\": \"yes\"\n"));
	assert_non_null(
	    strstr(yaml, "\"two\\nlines, \\\"quoted\\\" \\\\ back\""));
	free(yaml);
}

/* --- Prometheus ----------------------------------------------------------- */

/*
 * Each family's samples follow its own HELP and TYPE, and no family comes
 * twice: a reader that meets the name again would refuse the text.
 */
static void
test_prom_families_together(void **state)
{
	struct fixture *fx = *state;
	char *text = render(W_PROM, &fx->rep), *line, *save = NULL;
	char current[128] = "", seen[4096] = "", name[130];
	size_t n;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			n = strcspn(line + 7, " ");
			assert_true(n < sizeof(current));
			snprintf(current, sizeof(current), "%.*s", (int)n,
			    line + 7);
			snprintf(name, sizeof(name), " %s ", current);
			if (strstr(seen, name) != NULL)
				fail_msg("family %s comes twice", current);
			strncat(seen, name, sizeof(seen) - strlen(seen) - 1);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			snprintf(name, sizeof(name), "%s gauge", current);
			assert_string_equal(line + 7, name);
			continue;
		}
		n = strcspn(line, "{ ");
		if (strlen(current) != n || strncmp(line, current, n) != 0)
			fail_msg("sample \"%s\" outside its family %s", line,
			    current);
	}
	free(text);
}

/* Escapes in label values, and the label order. */
static void
test_prom_labels(void **state)
{
	struct fixture *fx = *state;
	char *text = render(W_PROM, &fx->rep);

	assert_non_null(strstr(text,
	    "probe_success{target=\"tcp://127.0.0.1:22\",kind=\"tcp\","
	    "name=\"say \\\"hi\\\" \\\\ caf\xc3\xa9 \xe2\x98\x95\","
	    "note=\"two\\nlines, \\\"quoted\\\" \\\\ back\",on=\"yes\","
	    "team=\"ops\"} 1\n"));
	assert_non_null(strstr(text,
	    "probe_failure_reason{target=\"tcp://[::1]:80\",kind=\"tcp\","
	    "name=\"tcp://[::1]:80\",reason=\"refused\"} 1\n"));
	assert_non_null(strstr(text,
	    "probe_tls_version_info{target="
	    "\"https://127.0.0.1:8443/health\","
	    "kind=\"http\",name=\"web\",team=\"web\","
	    "version=\"TLS 1.3\"} 1\n"));
	free(text);
}

/* --- the table ------------------------------------------------------------ */

/* A long name is cut at 48 code points; controls never reach a terminal. */
static void
test_table_safe(void **state)
{
	struct fixture *fx = *state;
	char *text = render(W_TABLE, &fx->rep);

	assert_non_null(strstr(text,
	    "a rather long name for a target, with \xc3\xbcn\xc3\xaf"
	    "c\xc3\xb6"
	    "d\xc3\xa9 l\xe2\x80\xa6  http"));
	assert_null(strchr(text, '\x1b'));
	assert_non_null(strstr(text, "does not match \"ready\"?[2J\n"));
	free(text);
}

static void
test_table_colour(void **state)
{
	struct fixture *fx = *state;
	char *text = render(W_TABLE_COLOUR, &fx->rep);

	assert_non_null(strstr(text, "\n\033[32mUP\033[0m         "));
	assert_non_null(strstr(text, "\n\033[31mDOWN\033[0m       "));
	assert_non_null(strstr(text, "\n\033[33mCANCELLED\033[0m  "));
	free(text);
}

/* --- edges ------------------------------------------------------------------ */

/* An empty scan: a summary, an empty list, the scan's own metrics. */
static void
test_empty(void **state)
{
	struct fixture *fx = *state;
	char *text;

	fx->rep.n = 0;
	fx->rep.interrupted = NULL;
	fx->rep.duration_us = 4999;
	text = render(W_TABLE, &fx->rep);
	assert_string_equal(text,
	    "0 targets: 0 up, 0 down, 0 cancelled in 0.00 s\n");
	free(text);
	text = render(W_YAML, &fx->rep);
	assert_non_null(strstr(text, "\nresults: []\n"));
	free(text);
	text = render(W_PROM, &fx->rep);
	assert_null(strstr(text, "probe_"));
	assert_non_null(
	    strstr(text, "\npulse_scan_duration_seconds 0.004999\n"));
	assert_non_null(strstr(text, "\npulse_scan_targets{state=\"up\"} 0\n"));
	free(text);
}

/* A failing stream is reported by every writer. */
static void
test_write_error(void **state)
{
	struct fixture *fx = *state;
	enum writer w;
	FILE *f;

	for (w = W_YAML; w <= W_TABLE_COLOUR; w++) {
		if ((f = fopen("/dev/full", "w")) == NULL) {
			skip();
			return;
		}
		setvbuf(f, NULL, _IONBF, 0);
		assert_int_equal(write_with(f, w, &fx->rep), -1);
		fclose(f);
	}
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(test_golden_json),
	    TEST(test_golden_yaml),
	    TEST(test_golden_prom),
	    TEST(test_golden_prom_probe),
	    TEST(test_golden_table),
	    TEST(test_golden_table_colour),
	    TEST(test_yaml_reads_back_as_json),
	    TEST(test_yaml_strings_stay_strings),
	    TEST(test_prom_families_together),
	    TEST(test_prom_labels),
	    TEST(test_table_safe),
	    TEST(test_table_colour),
	    TEST(test_empty),
	    TEST(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
