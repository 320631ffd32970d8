/*
 * Results kept in their compact wire form: a scan holds one per target
 * until the end, and the full struct is mostly empty text buffers.
 */
#ifndef PULSE_RESULT_STORE_H
#define PULSE_RESULT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

struct result_store {
	uint8_t **at;  /* at[i]: the encoded result i, NULL: none yet */
	uint32_t *len; /* its length */
	size_t n;
	uint8_t **blocks; /* where the encodings live */
	size_t nblocks, block_used, block_cap;
};

/* Room for n results, none stored. */
void result_store_init(struct result_store *, size_t n);
/* Store (or replace) result i. */
void result_store_put(struct result_store *, size_t i, const struct result *);
bool result_store_has(const struct result_store *, size_t i);
/*
 * Fill r (result_release() it after) with result i, or an empty result
 * when none was stored.
 */
void result_store_get(const struct result_store *, size_t i, struct result *r);
void result_store_free(struct result_store *);

#endif
