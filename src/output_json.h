/* The JSON document of a scan, built with json-c. */
#ifndef PULSE_OUTPUT_JSON_H
#define PULSE_OUTPUT_JSON_H

#include <json-c/json.h>
#include <stdio.h>

#include "scan_report.h"

/* One result as an object, the same in a scan's document and pulse check. */
json_object *output_json_result(const struct target *, const struct result *,
    int64_t default_timeout_us);

/* Write the whole report as one JSON document; 0, or -1 on write error. */
int output_json_write(FILE *, const struct scan_report *);

#endif
