/* Small helpers shared by every module: allocation, time, durations. */
#ifndef PULSE_UTIL_H
#define PULSE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define MSEC_PER_SEC ((int64_t)1000)
#define USEC_PER_SEC ((int64_t)1000000)
#define USEC_PER_MSEC ((int64_t)1000)

/* Longest duration any option accepts: one day, in microseconds. */
#define DURATION_MAX_US (86400 * USEC_PER_SEC)

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
int xasprintf(char **, const char *, ...) __attribute__((format(printf, 2, 3)));

/* Monotonic clock in microseconds, for deadlines and measured intervals. */
int64_t mono_now_us(void);
/* Wall clock in microseconds since the epoch, for timestamps users read. */
int64_t wall_now_us(void);
/* Format a wall-clock time as RFC 3339 UTC with milliseconds. */
void format_rfc3339(int64_t wall_us, char *buf, size_t len);

/*
 * Parse a duration such as "500ms", "5s", "2m", "1.5s" or "1m30s" into
 * microseconds.  Units: us, ms, s, m, h.  Returns 0, or -1 with a reason
 * in errbuf.
 */
int duration_parse(const char *, int64_t *us, char *errbuf, size_t errlen);
/*
 * A command-line duration --name arg within [min, max]; a bad one is
 * logged ("--timeout 9h: must be between 1ms and 1h") and gives -1.
 */
int duration_flag(const char *name, const char *arg, int64_t min, int64_t max,
    int64_t *us);
/* Format microseconds back into the shortest exact duration string. */
void duration_format(int64_t us, char *buf, size_t len);

/* Parse a decimal integer within [min, max]; -1 with a reason otherwise. */
int parse_int_range(const char *, long long min, long long max, long long *out,
    char *errbuf, size_t errlen);

/*
 * Parse a size in bytes: "512", "64k", "1MiB", "2M" (k, M, G and their
 * KiB/KB forms are all powers of 1024), within [min, max].
 */
int size_parse(const char *, uint64_t min, uint64_t max, uint64_t *out,
    char *errbuf, size_t errlen);

/*
 * v / 10^digits as decimal text, with no float noise: fixed_text(123, 6, ...)
 * gives "0.000123".  Trailing zeros go, but one digit stays after the point.
 */
void fixed_text(int64_t v, int digits, char *buf, size_t len);

/* A lower-case phrase for a network errno, "no route to host". */
const char *net_strerror(int err);

/* FNV-1a of n bytes: cheap, and good enough to spread keys over a table. */
uint64_t hash_bytes(const void *, size_t n);

/* True when the NUL-terminated string is valid UTF-8. */
int utf8_valid(const char *);

#endif
