/*
 * The allowlist of /probe applied to libcurl: every address a transfer
 * connects to, and the host of every redirect it would follow.
 */
#ifndef PULSE_HTTP_ALLOW_H
#define PULSE_HTTP_ALLOW_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "http_error.h"

/* Check each connection of easy against seen->allow (set, not NULL). */
void http_allow_connections(CURL *easy, struct http_seen *seen);
/*
 * A Location header of a redirect: true when its host may be followed;
 * false with seen->denied saying why.  value is the header's value.
 */
bool http_allow_redirect(CURL *easy, struct http_seen *seen, const char *value,
    size_t len);

#endif
