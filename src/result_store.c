/* Results kept encoded, one block of memory after another. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "msg.h"
#include "result_store.h"
#include "util.h"

/* Encodings are packed into blocks of this size (or one larger result). */
#define RESULT_STORE_BLOCK (64 * 1024)

void
result_store_init(struct result_store *st, size_t n)
{
	memset(st, 0, sizeof(*st));
	st->n = n;
	st->at = xcalloc(n > 0 ? n : 1, sizeof(*st->at));
	st->len = xcalloc(n > 0 ? n : 1, sizeof(*st->len));
}

/* Room for len more bytes in the current block, or a new block. */
static uint8_t *
block_room(struct result_store *st, size_t len)
{
	size_t cap;

	if (st->nblocks == 0 || st->block_cap - st->block_used < len) {
		cap = len > RESULT_STORE_BLOCK ? len : RESULT_STORE_BLOCK;
		st->blocks = xreallocarray(st->blocks, st->nblocks + 1,
		    sizeof(*st->blocks));
		st->blocks[st->nblocks++] = xmalloc(cap);
		st->block_used = 0;
		st->block_cap = cap;
	}
	return st->blocks[st->nblocks - 1] + st->block_used;
}

void
result_store_put(struct result_store *st, size_t i, const struct result *r)
{
	static uint8_t buf[MSG_MAX];
	struct msg_probe_result m;
	uint8_t *p;
	ssize_t n;

	if (i >= st->n)
		fatalx("result %zu of %zu", i, st->n);
	memset(&m, 0, sizeof(m));
	m.id = i;
	m.result = *r;
	if ((n = msg_encode_probe_result(&m, buf, sizeof(buf))) == -1)
		fatalx("result %zu does not encode", i);
	/* A replaced result's old bytes stay in their block: rare enough. */
	p = block_room(st, (size_t)n);
	memcpy(p, buf, (size_t)n);
	st->block_used += (size_t)n;
	st->at[i] = p;
	st->len[i] = (uint32_t)n;
}

bool
result_store_has(const struct result_store *st, size_t i)
{
	return i < st->n && st->at[i] != NULL;
}

void
result_store_get(const struct result_store *st, size_t i, struct result *r)
{
	struct msg_probe_result m;
	char why[128];

	if (!result_store_has(st, i)) {
		result_init(r);
		return;
	}
	if (msg_decode_probe_result(st->at[i], st->len[i], &m, why,
	        sizeof(why)) == -1)
		fatalx("stored result %zu: %s", i, why);
	*r = m.result;
}

void
result_store_free(struct result_store *st)
{
	size_t i;

	for (i = 0; i < st->nblocks; i++)
		free(st->blocks[i]);
	free(st->blocks);
	free(st->at);
	free(st->len);
	memset(st, 0, sizeof(*st));
}
