/* The JSON document of a scan, built with json-c. */
#ifndef PULSE_OUTPUT_JSON_H
#define PULSE_OUTPUT_JSON_H

#include <stdio.h>

#include "scan_report.h"

/* Write the whole report as one JSON document; 0, or -1 on write error. */
int output_json_write(FILE *, const struct scan_report *);

#endif
