/*
 * libFuzzer target for output_prom_label_value(): each input, up to its
 * first NUL, is one label value written between the quotes of a sample.
 * Beyond memory safety, what it writes must be a label value Prometheus
 * reads: no raw line break, no quote that is not escaped, only the
 * escapes \\ \" \n, and strict UTF-8.  Unescaped, it must give the value
 * back, with each byte of a value that is not UTF-8 shown as '?'.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

/*
 * Length of the UTF-8 sequence at s[0..n), 0 when it is not one (RFC
 * 3629: no overlong form, no surrogate, nothing past U+10FFFF).  Written
 * apart from utf8_valid() so that each checks the other.
 */
static size_t
seq_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (len > n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static bool
strict_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t len = seq_len(s + i, n - i);

		if (len == 0)
			return false;
		i += len;
	}
	return true;
}

/* Undo the escapes into out; false on a stray quote or a bad escape. */
static bool
unescape(const char *s, size_t n, char *out, size_t *outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\n' || s[i] == '"' || s[i] == '\0')
			return false;
		if (s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		if (++i == n)
			return false;
		if (s[i] == 'n')
			out[o++] = '\n';
		else if (s[i] == '\\' || s[i] == '"')
			out[o++] = s[i];
		else
			return false;
	}
	*outlen = o;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *value, *out = NULL, *back;
	size_t i, len, outlen = 0, backlen;
	bool valid;
	FILE *f;

	value = xmalloc(size + 1);
	memcpy(value, data, size);
	value[size] = '\0';
	len = strlen(value);
	valid = strict_utf8((const unsigned char *)value, len);
	CHECK(valid == (utf8_valid(value) != 0));

	f = open_memstream(&out, &outlen);
	CHECK(f != NULL);
	output_prom_label_value(f, value);
	CHECK(fclose(f) == 0);

	CHECK(strict_utf8((const unsigned char *)out, outlen));
	back = xmalloc(outlen + 1);
	CHECK(unescape(out, outlen, back, &backlen));
	CHECK(backlen == len);
	for (i = 0; i < len; i++) {
		if (valid || (unsigned char)value[i] < 0x80)
			CHECK(back[i] == value[i]);
		else
			CHECK(back[i] == '?');
	}
	free(back);
	free(out);
	free(value);
	return 0;
}
