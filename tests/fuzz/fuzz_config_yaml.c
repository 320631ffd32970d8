/*
 * libFuzzer target for the YAML targets file: each input is a whole file,
 * loaded with config_yaml_load_buffer().  Beyond memory safety and the
 * limits (no input may take unbounded time or memory), every target it
 * keeps must be a whole one: from this file, with a line, sorted labels,
 * and a canonical form and key that fit their buffers.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_yaml.h"
#include "log.h"
#include "target.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static const char fuzz_name[] = "fuzz.yaml";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FILE *null = fopen("/dev/null", "w");

	(void)argc;
	(void)argv;
	/*
	 * The loader logs every error it finds through stderr; libFuzzer
	 * and the sanitizers report on their own copy of it and on fd 2,
	 * which stay as they are.
	 */
	if (null != NULL)
		stderr = null;
	log_init("fuzz", LOG_LEVEL_ERROR);
	return 0;
}

static void
check_target(const struct target *t)
{
	char buf[TARGET_KEY_MAX];
	unsigned i;

	CHECK(t->file == fuzz_name && t->line >= 1);
	CHECK(t->spec != NULL && t->host != NULL);
	CHECK(t->kind == TARGET_TCP || t->kind == TARGET_ICMP ||
	    t->kind == TARGET_HTTP);
	CHECK((t->kind == TARGET_HTTP) == (t->http != NULL));
	CHECK(t->nlabels <= TARGET_LABELS_MAX);
	for (i = 1; i < t->nlabels; i++)
		CHECK(strcmp(t->labels[i - 1].name, t->labels[i].name) < 0);
	target_canonical(t, buf, sizeof(buf));
	CHECK(strlen(buf) < sizeof(buf) - 1);
	target_key(t, buf, sizeof(buf));
	CHECK(strlen(target_name(t)) > 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct target_list list;
	size_t i;
	int rc;

	memset(&list, 0, sizeof(list));
	rc =
	    config_yaml_load_buffer(fuzz_name, (const char *)data, size, &list);
	CHECK(rc == 0 || rc == -1);
	CHECK((rc == -1) == (list.errors > 0));
	for (i = 0; i < list.n; i++)
		check_target(&list.v[i]);
	target_list_free(&list);
	return 0;
}
