/* Body matching with PCRE2: JIT when it is there, limits always. */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "regex.h"
#include "util.h"

/*
 * Backtracking a pattern such as (a+)+b over a 1 MiB body could run for
 * hours; these stop it long before the probe's deadline would.
 */
#define REGEX_MATCH_LIMIT 10000000U
#define REGEX_DEPTH_LIMIT 10000U
#define REGEX_HEAP_LIMIT_KIB 65536U

struct regex {
	char *pattern;
	pcre2_code *code;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
};

/* Compile without JIT; NULL with the reason in errbuf. */
static pcre2_code *
compile(const char *pattern, char *errbuf, size_t errlen)
{
	PCRE2_UCHAR msg[128];
	PCRE2_SIZE off;
	pcre2_code *code;
	int err;

	/* Bodies need not be UTF-8: invalid sequences simply never match. */
	code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
	if (code == NULL) {
		pcre2_get_error_message(err, msg, sizeof(msg));
		snprintf(errbuf, errlen, "%s at offset %zu", (char *)msg,
		    (size_t)off);
	}
	return code;
}

int
regex_check(const char *pattern, char *errbuf, size_t errlen)
{
	pcre2_code *code = compile(pattern, errbuf, errlen);

	pcre2_code_free(code);
	return code != NULL ? 0 : -1;
}

struct regex *
regex_compile(const char *pattern, char *errbuf, size_t errlen)
{
	struct regex *re;
	pcre2_code *code;

	if ((code = compile(pattern, errbuf, errlen)) == NULL)
		return NULL;
	re = xcalloc(1, sizeof(*re));
	re->pattern = xstrdup(pattern);
	re->code = code;
	/* Without JIT support the interpreter does the same work, slower. */
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	re->md = pcre2_match_data_create(1, NULL);
	re->mctx = pcre2_match_context_create(NULL);
	if (re->md == NULL || re->mctx == NULL)
		fatalx("pcre2: out of memory");
	pcre2_set_match_limit(re->mctx, REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(re->mctx, REGEX_DEPTH_LIMIT);
	pcre2_set_heap_limit(re->mctx, REGEX_HEAP_LIMIT_KIB);
	return re;
}

int
regex_search(struct regex *re, const char *subject, size_t len, char *errbuf,
    size_t errlen)
{
	PCRE2_UCHAR msg[128];
	int rc;

	rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, re->md,
	    re->mctx);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	pcre2_get_error_message(rc, msg, sizeof(msg));
	snprintf(errbuf, errlen, "%s", (char *)msg);
	return -1;
}

const char *
regex_pattern(const struct regex *re)
{
	return re->pattern;
}

void
regex_free(struct regex *re)
{
	if (re == NULL)
		return;
	pcre2_match_context_free(re->mctx);
	pcre2_match_data_free(re->md);
	pcre2_code_free(re->code);
	free(re->pattern);
	free(re);
}
