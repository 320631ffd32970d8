/* The formats a report can take, and the writers of each. */
#ifndef PULSE_OUTPUT_H
#define PULSE_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "scan_report.h"

enum output_format {
	OUTPUT_TABLE,      /* aligned columns for people */
	OUTPUT_JSON,       /* one document */
	OUTPUT_JSONL,      /* one object a line, as results arrive */
	OUTPUT_YAML,       /* the JSON document's data, as YAML */
	OUTPUT_PROMETHEUS, /* text exposition format 0.0.4 */
};

/* "json" -> OUTPUT_JSON; -1 for a name no format has. */
int output_format_parse(const char *, enum output_format *);
const char *output_format_name(enum output_format);

/*
 * Whole-report writers: 0, or -1 on a write error.  The YAML document
 * holds exactly the fields, names and values of the JSON one.
 */
int output_yaml_write(FILE *, const struct scan_report *);
int output_prom_write(FILE *, const struct scan_report *);
/* Yields the target and result i; *r NULL to leave target i out. */
typedef void (*output_prom_get)(void *arg, size_t i, const struct target **t,
    const struct result **r);
/* The probe families alone (no scan totals), over n results from get. */
int output_prom_write_probes(FILE *, size_t n, output_prom_get, void *arg);
/*
 * One probe's families without target labels, as blackbox_exporter's
 * /probe answers: the scrape's own labels say which target it was.
 */
int output_prom_write_probe(FILE *, const struct target *,
    const struct result *);
/* {target="...",kind="...",name="...",<labels>[,extra="value"]} */
void output_prom_target_labels(FILE *, const struct target *, const char *extra,
    const char *extra_value);
/* A label value with Prometheus' escapes. */
void output_prom_label_value(FILE *, const char *);
/* colour: ANSI colours for up and down (a terminal without NO_COLOR). */
int output_table_write(FILE *, const struct scan_report *, bool colour);
/* One result as one JSON line, written as it arrives. */
int output_jsonl_write_result(FILE *, const struct target *,
    const struct result *, int64_t default_timeout_us);

#endif
