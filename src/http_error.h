/* Failure reasons of the HTTP probe, from libcurl's result codes. */
#ifndef PULSE_HTTP_ERROR_H
#define PULSE_HTTP_ERROR_H

#include <curl/curl.h>
#include <stdbool.h>

#include "result.h"
#include "target.h"

/* Why our own callbacks stopped a transfer. */
enum http_abort {
	HTTP_ABORT_NONE,
	HTTP_ABORT_BODY,    /* past max_body */
	HTTP_ABORT_HEADERS, /* headers past their cap */
	HTTP_ABORT_MEMORY,
	HTTP_ABORT_DENIED, /* a redirect outside the allowlist */
};

struct allowlist;

/* What the probe saw beyond libcurl's own counters. */
struct http_seen {
	enum http_abort abort;         /* why our callbacks stopped it */
	bool tcp_up;                   /* a TCP connection was established */
	const struct allowlist *allow; /* /probe's, or NULL */
	bool last_denied;              /* the last address tried was refused */
	char denied[128];              /* what the allowlist refused, or "" */
};

/* Fill r with the reason and message for rc; errbuf is libcurl's text. */
void http_error_classify(CURL *easy, const struct target *t, CURLcode rc,
    const struct http_seen *seen, const char *errbuf, struct result *r);

#endif
