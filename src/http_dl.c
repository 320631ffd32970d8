/*
 * The libcurl and OpenSSL functions pulse calls, defined here under their
 * own names: each forwards to the library, opened with dlopen(3) on first
 * use, so that the binary does not link them.
 */
#include "config.h"

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <dlfcn.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdbool.h>

#include "http_dl.h"
#include "log.h"

typedef void (*dl_fn)(void);

/* Every symbol forwarded, in the order of the table below. */
enum {
	F_EASY_CLEANUP,
	F_EASY_GETINFO,
	F_EASY_INIT,
	F_EASY_PERFORM,
	F_EASY_RESET,
	F_EASY_SETOPT,
	F_EASY_STRERROR,
	F_FREE,
	F_GLOBAL_CLEANUP,
	F_GLOBAL_INIT,
	F_MULTI_ADD_HANDLE,
	F_MULTI_CLEANUP,
	F_MULTI_INFO_READ,
	F_MULTI_INIT,
	F_MULTI_SETOPT,
	F_MULTI_SOCKET_ACTION,
	F_MULTI_REMOVE_HANDLE,
	F_SLIST_APPEND,
	F_SLIST_FREE_ALL,
	F_URL,
	F_URL_CLEANUP,
	F_URL_DUP,
	F_URL_GET,
	F_URL_SET,
	F_URL_STRERROR,
	F_SSL_GET_VERSION,
	F_SSL_GET_CURRENT_CIPHER,
	F_SSL_CIPHER_GET_NAME,
	F_SSL_GET_PEER_CERT_CHAIN,
	F_SK_NUM,
	F_SK_VALUE,
	F_X509_GET0_NOTAFTER,
	F_ASN1_TIME_TO_TM,
	F_MAX
};

static const char *const names[F_MAX] = {
    "curl_easy_cleanup",
    "curl_easy_getinfo",
    "curl_easy_init",
    "curl_easy_perform",
    "curl_easy_reset",
    "curl_easy_setopt",
    "curl_easy_strerror",
    "curl_free",
    "curl_global_cleanup",
    "curl_global_init",
    "curl_multi_add_handle",
    "curl_multi_cleanup",
    "curl_multi_info_read",
    "curl_multi_init",
    "curl_multi_setopt",
    "curl_multi_socket_action",
    "curl_multi_remove_handle",
    "curl_slist_append",
    "curl_slist_free_all",
    "curl_url",
    "curl_url_cleanup",
    "curl_url_dup",
    "curl_url_get",
    "curl_url_set",
    "curl_url_strerror",
    "SSL_get_version",
    "SSL_get_current_cipher",
    "SSL_CIPHER_get_name",
    "SSL_get_peer_cert_chain",
    "OPENSSL_sk_num",
    "OPENSSL_sk_value",
    "X509_get0_notAfter",
    "ASN1_TIME_to_tm",
};

static dl_fn fns[F_MAX];
static bool loaded;

/* A library by its soname, for good (its symbols stay in use). */
static void *
open_lib(const char *soname)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_GLOBAL);

	if (h == NULL)
		fatalx("HTTP probes need %s: %s", soname, dlerror());
	return h;
}

void
http_dl_load(void)
{
	void *libs[3];
	unsigned i, j;

	if (loaded)
		return;
	libs[0] = open_lib(PULSE_LIBCURL_SONAME);
	libs[1] = open_lib(PULSE_LIBSSL_SONAME);
	libs[2] = open_lib(PULSE_LIBCRYPTO_SONAME);
	for (i = 0; i < F_MAX; i++) {
		for (j = 0; j < 3 && fns[i] == NULL; j++)
			*(void **)&fns[i] = dlsym(libs[j], names[i]);
		if (fns[i] == NULL)
			fatalx("HTTP probes need %s, not found in %s", names[i],
			    PULSE_LIBCURL_SONAME);
	}
	loaded = true;
}

/* The function of slot i, loading the libraries on first use. */
static dl_fn
fn(unsigned i)
{
	if (!loaded)
		http_dl_load();
	return fns[i];
}

#define CALL(i, type) ((type)fn(i))

void
curl_easy_cleanup(CURL *h)
{
	CALL(F_EASY_CLEANUP, void (*)(CURL *))(h);
}

/* Every CURLINFO_* takes a pointer to where its value goes. */
CURLcode
curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	va_list ap;
	void *p;

	va_start(ap, info);
	p = va_arg(ap, void *);
	va_end(ap);
	return CALL(F_EASY_GETINFO, CURLcode(*)(CURL *, CURLINFO, ...))(h, info,
	    p);
}

CURL *
curl_easy_init(void)
{
	return CALL(F_EASY_INIT, CURL * (*)(void))();
}

CURLcode
curl_easy_perform(CURL *h)
{
	return CALL(F_EASY_PERFORM, CURLcode(*)(CURL *))(h);
}

void
curl_easy_reset(CURL *h)
{
	CALL(F_EASY_RESET, void (*)(CURL *))(h);
}

