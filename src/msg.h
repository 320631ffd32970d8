/*
 * Messages between the supervisor and its workers, one per SOCK_SEQPACKET
 * datagram: an 8-byte header (magic, version, type, payload length) and a
 * payload of fixed-width integers and length-prefixed strings.  Decoders
 * treat every byte as hostile: a worker has talked to the network.
 */
#ifndef PULSE_MSG_H
#define PULSE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "result.h"
#include "target.h"

#define MSG_MAGIC 0x504cU /* "PL" */
#define MSG_VERSION 2
#define MSG_HDR_LEN 8
#define MSG_MAX 131072 /* largest datagram either side sends */

enum msg_type {
	MSG_PROBE_REQ = 1,    /* supervisor -> worker: run this probe */
	MSG_PROBE_RESULT = 2, /* worker -> supervisor: its outcome */
};

struct msg_probe_req {
	uint64_t id;          /* echoed in the result */
	int64_t timeout_us;   /* the probe's own deadline */
	struct target target; /* only the fields a probe reads */
	bool restricted;      /* decoded: target.allow was set (/probe) */
};

struct msg_probe_result {
	uint64_t id;
	struct result result;
};

/* Encode into buf; return the datagram length, or -1 if it does not fit. */
ssize_t msg_encode_probe_req(const struct msg_probe_req *, uint8_t *buf,
    size_t cap);
ssize_t msg_encode_probe_result(const struct msg_probe_result *, uint8_t *buf,
    size_t cap);

/*
 * Decode a datagram; return 0, or -1 with a reason in errbuf.  A decoded
 * request's target owns no heap memory beyond what target_clear() frees.
 */
int msg_decode_probe_req(const uint8_t *, size_t, struct msg_probe_req *,
    char *errbuf, size_t errlen);
int msg_decode_probe_result(const uint8_t *, size_t, struct msg_probe_result *,
    char *errbuf, size_t errlen);
/* Peek at the type of a datagram whose header is valid; -1 otherwise. */
int msg_type(const uint8_t *, size_t);

#endif
