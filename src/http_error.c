/* Turn a libcurl failure into one of pulse's reasons and a plain message. */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http_error.h"
#include "util.h"

/* OpenSSL's X509_V_ERR_* codes, as CURLINFO_SSL_VERIFYRESULT gives them. */
#define X509_UNABLE_TO_GET_ISSUER 2
#define X509_NOT_YET_VALID 9
#define X509_EXPIRED 10
#define X509_SELF_SIGNED 18
#define X509_SELF_SIGNED_IN_CHAIN 19
#define X509_NO_LOCAL_ISSUER 20
#define X509_UNABLE_TO_VERIFY_LEAF 21
#define X509_HOSTNAME_MISMATCH 62

static int64_t
reached(CURL *easy, CURLINFO what)
{
	curl_off_t v = 0;

	return curl_easy_getinfo(easy, what, &v) == CURLE_OK ? (int64_t)v : 0;
}

/* A timeout, named by the phase it cut short. */
static void
timed_out(CURL *easy, const struct target *t, bool tcp_up, struct result *r)
{
	const char *where;

	if (reached(easy, CURLINFO_NAMELOOKUP_TIME_T) == 0 &&
	    r->address[0] == '\0')
		where = "looking up the name";
	else if (!tcp_up && reached(easy, CURLINFO_CONNECT_TIME_T) == 0)
		where = "connecting";
	else if (t->http->tls && reached(easy, CURLINFO_APPCONNECT_TIME_T) == 0)
		where = "in the TLS handshake";
	else if (reached(easy, CURLINFO_STARTTRANSFER_TIME_T) == 0)
		where = "waiting for the response";
	else
		where = "reading the response";
	result_fail(r, REASON_TIMEOUT, "timed out %s", where);
}

/* Certificate problems, told apart as a user needs to fix them. */
static void
tls_failed(CURL *easy, const struct target *t, const char *errbuf,
    struct result *r)
{
	long v = 0;
	const char *name = t->http->sni != NULL ? t->http->sni
	    : t->http->host_header != NULL      ? t->http->host_header
	                                        : t->host;

	curl_easy_getinfo(easy, CURLINFO_SSL_VERIFYRESULT, &v);
	/* libcurl checks the name itself, after OpenSSL's verdict. */
	if (strstr(errbuf, "subject name") != NULL ||
	    strstr(errbuf, "does not match target host") != NULL)
		v = X509_HOSTNAME_MISMATCH;
	switch (v) {
	case X509_EXPIRED:
		result_fail(r, REASON_TLS, "certificate has expired");
		return;
	case X509_NOT_YET_VALID:
		result_fail(r, REASON_TLS, "certificate is not yet valid");
		return;
	case X509_SELF_SIGNED:
	case X509_SELF_SIGNED_IN_CHAIN:
		result_fail(r, REASON_TLS,
		    "self-signed certificate, not trusted (use ca= or "
		    "insecure)");
		return;
	case X509_UNABLE_TO_GET_ISSUER:
	case X509_NO_LOCAL_ISSUER:
	case X509_UNABLE_TO_VERIFY_LEAF:
		result_fail(r, REASON_TLS,
		    "certificate not trusted: unknown issuer (use ca=)");
		return;
	case X509_HOSTNAME_MISMATCH:
		break;
	default:
		result_fail(r, REASON_TLS, "certificate not trusted: %s",
		    errbuf);
		return;
	}
	result_fail(r, REASON_TLS, "certificate does not match host name %s",
	    name);
}

/* The scheme a refused redirect asked for, from libcurl's message. */
static void
bad_redirect(const char *errbuf, struct result *r)
{
	const char *q = strchr(errbuf, '"'), *e = q ? strchr(q + 1, '"') : NULL;

	if (q != NULL && e != NULL && e - q - 1 < 16)
		result_fail(r, REASON_PROTOCOL,
		    "redirect to a %.*s: URL refused: only http and https "
		    "schemes are followed",
		    (int)(e - q - 1), q + 1);
	else
		result_fail(r, REASON_PROTOCOL,
		    "redirect to a scheme other than http or https refused");
}

