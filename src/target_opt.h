/* Shared between the parsers of target kinds; not for other modules. */
#ifndef PULSE_TARGET_OPT_H
#define PULSE_TARGET_OPT_H

#include <stdbool.h>
#include <stddef.h>

#include "target.h"

#define KIND_BIT(k) (1U << (k))

/* One key=value option: the kinds it fits and how to apply it. */
struct target_option {
	const char *key;
	unsigned kinds;
	int (*parse)(const char *value, struct target *, char *, size_t);
	bool bare; /* may be written without "=value" */
};

extern const struct target_option target_http_options[];
extern const size_t target_http_noptions;

/* Check and normalise a host written without brackets or port. */
char *target_host_parse(const char *s, size_t n, char *errbuf, size_t errlen);
/* 0 when h is a valid DNS name, -1 with a reason. */
int target_hostname_check(const char *h, char *errbuf, size_t errlen);
/* Fill t from an http:// or https:// URL. */
int target_http_parse_url(const char *spec, struct target *t, char *errbuf,
    size_t errlen);
/* Append what else makes an HTTP probe distinct to a target key. */
void target_http_key(const struct target_http *, char *buf, size_t len);
void target_http_free(struct target_http *);

#endif
