/*
 * --shard K/N: N instances share one targets file, each probing the
 * targets whose stable hash falls in its shard.
 */
#ifndef PULSE_SHARD_H
#define PULSE_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target.h"

#define SHARD_COUNT_MAX 4096

/* Shard index (1..count) of count; count 0: no --shard, keep everything. */
struct shard {
	unsigned index;
	unsigned count;
};

/*
 * Parse "K/N", or "auto/N" with K one more than the ordinal at the end of
 * the host name ("pulse-2" is shard 3): 0, or -1 with a reason in errbuf.
 */
int shard_parse(const char *spec, struct shard *, char *errbuf, size_t errlen);
/* As shard_parse(), "auto" taking its ordinal from hostname. */
int shard_parse_host(const char *spec, const char *hostname, struct shard *,
    char *errbuf, size_t errlen);
/*
 * The hash that places a target: FNV-1a 64 of its key (target_key()),
 * then MurmurHash3's 64-bit finaliser, so that every bit of the key
 * reaches the low bits that "mod N" keeps.
 */
uint64_t shard_hash(const char *key, size_t len);
/* True when t is in shard s, or s is not set. */
bool shard_keeps(const struct shard *, const struct target *t);
/*
 * Drop from list, in place and keeping the order, every target of another
 * shard; log what is kept.  Returns how many targets list held before.
 */
size_t shard_filter(const struct shard *, struct target_list *list);

#endif
