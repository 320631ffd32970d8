/* Output formats by name, and the streamed one-object-a-line writer. */
#include "config.h"

#include <json-c/json.h>
#include <string.h>

#include "output.h"
#include "output_json.h"

static const char *const output_names[] = {
    [OUTPUT_TABLE] = "table",
    [OUTPUT_JSON] = "json",
    [OUTPUT_JSONL] = "jsonl",
    [OUTPUT_YAML] = "yaml",
    [OUTPUT_PROMETHEUS] = "prometheus",
};

int
output_format_parse(const char *name, enum output_format *out)
{
	size_t i;

	for (i = 0; i < sizeof(output_names) / sizeof(output_names[0]); i++)
		if (strcmp(name, output_names[i]) == 0) {
			*out = (enum output_format)i;
			return 0;
		}
	return -1;
}

const char *
output_format_name(enum output_format f)
{
	return output_names[f];
}

int
output_jsonl_write_result(FILE *f, const struct target *t,
    const struct result *r, int64_t default_timeout_us)
{
	json_object *o = output_json_result(t, r, default_timeout_us);

	fputs(json_object_to_json_string_ext(o,
	          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	    f);
	fputc('\n', f);
	json_object_put(o);
	return ferror(f) ? -1 : 0;
}
