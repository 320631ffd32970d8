/* Levelled logging to stderr or syslog, as plain lines or logfmt. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "util.h"

static const char *log_progname = "pulse";
static enum log_level log_threshold = LOG_LEVEL_INFO;
static bool log_logfmt;       /* key=value lines, for the daemon */
static bool log_syslog;       /* to syslog instead of stderr */
static char *log_capture_buf; /* errors are also kept here, when set */
static size_t log_capture_len;

void
log_capture(char *buf, size_t len)
{
	log_capture_buf = buf;
	log_capture_len = len;
	if (buf != NULL && len > 0)
		buf[0] = '\0';
}

/* Keep an error's text for log_capture()'s caller, as far as it fits. */
static void
capture(enum log_level level, const char *msg)
{
	size_t n;

	if (log_capture_buf == NULL || level != LOG_LEVEL_ERROR)
		return;
	n = strlen(log_capture_buf);
	if (n + 1 < log_capture_len)
		snprintf(log_capture_buf + n, log_capture_len - n, "%s\n", msg);
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const int level_priorities[] = {LOG_ERR, LOG_WARNING, LOG_INFO,
    LOG_DEBUG};

void
log_set_logfmt(bool on)
{
	log_logfmt = on;
}

void
log_open_syslog(void)
{
	openlog(log_progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = true;
	log_logfmt = true;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	int i;

	for (i = 0; i <= LOG_LEVEL_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

/* A logfmt value: bare when it can be, else quoted with escapes. */
static void
put_value(char *buf, size_t len, size_t *n, const char *v)
{
	const char *p;
	bool quote = *v == '\0' || strpbrk(v, " =\"\\\n\t") != NULL;

	if (*n < len && quote)
		buf[(*n)++] = '"';
	for (p = v; *p != '\0' && *n + 2 < len; p++) {
		if (*p == '"' || *p == '\\') {
			buf[(*n)++] = '\\';
			buf[(*n)++] = *p;
		} else if (*p == '\n' || *p == '\t')
			buf[(*n)++] = ' ';
		else if ((unsigned char)*p < 0x20 || *p == 0x7f)
			buf[(*n)++] = '?'; /* no escape reaches a terminal */
		else
			buf[(*n)++] = *p;
	}
	if (*n < len && quote)
		buf[(*n)++] = '"';
	buf[*n < len ? *n : len - 1] = '\0';
}

/* Emit one finished line to stderr or syslog. */
static void
emit(enum log_level level, const char *line)
{
	char ts[40];

	if (log_syslog) {
		syslog(level_priorities[level], "%s", line);
		return;
	}
	if (log_logfmt) {
		format_rfc3339(wall_now_us(), ts, sizeof(ts));
		fprintf(stderr, "ts=%s %s\n", ts, line);
	} else
		fprintf(stderr, "%s: %s\n", log_progname, line);
}

void
log_event(enum log_level level, const char *msg, ...)
{
	char line[2048];
	const char *k, *v;
	size_t n = 0;
	va_list ap;

	if (level > log_threshold)
		return;
	n = (size_t)snprintf(line, sizeof(line),
	    "level=%s msg=", level_names[level]);
	put_value(line, sizeof(line), &n, msg);
	va_start(ap, msg);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (n + 2 >= sizeof(line))
			break;
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=", k);
		if (n >= sizeof(line))
			break;
		put_value(line, sizeof(line), &n, v != NULL ? v : "");
	}
	va_end(ap);
	if (!log_logfmt) {
		/* Plain lines: the message, then the pairs as they are. */
		emit(level,
		    line + strlen("level=") + strlen(level_names[level]) +
		        strlen(" msg="));
		return;
	}
	emit(level, line);
}

void
log_init(const char *progname, enum log_level level)
{
	log_progname = progname;
	log_threshold = level;
}

void
log_set_level(enum log_level level)
{
	log_threshold = level;
}

/* Write one line; errno_saved >= 0 appends its strerror. */
static void
log_vwrite(enum log_level level, int errno_saved, const char *fmt, va_list ap)
{
	char msg[1024], line[1200], *p;
	size_t n;

	if (level > log_threshold)
		return;
	n = (size_t)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errno_saved >= 0 && n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s",
		    strerror(errno_saved));
	/*
	 * Messages quote what files and servers sent: their control bytes
	 * (a CR, an escape sequence) must not reach a terminal or a log.
	 */
	for (p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	capture(level, msg);
	if (!log_logfmt) {
		emit(level, msg);
		return;
	}
	n = (size_t)snprintf(line, sizeof(line),
	    "level=%s msg=", level_names[level]);
	put_value(line, sizeof(line), &n, msg);
	emit(level, line);
}

void
log_error(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_errorx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, -1, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, -1, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_INFO, -1, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_DEBUG, -1, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, saved, fmt, ap);
	va_end(ap);
	exit(3);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, -1, fmt, ap);
	va_end(ap);
	exit(3);
}