/* An option's number says the type of its one argument. */
CURLcode
curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
	CURLcode (*set)(CURL *, CURLoption, ...) =
	    CALL(F_EASY_SETOPT, CURLcode(*)(CURL *, CURLoption, ...));
	CURLcode rc;
	va_list ap;

	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		rc = set(h, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
		rc = set(h, opt, va_arg(ap, void *));
	else if (opt < CURLOPTTYPE_OFF_T)
		rc = set(h, opt, va_arg(ap, dl_fn));
	else if (opt < CURLOPTTYPE_BLOB)
		rc = set(h, opt, va_arg(ap, curl_off_t));
	else
		rc = set(h, opt, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

const char *
curl_easy_strerror(CURLcode code)
{
	return CALL(F_EASY_STRERROR, const char *(*)(CURLcode))(code);
}

void
curl_free(void *p)
{
	CALL(F_FREE, void (*)(void *))(p);
}

void
curl_global_cleanup(void)
{
	CALL(F_GLOBAL_CLEANUP, void (*)(void))();
}

CURLcode
curl_global_init(long flags)
{
	return CALL(F_GLOBAL_INIT, CURLcode(*)(long))(flags);
}

CURLMcode
curl_multi_add_handle(CURLM *m, CURL *h)
{
	return CALL(F_MULTI_ADD_HANDLE, CURLMcode(*)(CURLM *, CURL *))(m, h);
}

CURLMcode
curl_multi_cleanup(CURLM *m)
{
	return CALL(F_MULTI_CLEANUP, CURLMcode(*)(CURLM *))(m);
}

CURLMsg *
curl_multi_info_read(CURLM *m, int *left)
{
	return CALL(F_MULTI_INFO_READ, CURLMsg * (*)(CURLM *, int *))(m, left);
}

CURLM *
curl_multi_init(void)
{
	return CALL(F_MULTI_INIT, CURLM * (*)(void))();
}

CURLMcode
curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
	CURLMcode (*set)(CURLM *, CURLMoption, ...) =
	    CALL(F_MULTI_SETOPT, CURLMcode(*)(CURLM *, CURLMoption, ...));
	CURLMcode rc;
	va_list ap;

	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		rc = set(m, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
		rc = set(m, opt, va_arg(ap, void *));
	else if (opt < CURLOPTTYPE_OFF_T)
		rc = set(m, opt, va_arg(ap, dl_fn));
	else
		rc = set(m, opt, va_arg(ap, curl_off_t));
	va_end(ap);
	return rc;
}

CURLMcode
curl_multi_socket_action(CURLM *m, curl_socket_t s, int mask, int *running)
{
	return CALL(F_MULTI_SOCKET_ACTION,
	    CURLMcode(*)(CURLM *, curl_socket_t, int, int *))(m, s, mask,
	    running);
}

CURLMcode
curl_multi_remove_handle(CURLM *m, CURL *h)
{
	return CALL(F_MULTI_REMOVE_HANDLE, CURLMcode(*)(CURLM *, CURL *))(m, h);
}

struct curl_slist *
curl_slist_append(struct curl_slist *l, const char *s)
{
	return CALL(F_SLIST_APPEND,
	    struct curl_slist * (*)(struct curl_slist *, const char *))(l, s);
}

void
curl_slist_free_all(struct curl_slist *l)
{
	CALL(F_SLIST_FREE_ALL, void (*)(struct curl_slist *))(l);
}

CURLU *
curl_url(void)
{
	return CALL(F_URL, CURLU * (*)(void))();
}

void
curl_url_cleanup(CURLU *u)
{
	CALL(F_URL_CLEANUP, void (*)(CURLU *))(u);
}

CURLU *
curl_url_dup(CURLU *u)
{
	return CALL(F_URL_DUP, CURLU * (*)(CURLU *))(u);
}

CURLUcode
curl_url_get(CURLU *u, CURLUPart what, char **part, unsigned int flags)
{
	return CALL(F_URL_GET,
	    CURLUcode(*)(CURLU *, CURLUPart, char **, unsigned int))(u, what,
	    part, flags);
}

CURLUcode
curl_url_set(CURLU *u, CURLUPart what, const char *part, unsigned int flags)
{
	return CALL(F_URL_SET,
	    CURLUcode(*)(CURLU *, CURLUPart, const char *, unsigned int))(u,
	    what, part, flags);
}

const char *
curl_url_strerror(CURLUcode code)
{
	return CALL(F_URL_STRERROR, const char *(*)(CURLUcode))(code);
}

const char *
SSL_get_version(const SSL *s)
{
	return CALL(F_SSL_GET_VERSION, const char *(*)(const SSL *))(s);
}

const SSL_CIPHER *
SSL_get_current_cipher(const SSL *s)
{
	return CALL(F_SSL_GET_CURRENT_CIPHER,
	    const SSL_CIPHER *(*)(const SSL *))(s);
}

const char *
SSL_CIPHER_get_name(const SSL_CIPHER *c)
{
	return CALL(F_SSL_CIPHER_GET_NAME, const char *(*)(const SSL_CIPHER *))(
	    c);
}

STACK_OF(X509) * SSL_get_peer_cert_chain(const SSL *s)
{
	return CALL(F_SSL_GET_PEER_CERT_CHAIN,
	    STACK_OF(X509) * (*)(const SSL *))(s);
}

int
OPENSSL_sk_num(const OPENSSL_STACK *st)
{
	return CALL(F_SK_NUM, int (*)(const OPENSSL_STACK *))(st);
}

void *
OPENSSL_sk_value(const OPENSSL_STACK *st, int i)
{
	return CALL(F_SK_VALUE, void *(*)(const OPENSSL_STACK *, int))(st, i);
}

const ASN1_TIME *
X509_get0_notAfter(const X509 *x)
{
	return CALL(F_X509_GET0_NOTAFTER, const ASN1_TIME *(*)(const X509 *))(
	    x);
}

int
ASN1_TIME_to_tm(const ASN1_TIME *t, struct tm *tm)
{
	return CALL(F_ASN1_TIME_TO_TM,
	    int (*)(const ASN1_TIME *, struct tm *))(t, tm);
}