static void
could_not_connect(CURL *easy, struct result *r, const char *errbuf)
{
	long err = 0;

	curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &err);
	if (err == ECONNREFUSED)
		result_fail(r, REASON_REFUSED, "connection refused");
	else if (err == EACCES || err == EPERM)
		result_fail(r, REASON_PERMISSION, "connect not permitted");
	else if (err != 0)
		result_fail(r, REASON_UNREACHABLE, "%s",
		    net_strerror((int)err));
	else
		result_fail(r, REASON_UNREACHABLE, "%s", errbuf);
}

/* Our own callbacks stopped the transfer: say which limit. */
static void
aborted(const struct target *t, enum http_abort why, struct result *r)
{
	uint64_t max =
	    t->http->max_body > 0 ? t->http->max_body : TARGET_HTTP_MAX_BODY;

	switch (why) {
	case HTTP_ABORT_BODY:
		result_fail(r, REASON_PROTOCOL,
		    "body larger than max_body (%llu bytes)",
		    (unsigned long long)max);
		break;
	case HTTP_ABORT_HEADERS:
		result_fail(r, REASON_PROTOCOL,
		    "response headers larger than 256 KiB");
		break;
	case HTTP_ABORT_MEMORY:
		result_fail(r, REASON_INTERNAL, "out of memory for the body");
		break;
	case HTTP_ABORT_DENIED: /* told apart before */
	case HTTP_ABORT_NONE:
		result_fail(r, REASON_INTERNAL, "transfer aborted");
		break;
	}
}

void
http_error_classify(CURL *easy, const struct target *t, CURLcode rc,
    const struct http_seen *seen, const char *errbuf, struct result *r)
{
	const char *msg = *errbuf != '\0' ? errbuf : curl_easy_strerror(rc);

	if (seen->abort == HTTP_ABORT_DENIED ||
	    (rc == CURLE_COULDNT_CONNECT && seen->last_denied)) {
		result_fail(r, REASON_DENIED, "%s", seen->denied);
		return;
	}
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		timed_out(easy, t, seen->tcp_up, r);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		result_fail(r, REASON_DNS, "cannot resolve %s", t->host);
		break;
	case CURLE_COULDNT_CONNECT:
		could_not_connect(easy, r, msg);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		tls_failed(easy, t, msg, r);
		break;
	case CURLE_SSL_CONNECT_ERROR:
		result_fail(r, REASON_TLS, "TLS handshake failed: %s", msg);
		break;
	case CURLE_SSL_CACERT_BADFILE:
		result_fail(r, REASON_CONFIG, "cannot use ca=%s: %s",
		    t->http->ca != NULL ? t->http->ca : "(system)", msg);
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		result_fail(r, REASON_PROTOCOL, "more than %d redirects",
		    t->http->follow >= 0 ? t->http->follow
		                         : TARGET_HTTP_FOLLOW);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		bad_redirect(msg, r);
		break;
	case CURLE_WRITE_ERROR:
		aborted(t, seen->abort, r);
		break;
	case CURLE_OUT_OF_MEMORY:
		/* What libcurl 7 says of a header line over its 100 KiB. */
		result_fail(r, REASON_PROTOCOL,
		    "response header too large for libcurl (%s)", msg);
		break;
	default:
		if (t->http->version == 20 && !t->http->tls &&
		    r->http.status == 0) {
			/* Prior knowledge meets a server of HTTP/1 only. */
			result_fail(r, REASON_PROTOCOL,
			    "no HTTP/2 answer (http_version=2 over http:// "
			    "speaks HTTP/2 from the first byte): %s",
			    msg);
			break;
		}
		/* Malformed chunks, oversized headers, broken streams. */
		result_fail(r, REASON_PROTOCOL, "%s", msg);
		break;
	}
}
