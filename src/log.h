/* Levelled logging to stderr (or syslog once a daemon asks for it). */
#ifndef PULSE_LOG_H
#define PULSE_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

void log_init(const char *progname, enum log_level);
void log_set_level(enum log_level);
/* "error", "warn", "info", "debug": 0, or -1 for another word. */
int log_level_parse(const char *, enum log_level *);
/*
 * Also copy every error logged from now on into buf (len bytes, a line
 * each, cut when full); NULL stops.
 */
void log_capture(char *buf, size_t len);
/* logfmt lines (ts=... level=... msg=...), as a daemon writes them. */
void log_set_logfmt(bool);
/* Log to syslog (facility daemon) from now on, in logfmt. */
void log_open_syslog(void);
/*
 * An event with key=value pairs, the list ended by NULL:
 * log_event(LOG_LEVEL_INFO, "target down", "target", t, LOG_END).
 */
void log_event(enum log_level, const char *msg, ...) __attribute__((sentinel));
/* The end of log_event()'s pairs: a pointer, as a variadic list needs. */
#define LOG_END ((const char *)NULL)
/* Errors show even under --quiet; warnings and the rest do not. */
void log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_errorx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* An invariant broke: say so and exit 3 (internal error). */
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
