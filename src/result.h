/* One probe's outcome: the single result model that every output reads. */
#ifndef PULSE_RESULT_H
#define PULSE_RESULT_H

#include <stdbool.h>
#include <stdint.h>

/* Why a probe failed, from a small fixed set that queries can rely on. */
enum reason {
	REASON_NONE = 0,
	REASON_TIMEOUT,
	REASON_REFUSED,
	REASON_UNREACHABLE,
	REASON_DNS,
	REASON_TLS,
	REASON_STATUS,
	REASON_MATCH,
	REASON_CRASH,
	REASON_DEADLINE,
	REASON_CANCELLED,
	REASON_PERMISSION,
	REASON_CONFIG,
	REASON_INTERNAL,
	REASON_PROTOCOL, /* a malformed, oversized or refused answer */
	REASON_DENIED,   /* outside the allowlist of /probe */
	REASON_MAX
};

#define RESULT_ERROR_MAX 256
#define RESULT_ADDR_MAX 64
#define RESULT_TLS_VERSION_MAX 16
#define RESULT_TLS_CIPHER_MAX 64

/* What an HTTP probe saw; phases are -1 when not reached. */
struct result_http {
	int status;             /* 0: no response */
	unsigned version;       /* 10, 11, 20 or 30; 0: no response */
	unsigned redirects;     /* followed */
	int64_t content_length; /* body bytes read, after decoding */
	int body_matched;       /* -1: no match= or not_match= */
	int64_t tls_us;         /* TLS handshake */
	int64_t processing_us;  /* request sent to first byte */
	int64_t transfer_us;    /* first byte to last */
	char tls_version[RESULT_TLS_VERSION_MAX]; /* "TLSv1.3", "" */
	char tls_cipher[RESULT_TLS_CIPHER_MAX];
	int64_t cert_not_after; /* earliest in the chain, epoch s; 0: none */
	char *final_url;        /* after redirects, redacted; NULL: none */
};

struct result {
	bool success;
	enum reason reason;
	char error[RESULT_ERROR_MAX];  /* human message, "" on success */
	char address[RESULT_ADDR_MAX]; /* address probed, "" if none */
	int64_t start_us;              /* wall clock when the probe began */
	int64_t duration_us;           /* whole probe, resolution included */
	int64_t dns_us;                /* name resolution, -1 if not done */
	int64_t connect_us;            /* TCP handshake, -1 if not reached */
	/* ICMP */
	uint32_t sent, received, duplicates;
	int64_t rtt_min_us, rtt_avg_us, rtt_max_us, rtt_stddev_us;
	int reply_ttl; /* TTL / hop limit of a reply, -1 */
	struct result_http http;
};

void result_init(struct result *);
/* Mark a failure with its reason and a printf-style message. */
void result_fail(struct result *, enum reason, const char *, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * A result owns its final_url: copy with result_copy() and free with
 * result_release(), never with a plain assignment.
 */
void result_copy(struct result *dst, const struct result *src);
void result_release(struct result *);
const char *reason_name(enum reason);
/* Map a name back to its reason; REASON_MAX when unknown. */
enum reason reason_from_name(const char *);

#endif
