/* What libcurl does not say about a TLS session, read from OpenSSL. */
#include "config.h"

#include <bsd/string.h>
#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <time.h>

#include "http_tls.h"

/* Seconds since the epoch of an ASN.1 time; 0 when it does not convert. */
static int64_t
asn1_epoch(const ASN1_TIME *at)
{
	struct tm tm;

	if (at == NULL || ASN1_TIME_to_tm(at, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

void
http_tls_read(CURL *easy, struct result_http *h)
{
	struct curl_tlssessioninfo *ti = NULL;
	const SSL_CIPHER *cipher;
	STACK_OF(X509) * chain;
	int64_t t, earliest = 0;
	SSL *ssl;
	int i;

	if (curl_easy_getinfo(easy, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK ||
	    ti == NULL || ti->backend != CURLSSLBACKEND_OPENSSL ||
	    ti->internals == NULL)
		return;
	ssl = ti->internals;
	strlcpy(h->tls_version, SSL_get_version(ssl), sizeof(h->tls_version));
	if ((cipher = SSL_get_current_cipher(ssl)) != NULL)
		strlcpy(h->tls_cipher, SSL_CIPHER_get_name(cipher),
		    sizeof(h->tls_cipher));
	/* Every certificate the server sent, as blackbox_exporter reads it. */
	if ((chain = SSL_get_peer_cert_chain(ssl)) == NULL)
		return;
	for (i = 0; i < sk_X509_num(chain); i++) {
		t = asn1_epoch(X509_get0_notAfter(sk_X509_value(chain, i)));
		if (t > 0 && (earliest == 0 || t < earliest))
			earliest = t;
	}
	h->cert_not_after = earliest;
}
