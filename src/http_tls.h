/* TLS details of an HTTPS probe: version, cipher, certificate expiry. */
#ifndef PULSE_HTTP_TLS_H
#define PULSE_HTTP_TLS_H

#include <curl/curl.h>

#include "result.h"

/*
 * Read the session of easy's current connection into h, while it is still
 * open (from a header callback).  Does nothing unless libcurl uses OpenSSL.
 */
void http_tls_read(CURL *easy, struct result_http *h);

#endif
