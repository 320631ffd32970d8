/* Body matching with PCRE2, bounded so a hostile body cannot stall a worker. */
#ifndef PULSE_REGEX_H
#define PULSE_REGEX_H

#include <stddef.h>

struct regex;

/* Compile pattern; NULL with a reason ("missing ) at offset 3") in errbuf. */
struct regex *regex_compile(const char *pattern, char *errbuf, size_t errlen);
/* Only check that pattern compiles: 0, or -1 with a reason. */
int regex_check(const char *pattern, char *errbuf, size_t errlen);
/*
 * Search subject (len bytes, NULs allowed, any encoding): 1 when it
 * matches, 0 when not, -1 with a reason when the match was cut short by
 * its limits.
 */
int regex_search(struct regex *, const char *subject, size_t len, char *errbuf,
    size_t errlen);
const char *regex_pattern(const struct regex *);
void regex_free(struct regex *);

#endif
