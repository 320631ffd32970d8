/* Split one targets file among N instances by a hash of each target. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "shard.h"

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

/*
 * Spelled out here, not taken from util.c: which instance probes a target
 * must not change because some other use of a hash did.
 */
uint64_t
shard_hash(const char *key, size_t len)
{
	const unsigned char *p = (const unsigned char *)key;
	uint64_t h = FNV_OFFSET;

	while (len-- > 0) {
		h ^= *p++;
		h *= FNV_PRIME;
	}
	/* FNV's low bits depend on little of the key: mix them all in. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* s[0..n) as a plain decimal number, no sign or space: 0, or -1. */
static int
parse_number(const char *s, size_t n, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * The ordinal a StatefulSet puts at the end of a pod's name, which is its
 * host name: "pulse-2", or "pulse-2.pulse.ns.svc" where the name is full.
 */
static int
host_ordinal(const char *host, unsigned count, unsigned *ordinal, char *errbuf,
    size_t errlen)
{
	size_t n = strcspn(host, "."), d = n;
	unsigned long long v;

	while (d > 0 && host[d - 1] >= '0' && host[d - 1] <= '9')
		d--;
	if (d < 2 || d == n || host[d - 1] != '-' ||
	    parse_number(host + d, n - d, &v) == -1) {
		snprintf(errbuf, errlen,
		    "auto/%u: host name '%.*s' does not end in -ORDINAL, as "
		    "the pods of a StatefulSet do (pulse-0, pulse-1...); "
		    "give K/N",
		    count, (int)n, host);
		return -1;
	}
	if (v >= count) {
		snprintf(errbuf, errlen,
		    "auto/%u: host name '%.*s' has ordinal %llu, but %u "
		    "shards take ordinals 0..%u: are there more replicas "
		    "than shards?",
		    count, (int)n, host, v, count, count - 1);
		return -1;
	}
	*ordinal = (unsigned)v;
	return 0;
}

int
shard_parse_host(const char *spec, const char *hostname, struct shard *s,
    char *errbuf, size_t errlen)
{
	const char *slash = strchr(spec, '/');
	unsigned long long k, n;
	unsigned ordinal;
	size_t klen;

	if (slash == NULL) {
		snprintf(errbuf, errlen, "'%s' is not K/N, as 2/5, nor auto/N",
		    spec);
		return -1;
	}
	klen = (size_t)(slash - spec);
	if (parse_number(slash + 1, strlen(slash + 1), &n) == -1 || n < 1 ||
	    n > SHARD_COUNT_MAX) {
		snprintf(errbuf, errlen,
		    "'%s': the count N must be a number 1..%d", spec,
		    SHARD_COUNT_MAX);
		return -1;
	}
	if (klen == 4 && strncmp(spec, "auto", 4) == 0) {
		if (host_ordinal(hostname != NULL ? hostname : "", (unsigned)n,
		        &ordinal, errbuf, errlen) == -1)
			return -1;
		k = ordinal + 1ULL;
	} else if (parse_number(spec, klen, &k) == -1 || k < 1 || k > n) {
		snprintf(errbuf, errlen,
		    "'%s': the shard K must be a number 1..%llu, or auto", spec,
		    n);
		return -1;
	}
	s->index = (unsigned)k;
	s->count = (unsigned)n;
	return 0;
}

int
shard_parse(const char *spec, struct shard *s, char *errbuf, size_t errlen)
{
	char host[256];

	if (strncmp(spec, "auto/", 5) != 0)
		return shard_parse_host(spec, NULL, s, errbuf, errlen);
	if (gethostname(host, sizeof(host)) == -1) {
		snprintf(errbuf, errlen, "auto: cannot read the host name");
		return -1;
	}
	host[sizeof(host) - 1] = '\0';
	return shard_parse_host(spec, host, s, errbuf, errlen);
}

bool
shard_keeps(const struct shard *s, const struct target *t)
{
	char key[TARGET_KEY_MAX];

	if (s->count == 0)
		return true;
	target_key(t, key, sizeof(key));
	return shard_hash(key, strlen(key)) % s->count == s->index - 1;
}

/* Moved targets: index them again, so the list still finds duplicates. */
static void
reindex(struct target_list *list)
{
	size_t i, j, mask = list->nslots - 1;

	if (list->nslots == 0)
		return;
	memset(list->slots, 0, list->nslots * sizeof(*list->slots));
	for (i = 0; i < list->n; i++) {
		for (j = list->hashes[i] & mask; list->slots[j] != 0;
		     j = (j + 1) & mask)
			;
		list->slots[j] = i + 1;
	}
}

static void
log_kept(const struct shard *s, size_t kept, size_t total)
{
	if (kept == 0 && total > 0)
		log_warnx("shard %u/%u keeps none of the %zu target%s",
		    s->index, s->count, total, total == 1 ? "" : "s");
	else
		log_info("shard %u/%u keeps %zu of %zu targets", s->index,
		    s->count, kept, total);
}

size_t
shard_filter(const struct shard *s, struct target_list *list)
{
	size_t i, j, total = list->n;

	if (s->count == 0)
		return total;
	for (i = 0, j = 0; i < list->n; i++) {
		if (!shard_keeps(s, &list->v[i])) {
			target_clear(&list->v[i]);
			continue;
		}
		if (j != i) {
			list->v[j] = list->v[i];
			list->hashes[j] = list->hashes[i];
			memset(&list->v[i], 0, sizeof(list->v[i]));
		}
		j++;
	}
	list->n = j;
	reindex(list);
	log_kept(s, j, total);
	return total;
}
