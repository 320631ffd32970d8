/*
 * Render a scan as one YAML document: the JSON document's data, emitted
 * with libyaml so that quoting and escaping are never ours to get wrong.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "output.h"
#include "output_json.h"
#include "util.h"

/* Deeper than any result object: a guard, not a limit anyone meets. */
#define YAML_DEPTH_MAX 16

static int
emit(yaml_emitter_t *em, yaml_event_t *ev)
{
	return yaml_emitter_emit(em, ev) ? 0 : -1;
}

static int
emit_scalar(yaml_emitter_t *em, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;
	int plain = style == YAML_PLAIN_SCALAR_STYLE;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
	        (yaml_char_t *)(uintptr_t)s, (int)strlen(s), plain, !plain,
	        style))
		return -1;
	return emit(em, &ev);
}

/*
 * A key goes plain unless YAML 1.1 would read it as something other than
 * a string: a label may be named "on" or "null".
 */
static int
emit_key(yaml_emitter_t *em, const char *key)
{
	static const char *const words[] = {"y", "n", "yes", "no", "true",
	    "false", "on", "off", "null"};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(key, words[i]) == 0)
			return emit_scalar(em, key,
			    YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	return emit_scalar(em, key, YAML_PLAIN_SCALAR_STYLE);
}

static int emit_value(yaml_emitter_t *, json_object *, int);

static int
emit_object(yaml_emitter_t *em, json_object *o, int depth)
{
	yaml_event_t ev;

	if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
	        YAML_BLOCK_MAPPING_STYLE) ||
	    emit(em, &ev) == -1)
		return -1;
	json_object_object_foreach(o, key, val)
	{
		if (emit_key(em, key) == -1 ||
		    emit_value(em, val, depth + 1) == -1)
			return -1;
	}
	yaml_mapping_end_event_initialize(&ev);
	return emit(em, &ev);
}

static int
emit_array(yaml_emitter_t *em, json_object *a, int depth)
{
	yaml_event_t ev;
	size_t i, n = json_object_array_length(a);

	if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
	        YAML_BLOCK_SEQUENCE_STYLE) ||
	    emit(em, &ev) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (emit_value(em, json_object_array_get_idx(a, i),
		        depth + 1) == -1)
			return -1;
	yaml_sequence_end_event_initialize(&ev);
	return emit(em, &ev);
}

/*
 * Strings are always double-quoted, so "123" or "true" stay strings;
 * numbers keep json-c's text, so both documents show the same digits.
 */
static int
emit_value(yaml_emitter_t *em, json_object *v, int depth)
{
	if (depth > YAML_DEPTH_MAX)
		return -1;
	switch (json_object_get_type(v)) {
	case json_type_null:
		return emit_scalar(em, "null", YAML_PLAIN_SCALAR_STYLE);
	case json_type_boolean:
		return emit_scalar(em,
		    json_object_get_boolean(v) ? "true" : "false",
		    YAML_PLAIN_SCALAR_STYLE);
	case json_type_int:
	case json_type_double:
		return emit_scalar(em, json_object_to_json_string(v),
		    YAML_PLAIN_SCALAR_STYLE);
	case json_type_string:
		return emit_scalar(em, json_object_get_string(v),
		    YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	case json_type_object:
		return emit_object(em, v, depth);
	case json_type_array:
		return emit_array(em, v, depth);
	}
	return -1;
}

/* The fields before the results, as output_json_write has them. */
static json_object *
head_object(const struct scan_report *rep)
{
	json_object *doc = json_object_new_object(), *counts;
	struct scan_counts c;
	char buf[40];

	format_rfc3339(rep->start_us, buf, sizeof(buf));
	json_object_object_add(doc, "version",
	    json_object_new_string(PULSE_VERSION));
	json_object_object_add(doc, "started", json_object_new_string(buf));
	fixed_text(rep->duration_us, 6, buf, sizeof(buf));
	json_object_object_add(doc, "duration_seconds",
	    json_object_new_double_s((double)rep->duration_us / USEC_PER_SEC,
	        buf));
	json_object_object_add(doc, "workers",
	    json_object_new_int64(rep->workers));
	json_object_object_add(doc, "interrupted",
	    rep->interrupted != NULL && *rep->interrupted != '\0'
	        ? json_object_new_string(rep->interrupted)
	        : NULL);
	scan_report_count(rep, &c);
	counts = json_object_new_object();
	json_object_object_add(counts, "total", json_object_new_int64(c.total));
	json_object_object_add(counts, "up", json_object_new_int64(c.up));
	json_object_object_add(counts, "down", json_object_new_int64(c.down));
	json_object_object_add(counts, "cancelled",
	    json_object_new_int64(c.cancelled));
	json_object_object_add(doc, "counts", counts);
	return doc;
}

/* The head's fields, then the results one at a time, like the JSON. */
static int
emit_document(yaml_emitter_t *em, const struct scan_report *rep)
{
	yaml_event_t ev;
	json_object *o;
	struct result tmp;
	size_t i;
	int rc;

	if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
	        YAML_BLOCK_MAPPING_STYLE) ||
	    emit(em, &ev) == -1)
		return -1;
	o = head_object(rep);
	rc = 0;
	json_object_object_foreach(o, key, val)
	{
		if ((rc = emit_key(em, key)) == -1 ||
		    (rc = emit_value(em, val, 1)) == -1)
			break;
	}
	json_object_put(o);
	if (rc == -1 || emit_key(em, "results") == -1 ||
	    !yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
	        YAML_BLOCK_SEQUENCE_STYLE) ||
	    emit(em, &ev) == -1)
		return -1;
	result_init(&tmp);
	for (i = 0; i < rep->n && rc != -1; i++) {
		o = output_json_result(&rep->targets[i],
		    scan_report_result(rep, i, &tmp), rep->default_timeout_us);
		rc = emit_value(em, o, 2);
		json_object_put(o);
	}
	result_release(&tmp);
	if (rc == -1)
		return -1;
	yaml_sequence_end_event_initialize(&ev);
	if (emit(em, &ev) == -1)
		return -1;
	yaml_mapping_end_event_initialize(&ev);
	return emit(em, &ev);
}

int
output_yaml_write(FILE *f, const struct scan_report *rep)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	int rc = -1;

	if (!yaml_emitter_initialize(&em))
		return -1;
	yaml_emitter_set_output_file(&em, f);
	yaml_emitter_set_unicode(&em, 1);
	/* No folding: a long error message stays on one line. */
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	if (yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	    emit(&em, &ev) == 0 &&
	    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	    emit(&em, &ev) == 0 && emit_document(&em, rep) == 0 &&
	    yaml_document_end_event_initialize(&ev, 1) && emit(&em, &ev) == 0) {
		yaml_stream_end_event_initialize(&ev);
		if (emit(&em, &ev) == 0 && yaml_emitter_flush(&em))
			rc = 0;
	}
	yaml_emitter_delete(&em);
	return rc == 0 && !ferror(f) ? 0 : -1;
}
