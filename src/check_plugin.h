/*
 * Thresholds of "pulse check" and its monitoring-plugin output: one status
 * line with performance data, as Nagios, Icinga and their kin read it.
 */
#ifndef PULSE_CHECK_PLUGIN_H
#define PULSE_CHECK_PLUGIN_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "result.h"
#include "target.h"

/* The longest output of --plugin, status line and long text together. */
#define CHECK_PLUGIN_OUTPUT_MAX 4096

/* The states of a monitoring plugin, which are also its exit codes. */
enum check_state {
	CHECK_OK = 0,
	CHECK_WARNING = 1,
	CHECK_CRITICAL = 2,
	CHECK_UNKNOWN = 3
};

/* One level of thresholds; a part that is not set is -1. */
struct check_limit {
	int64_t latency_us; /* alert when the latency is above this */
	int loss_cp;        /* alert when ICMP loss is above this, 1/100 % */
};

struct check_thresholds {
	struct check_limit warning, critical;
};

void check_thresholds_init(struct check_thresholds *);
bool check_thresholds_set(const struct check_thresholds *);
/*
 * Parse a threshold: "DUR", "DUR,LOSS%" or "LOSS%", as "200ms,5%".
 * Returns 0, or -1 with a reason in errbuf.
 */
int check_limit_parse(const char *spec, struct check_limit *, char *errbuf,
    size_t errlen);
/*
 * Thresholds that fit together and fit the kind of target: a warning
 * above its critical, or loss for a target that is not ICMP, is an error.
 */
int check_thresholds_check(const struct check_thresholds *,
    enum target_kind kind, char *errbuf, size_t errlen);

/*
 * The latency thresholds are held against: the round trip average of an
 * ICMP probe, the whole probe's duration otherwise; -1 if unknown.
 */
int64_t check_latency_us(const struct target *, const struct result *);
/*
 * The state of a result: CRITICAL when the target is down, UNKNOWN when
 * pulse could not tell (a crash, no permission...), else the worst
 * threshold crossed.  why says which, "" when OK.
 */
enum check_state check_evaluate(const struct target *, const struct result *,
    const struct check_thresholds *, char *why, size_t whylen);
const char *check_state_name(enum check_state);

/*
 * A label, quoted when it holds a space, '=' or "'", with a "'" doubled
 * and a control character or "|" as '_'; -1 if empty or cut.
 */
int check_perf_label(char *buf, size_t len, const char *label);
/*
 * One datum, 'label'=value[UOM];[warn];[crit];[min];[max]: NULL fields
 * are empty and empty ones at the end are left out.  -1 if cut.
 */
int check_perf_datum(char *buf, size_t len, const char *label,
    const char *value, const char *uom, const char *warn, const char *crit,
    const char *min, const char *max);
/* The performance data of a result, data separated by spaces. */
int check_perf_data(char *buf, size_t len, const struct target *,
    const struct result *, const struct check_thresholds *,
    int64_t default_timeout_us);

/*
 * The whole output of --plugin: the status line, then the details of the
 * text report as long text, in at most CHECK_PLUGIN_OUTPUT_MAX bytes and
 * with no control character from the network.  Returns the state.
 */
enum check_state check_plugin_write(FILE *, const struct target *,
    const struct result *, const struct check_thresholds *,
    int64_t default_timeout_us);
/* "PULSE UNKNOWN - why", for an error before or instead of a probe. */
void check_plugin_unknown(FILE *, const char *why);

/*
 * The text report with its thresholds: a critical threshold crossed makes
 * the verdict DOWN, a warning adds a line.  Returns the state.
 */
enum check_state check_threshold_text(FILE *, const struct target *,
    const struct result *, const struct check_thresholds *,
    int64_t default_timeout_us);
/* Add "threshold": {"state", "message"} to a JSON result. */
enum check_state check_threshold_json(json_object *, const struct target *,
    const struct result *, const struct check_thresholds *);

/* Send stderr to /dev/null; the descriptor to restore it, or -1. */
int check_plugin_mute(void);
void check_plugin_unmute(int saved);

#endif
