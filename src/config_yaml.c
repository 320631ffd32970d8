/*
 * Targets from a YAML file: defaults, named modules and targets.
 *
 * The file is read whole (64 MiB at most) and walked with libyaml's event
 * parser twice: the first pass reads defaults and modules, the second the
 * targets, so that the order of the three sections does not matter and no
 * target need be held back.  Nothing builds a tree of the document: each
 * entry is collected, turned into targets through the same calls the line
 * format makes, and freed.  Every structure is bounded: nesting, keys in a
 * mapping, the length of a scalar, the number of targets.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "config_yaml.h"
#include "log.h"
#include "target.h"
#include "util.h"

#define CY_FILE_MAX (64UL << 20)
#define CY_DEPTH_MAX 16
#define CY_KEYS_MAX 100000
#define CY_SCALAR_MAX 65536
#define CY_TARGETS_MAX 1000000
#define CY_ITEMS_MAX 1024 /* values in the sequence of one option */
#define CY_MODULE_NAME_MAX 64
#define CY_ERRORS_SHOWN 100 /* messages kept per pass, and printed */
#define CY_SUGGEST_MAX 1000 /* candidates a "did you mean" weighs */
#define CY_SUGGEST_LEN 64   /* longer words get no suggestion */
#define CY_SHOWN_MAX 80     /* of a key or name quoted in a message */

/* Where something is in the file, 1-based; line 0 is the file itself. */
struct cy_pos {
	unsigned line, col;
};

struct cy_err {
	struct cy_pos at;
	size_t seq; /* keeps messages at one place in the order made */
	bool fatal; /* why reading stopped: always shown */
	char *msg;
};

/* One key of an entry, a module or the defaults, with its value. */
struct cy_opt {
	char *key; /* an option key, or "label.NAME" */
	char **vals;
	size_t nvals;
	bool seq;  /* written as a sequence */
	bool bare; /* insecure: true, applied as the bare flag */
	struct cy_pos at;
};

struct cy_optset {
	struct cy_opt *v;
	size_t n;
};

/* A set of strings, by hash: the keys of one mapping, or module names. */
struct cy_strset {
	char **s;
	uint64_t *h;
	struct cy_pos *at;
	size_t n, cap;
	size_t *slots; /* index + 1, 0 free */
	size_t nslots;
};

struct cy_module {
	char *name;
	enum target_kind kind; /* 0 until kind: is read */
	bool bad;
	struct cy_optset opts;
};

/* One open mapping or sequence: how many nodes it holds so far. */
struct cy_level {
	bool mapping;
	size_t nodes;
};

struct cy {
	const char *file;
	const char *buf;
	size_t len;
	yaml_parser_t parser;
	yaml_event_t ev;
	bool have_ev;
	int pass;      /* 1: defaults and modules, 2: targets */
	bool stop;     /* a syntax error or a limit: read no further */
	bool bad_node; /* the node just begun was refused already */
	bool mute;     /* the second pass over the top mapping: said already */
	int depth;
	struct cy_level level[CY_DEPTH_MAX + 1];
	struct cy_err *errs;
	size_t nerrs, errs_this_pass, seq;
	unsigned errors; /* every error, shown or not */
	struct cy_optset defaults;
	struct cy_module *mods; /* by index in modnames */
	size_t modscap;
	struct cy_strset modnames;
	size_t ntargets;
	struct target_list *list;
};

/* What building one entry needs: its options, module and position. */
struct cy_entry {
	struct cy *cy;
	struct cy_optset opts;
	char *target;
	char *module;
	struct cy_pos at, target_at, module_at;
	bool bad;
};

/* The keys of the line format's options, every kind. */
static const char *const cy_option_keys[] = {"name", "timeout", "every", "ipv",
    "count", "interval", "size", "ttl", "method", "header", "body", "body_file",
    "expect", "match", "not_match", "follow", "insecure", "ca", "host", "sni",
    "http_version", "max_body"};
#define CY_NOPTION_KEYS (sizeof(cy_option_keys) / sizeof(cy_option_keys[0]))

static const char *const cy_top_keys[] = {"defaults", "modules", "targets"};
static const char *const cy_defaults_keys[] = {"timeout", "interval", "labels"};
static const char *const cy_entry_keys[] = {"target", "module", "labels"};
static const char *const cy_module_keys[] = {"kind", "labels"};

static bool cy_skip(struct cy *);
static void cy_error(struct cy *, struct cy_pos, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void cy_event_error(struct cy *, struct cy_pos, bool, const char *, ...)
    __attribute__((format(printf, 4, 5)));

/* --- messages ------------------------------------------------------------ */

/*
 * A word from the file as a message shows it: at most CY_SHOWN_MAX bytes,
 * control characters as '?', so that no file can write to a terminal.
 */
static const char *
cy_shown(const char *s, char *buf, size_t len)
{
	size_t i, n = 0;

	for (i = 0; s[i] != '\0' && n + 4 < len; i++) {
		if (i == CY_SHOWN_MAX) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		buf[n++] =
		    (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	}
	buf[n] = '\0';
	return buf;
}

/* True once this pass keeps no more messages: skip the work of one. */
static bool
cy_quiet(const struct cy *cy)
{
	return cy->mute || cy->errs_this_pass >= CY_ERRORS_SHOWN;
}

static void
cy_record(struct cy *cy, struct cy_pos at, bool fatal, const char *text)
{
	char *msg;
	size_t i;

	cy->errors++;
	if (!fatal && cy->errs_this_pass >= CY_ERRORS_SHOWN)
		return;
	xasprintf(&msg, "%s", text);
	for (i = 0; msg[i] != '\0'; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = '?';
	cy->errs = xreallocarray(cy->errs, cy->nerrs + 1, sizeof(*cy->errs));
	cy->errs[cy->nerrs].at = at;
	cy->errs[cy->nerrs].seq = cy->seq++;
	cy->errs[cy->nerrs].fatal = fatal;
	cy->errs[cy->nerrs++].msg = msg;
	cy->errs_this_pass++;
}

/* An error at a place in the file; kept for printing in file order. */
static void
cy_error(struct cy *cy, struct cy_pos at, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	if (cy->mute)
		return;
	if (cy->errs_this_pass >= CY_ERRORS_SHOWN) {
		cy->errors++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	cy_record(cy, at, false, text);
}

/*
 * An error the event layer finds (alias, limits): the first pass sees the
 * whole document, so the second says nothing of these.
 */
static void
cy_event_error(struct cy *cy, struct cy_pos at, bool fatal, const char *fmt,
    ...)
{
	char text[1024];
	va_list ap;

	if (fatal)
		cy->stop = true;
	if (cy->pass != 1)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	cy_record(cy, at, fatal, text);
}

static int
cy_err_cmp(const void *a, const void *b)
{
	const struct cy_err *x = a, *y = b;

	if (x->at.line != y->at.line)
		return x->at.line < y->at.line ? -1 : 1;
	if (x->at.col != y->at.col)
		return x->at.col < y->at.col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Print what was kept, in file order: CY_ERRORS_SHOWN and any fatal. */
static void
cy_flush_errors(struct cy *cy)
{
	size_t i, shown = 0;

	if (cy->nerrs > 1)
		qsort(cy->errs, cy->nerrs, sizeof(*cy->errs), cy_err_cmp);
	for (i = 0; i < cy->nerrs; i++) {
		if (shown < CY_ERRORS_SHOWN || cy->errs[i].fatal) {
			if (cy->errs[i].at.line == 0)
				log_errorx("%s: %s", cy->file, cy->errs[i].msg);
			else
				log_errorx("%s:%u:%u: %s", cy->file,
				    cy->errs[i].at.line, cy->errs[i].at.col,
				    cy->errs[i].msg);
			shown++;
		}
		free(cy->errs[i].msg);
	}
	if (cy->errors > shown)
		log_errorx("%s: %zu more errors not shown", cy->file,
		    (size_t)cy->errors - shown);
	free(cy->errs);
	cy->errs = NULL;
	cy->nerrs = 0;
}

/* --- did you mean -------------------------------------------------------- */

/* Levenshtein distance of a and b, or 3 once it must be more than 2. */
static unsigned
cy_distance(const char *a, const char *b)
{
	unsigned row[CY_SUGGEST_LEN + 1], diag, up, best, cost;
	size_t la = strlen(a), lb = strlen(b), i, j;

	if (la > CY_SUGGEST_LEN || lb > CY_SUGGEST_LEN ||
	    (la > lb ? la - lb : lb - la) > 2)
		return 3;
	for (j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = (unsigned)i;
		best = row[0];
		for (j = 1; j <= lb; j++) {
			up = row[j];
			cost = a[i - 1] == b[j - 1] ? 0 : 1;
			row[j] = diag + cost;
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
			if (row[j] < best)
				best = row[j];
		}
		if (best > 2)
			return 3;
	}
	return row[lb] > 2 ? 3 : row[lb];
}

struct cy_suggest {
	const char *word;
	const char *best;
	unsigned dist;
	size_t seen;
};

static void
cy_consider(struct cy_suggest *s, const char *candidate)
{
	unsigned d;

	if (s->seen++ >= CY_SUGGEST_MAX)
		return;
	d = cy_distance(s->word, candidate);
	if (d <= 2 && d < s->dist) {
		s->dist = d;
		s->best = candidate;
	}
}

static void
cy_consider_list(struct cy_suggest *s, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cy_consider(s, v[i]);
}

/* " (did you mean 'timeout'?)" when one is close, else "". */
static const char *
cy_did_you_mean(const struct cy_suggest *s, char *buf, size_t len)
{
	if (s->best == NULL)
		return "";
	snprintf(buf, len, " (did you mean '%s'?)", s->best);
	return buf;
}

/* --- sets of strings ----------------------------------------------------- */

/* The slot holding s, or the free slot where it would go. */
static size_t *
cy_strset_slot(const struct cy_strset *set, const char *s, uint64_t h)
{
	size_t j = h & (set->nslots - 1), *slot;

	for (;; j = (j + 1) & (set->nslots - 1)) {
		slot = &set->slots[j];
		if (*slot == 0 ||
		    (set->h[*slot - 1] == h &&
		        strcmp(set->s[*slot - 1], s) == 0))
			return slot;
	}
}

/* Index of s in the set, or -1. */
static long
cy_strset_find(const struct cy_strset *set, const char *s)
{
	size_t *slot;

	if (set->n == 0)
		return -1;
	slot = cy_strset_slot(set, s, hash_bytes(s, strlen(s)));
	return *slot == 0 ? -1 : (long)(*slot - 1);
}

static void
cy_strset_grow(struct cy_strset *set)
{
	size_t i, j, nslots = set->nslots ? set->nslots * 2 : 16;

	free(set->slots);
	set->slots = xcalloc(nslots, sizeof(*set->slots));
	set->nslots = nslots;
	for (i = 0; i < set->n; i++) {
		j = set->h[i] & (nslots - 1);
		while (set->slots[j] != 0)
			j = (j + 1) & (nslots - 1);
		set->slots[j] = i + 1;
	}
}

/* Add s (copied) unless there; its index either way, *added says which. */
static size_t
cy_strset_add(struct cy_strset *set, const char *s, struct cy_pos at,
    bool *added)
{
	uint64_t h = hash_bytes(s, strlen(s));
	size_t *slot;

	if (2 * (set->n + 1) > set->nslots)
		cy_strset_grow(set);
	slot = cy_strset_slot(set, s, h);
	if ((*added = *slot == 0) == false)
		return *slot - 1;
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 8;
		set->s = xreallocarray(set->s, set->cap, sizeof(*set->s));
		set->h = xreallocarray(set->h, set->cap, sizeof(*set->h));
		set->at = xreallocarray(set->at, set->cap, sizeof(*set->at));
	}
	set->s[set->n] = xstrdup(s);
	set->h[set->n] = h;
	set->at[set->n] = at;
	*slot = ++set->n;
	return set->n - 1;
}

static void
cy_strset_free(struct cy_strset *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		free(set->s[i]);
	free(set->s);
	free(set->h);
	free(set->at);
	free(set->slots);
	memset(set, 0, sizeof(*set));
}

/* --- option sets --------------------------------------------------------- */

static struct cy_opt *
cy_optset_add(struct cy_optset *set, const char *key, struct cy_pos at)
{
	struct cy_opt *o;

	set->v = xreallocarray(set->v, set->n + 1, sizeof(*set->v));
	o = &set->v[set->n++];
	memset(o, 0, sizeof(*o));
	o->key = xstrdup(key);
	o->at = at;
	return o;
}

static void
cy_opt_push(struct cy_opt *o, const char *val)
{
	o->vals = xreallocarray(o->vals, o->nvals + 1, sizeof(*o->vals));
	o->vals[o->nvals++] = xstrdup(val);
}

static bool
cy_optset_has(const struct cy_optset *set, const char *key)
{
	size_t i;

	for (i = 0; set != NULL && i < set->n; i++)
		if (strcmp(set->v[i].key, key) == 0)
			return true;
	return false;
}

static void
cy_optset_clear(struct cy_optset *set)
{
	size_t i, j;

	for (i = 0; i < set->n; i++) {
		free(set->v[i].key);
		for (j = 0; j < set->v[i].nvals; j++)
			free(set->v[i].vals[j]);
		free(set->v[i].vals);
	}
	free(set->v);
	memset(set, 0, sizeof(*set));
}

/* The option to a target as the line format would give it. */
static int
cy_apply(struct target *t, const struct cy_opt *o, char *why, size_t len)
{
	char *joined;
	size_t i, n;
	int rc;

	if (o->bare)
		return target_apply_option(t, o->key, NULL, why, len);
	if (o->seq && strcmp(o->key, "expect") == 0) {
		for (i = 0, n = 1; i < o->nvals; i++)
			n += strlen(o->vals[i]) + 1;
		joined = xmalloc(n);
		for (i = 0, n = 0; i < o->nvals; i++) {
			if (i > 0)
				joined[n++] = ',';
			memcpy(joined + n, o->vals[i], strlen(o->vals[i]));
			n += strlen(o->vals[i]);
		}
		joined[n] = '\0';
		rc = target_apply_option(t, o->key, joined, why, len);
		free(joined);
		return rc;
	}
	for (i = 0; i < o->nvals; i++)
		if (target_apply_option(t, o->key, o->vals[i], why, len) == -1)
			return -1;
	return 0;
}

/* --- events -------------------------------------------------------------- */

static struct cy_pos
cy_mark(const yaml_mark_t *m)
{
	struct cy_pos p = {(unsigned)m->line + 1, (unsigned)m->column + 1};

	return p;
}

static struct cy_pos
cy_at(const struct cy *cy)
{
	return cy_mark(&cy->ev.start_mark);
}

/* Line and column (in characters) of a byte offset into the file. */
static struct cy_pos
cy_offset_pos(const struct cy *cy, size_t off)
{
	struct cy_pos p = {1, 1};
	size_t i;

	for (i = 0; i < off && i < cy->len; i++) {
		/* Line breaks as YAML counts them: \n, \r\n and a lone \r. */
		if (cy->buf[i] == '\n' ||
		    (cy->buf[i] == '\r' &&
		        (i + 1 == cy->len || cy->buf[i + 1] != '\n'))) {
			p.line++;
			p.col = 1;
		} else if (((unsigned char)cy->buf[i] & 0xc0) != 0x80)
			p.col++;
	}
	return p;
}

static void
cy_syntax_error(struct cy *cy)
{
	const yaml_parser_t *p = &cy->parser;
	struct cy_pos at, ctx;
	const char *problem = p->problem ? p->problem : "syntax error";

	if (p->error == YAML_READER_ERROR)
		at = cy_offset_pos(cy, p->problem_offset);
	else
		at = cy_mark(&p->problem_mark);
	if (p->context != NULL) {
		ctx = cy_mark(&p->context_mark);
		cy_event_error(cy, at, true, "%s (%s at %u:%u)", problem,
		    p->context, ctx.line, ctx.col);
	} else
		cy_event_error(cy, at, true, "%s", problem);
}

/* A node begins: count it in the open mapping or sequence. */
static void
cy_node_begins(struct cy *cy)
{
	struct cy_level *l = &cy->level[cy->depth];

	if (cy->depth == 0)
		return;
	if (l->mapping && l->nodes % 2 == 0 && l->nodes / 2 >= CY_KEYS_MAX)
		cy_event_error(cy, cy_at(cy), true,
		    "more than %d keys in a mapping", CY_KEYS_MAX);
	l->nodes++;
}

static void
cy_check_node(struct cy *cy, const yaml_char_t *anchor)
{
	cy_node_begins(cy);
	if (anchor != NULL || cy->ev.type == YAML_ALIAS_EVENT) {
		cy_event_error(cy, cy_at(cy), false,
		    "anchors and aliases are not supported; use modules");
		cy->bad_node = true;
	}
}

/*
 * The next event, checked against the limits; false when reading must
 * stop.  A node refused here (an alias, an anchor, a scalar too long) has
 * bad_node set: its reader skips it without another word.
 */
static bool
cy_next(struct cy *cy)
{
	yaml_event_t *ev = &cy->ev;

	if (cy->have_ev)
		yaml_event_delete(ev);
	cy->have_ev = false;
	cy->bad_node = false;
	if (cy->stop)
		return false;
	if (!yaml_parser_parse(&cy->parser, ev)) {
		cy_syntax_error(cy);
		return false;
	}
	cy->have_ev = true;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		cy_check_node(cy, NULL);
		break;
	case YAML_SCALAR_EVENT:
		cy_check_node(cy, ev->data.scalar.anchor);
		if (ev->data.scalar.length > CY_SCALAR_MAX) {
			cy_event_error(cy, cy_at(cy), false,
			    "a scalar longer than %d bytes", CY_SCALAR_MAX);
			cy->bad_node = true;
		} else if (memchr(ev->data.scalar.value, '\0',
		               ev->data.scalar.length) != NULL) {
			/* "\0" in double quotes: no C string holds it */
			cy_event_error(cy, cy_at(cy), false,
			    "a NUL character in a scalar");
			cy->bad_node = true;
		}
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		cy_check_node(cy,
		    ev->type == YAML_MAPPING_START_EVENT
		        ? ev->data.mapping_start.anchor
		        : ev->data.sequence_start.anchor);
		if (cy->depth == CY_DEPTH_MAX) {
			cy_event_error(cy, cy_at(cy), true,
			    "nesting deeper than %d levels", CY_DEPTH_MAX);
			return false;
		}
		cy->depth++;
		cy->level[cy->depth].mapping =
		    ev->type == YAML_MAPPING_START_EVENT;
		cy->level[cy->depth].nodes = 0;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		cy->depth--;
		break;
	default:
		break;
	}
	return !cy->stop;
}

/* Skip the node begun by the current event, ending on its last event. */
static bool
cy_skip(struct cy *cy)
{
	int depth = cy->depth;

	if (cy->ev.type != YAML_SEQUENCE_START_EVENT &&
	    cy->ev.type != YAML_MAPPING_START_EVENT)
		return true;
	while (cy_next(cy))
		if ((cy->ev.type == YAML_SEQUENCE_END_EVENT ||
		        cy->ev.type == YAML_MAPPING_END_EVENT) &&
		    cy->depth == depth - 1)
			return true;
	return false;
}

static bool
cy_is_scalar(const struct cy *cy)
{
	return cy->ev.type == YAML_SCALAR_EVENT;
}

static const char *
cy_scalar(const struct cy *cy)
{
	return (const char *)cy->ev.data.scalar.value;
}

/* A plain scalar YAML reads as null: empty, "~" or "null". */
static bool
cy_is_null(const struct cy *cy)
{
	const char *s = cy_scalar(cy);

	return cy->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (*s == '\0' || !strcmp(s, "~") || !strcmp(s, "null") ||
	        !strcmp(s, "Null") || !strcmp(s, "NULL"));
}

/* A plain YAML boolean: 1 true, 0 false, -1 neither. */
static int
cy_boolean(const struct cy *cy)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
	    "YES", "on", "On", "ON"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No",
	    "NO", "off", "Off", "OFF"};
	size_t i;

	if (cy->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return -1;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(cy_scalar(cy), yes[i]) == 0)
			return 1;
		if (strcmp(cy_scalar(cy), no[i]) == 0)
			return 0;
	}
	return -1;
}

static const char *
cy_node_kind(const struct cy *cy)
{
	switch (cy->ev.type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a sequence";
	default:
		return "a scalar";
	}
}

/*
 * Move to the next key of the mapping being read.  Returns 1 with *key (it
 * lives in seen) and *at set and the value's first event current, 0 at
 * the end of the mapping, -1 when reading stopped.  Keys that are no
 * scalars and repeated keys are reported, and skipped with their values.
 */
static int
cy_map_next(struct cy *cy, struct cy_strset *seen, const char **key,
    struct cy_pos *at)
{
	char shown[CY_SHOWN_MAX + 8];
	bool added, bad;
	size_t i;

	for (;;) {
		if (!cy_next(cy))
			return -1;
		if (cy->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		*at = cy_at(cy);
		bad = cy->bad_node;
		if (!bad && !cy_is_scalar(cy)) {
			cy_error(cy, *at, "a key must be a scalar, not %s",
			    cy_node_kind(cy));
			bad = true;
		}
		if (bad) {
			if (!cy_skip(cy) || !cy_next(cy) || !cy_skip(cy))
				return -1;
			continue;
		}
		i = cy_strset_add(seen, cy_scalar(cy), *at, &added);
		if (!cy_next(cy))
			return -1;
		if (!added) {
			cy_error(cy, *at,
			    "duplicate key '%s' (first on line %u)",
			    cy_shown(seen->s[i], shown, sizeof(shown)),
			    seen->at[i].line);
			if (!cy_skip(cy))
				return -1;
			continue;
		}
		*key = seen->s[i];
		return 1;
	}
}

/* --- values -------------------------------------------------------------- */

/*
 * Read the value of option key into a new option of set; false, with the
 * value skipped, when it is of the wrong type.
 */
static bool
cy_read_option(struct cy *cy, struct cy_optset *set, const char *key)
{
	bool list = !strcmp(key, "expect") || !strcmp(key, "header");
	struct cy_opt *o;
	struct cy_pos at = cy_at(cy);
	int b;

	if (cy->bad_node) {
		cy_skip(cy);
		return false;
	}
	if (cy_is_scalar(cy)) {
		if (cy_is_null(cy)) {
			cy_error(cy, at, "'%s' needs a value", key);
			return false;
		}
		o = cy_optset_add(set, key, at);
		b = strcmp(key, "insecure") == 0 ? cy_boolean(cy) : -1;
		if (b == 1)
			o->bare = true;
		else
			cy_opt_push(o, b == 0 ? "no" : cy_scalar(cy));
		return true;
	}
	if (!list || cy->ev.type != YAML_SEQUENCE_START_EVENT) {
		cy_error(cy, at, "'%s' takes %s, not %s", key,
		    list ? "a scalar or a sequence of scalars" : "a scalar",
		    cy_node_kind(cy));
		cy_skip(cy);
		return false;
	}
	o = cy_optset_add(set, key, at);
	o->seq = true;
	while (cy_next(cy) && cy->ev.type != YAML_SEQUENCE_END_EVENT) {
		if (cy->bad_node || !cy_is_scalar(cy) || cy_is_null(cy) ||
		    o->nvals == CY_ITEMS_MAX) {
			if (!cy->bad_node)
				cy_error(cy, cy_at(cy), "%s",
				    o->nvals == CY_ITEMS_MAX
				        ? "more than 1024 values in a sequence"
				        : "a value in this sequence must be a "
				          "scalar");
			set->n--;
			free(o->key);
			while (o->nvals > 0)
				free(o->vals[--o->nvals]);
			free(o->vals);
			/* Skip this item and the rest of the sequence. */
			if (cy_skip(cy))
				while (cy_next(cy) &&
				    cy->ev.type != YAML_SEQUENCE_END_EVENT)
					cy_skip(cy);
			return false;
		}
		cy_opt_push(o, cy_scalar(cy));
	}
	return !cy->stop;
}

/*
 * labels: {name: value, ...} into set as "label.NAME" options, each
 * checked on scratch as the line format's label.NAME= would be.
 */
static void
cy_read_labels(struct cy *cy, struct cy_optset *set, struct target *scratch)
{
	struct cy_strset seen = {0};
	char key[TARGET_LABEL_NAME_MAX + 16], why[512];
	const char *name;
	struct cy_pos at;
	struct cy_opt *o;
	bool full = false;

	if (cy->bad_node) {
		cy_skip(cy);
		return;
	}
	if (cy->ev.type != YAML_MAPPING_START_EVENT) {
		if (!cy_is_scalar(cy) || !cy_is_null(cy))
			cy_error(cy, cy_at(cy),
			    "'labels' must be a mapping of names to values");
		cy_skip(cy);
		return;
	}
	while (cy_map_next(cy, &seen, &name, &at) == 1) {
		if (cy->bad_node || !cy_is_scalar(cy) || cy_is_null(cy)) {
			if (!cy->bad_node)
				cy_error(cy, cy_at(cy),
				    "label '%s' must have a scalar value",
				    cy_shown(name, why, sizeof(why)));
			cy_skip(cy);
			continue;
		}
		if (full)
			continue;
		if (target_set_label(scratch, name, cy_scalar(cy), why,
		        sizeof(why)) == -1) {
			cy_error(cy, at, "%s", why);
			full = scratch->nlabels == TARGET_LABELS_MAX;
			continue;
		}
		snprintf(key, sizeof(key), "label.%s", name);
		o = cy_optset_add(set, key, at);
		cy_opt_push(o, cy_scalar(cy));
	}
	cy_strset_free(&seen);
}

/* A target to check options on before any real target is built. */
static void
cy_scratch(struct target *t, enum target_kind kind)
{
	char why[256];
	const char *spec = kind == TARGET_HTTP ? "http://127.0.0.1/"
	    : kind == TARGET_ICMP              ? "127.0.0.1"
	                                       : "127.0.0.1:1";

	memset(t, 0, sizeof(*t));
	if (target_parse_spec(spec, t, why, sizeof(why)) == -1)
		fatalx("cy_scratch: %s", why);
}

/* Check the options of set on a scratch target; blank the bad ones. */
static bool
cy_check_options(struct cy *cy, struct cy_optset *set, enum target_kind kind,
    const char *rename)
{
	struct target t;
	char why[512];
	size_t i;
	bool ok = true;

	cy_scratch(&t, kind);
	for (i = 0; i < set->n; i++) {
		if (cy_apply(&t, &set->v[i], why, sizeof(why)) == -1) {
			/* defaults' interval: is every= of each target */
			if (rename != NULL && !strncmp(why, "every=", 6))
				cy_error(cy, set->v[i].at, "%s=%s", rename,
				    why + 6);
			else
				cy_error(cy, set->v[i].at, "%s", why);
			ok = false;
			free(set->v[i].key);
			set->v[i].key = xstrdup("");
		}
	}
	target_clear(&t);
	return ok;
}

/* --- defaults and modules ------------------------------------------------ */

static void
cy_unknown_key(struct cy *cy, struct cy_pos at, const char *key,
    const char *const *known, size_t nknown, bool options)
{
	struct cy_suggest s = {key, NULL, 3, 0};
	char shown[CY_SHOWN_MAX + 8], dym[128];

	if (cy_quiet(cy)) {
		cy_error(cy, at, "unknown key");
		return;
	}
	cy_consider_list(&s, known, nknown);
	if (options)
		cy_consider_list(&s, cy_option_keys, CY_NOPTION_KEYS);
	cy_error(cy, at, "unknown key '%s'%s",
	    cy_shown(key, shown, sizeof(shown)),
	    cy_did_you_mean(&s, dym, sizeof(dym)));
}

static bool
cy_is_option(const char *key)
{
	size_t i;

	if (strncmp(key, "label.", 6) == 0)
		return true;
	for (i = 0; i < CY_NOPTION_KEYS; i++)
		if (strcmp(key, cy_option_keys[i]) == 0)
			return true;
	return false;
}

/* A mapping where a section was expected: or null, read as empty. */
static bool
cy_section(struct cy *cy, const char *name, yaml_event_type_t want,
    const char *what)
{
	if (cy->bad_node) {
		cy_skip(cy);
		return false;
	}
	if (cy->ev.type == want)
		return true;
	if (!cy_is_scalar(cy) || !cy_is_null(cy))
		cy_error(cy, cy_at(cy), "'%s' must be %s", name, what);
	cy_skip(cy);
	return false;
}

static void
cy_read_defaults(struct cy *cy)
{
	struct cy_strset seen = {0};
	struct target scratch;
	const char *key;
	struct cy_pos at;

	if (!cy_section(cy, "defaults", YAML_MAPPING_START_EVENT,
	        "a mapping (timeout, interval, labels)"))
		return;
	cy_scratch(&scratch, TARGET_TCP);
	while (cy_map_next(cy, &seen, &key, &at) == 1) {
		if (strcmp(key, "timeout") == 0)
			cy_read_option(cy, &cy->defaults, "timeout");
		else if (strcmp(key, "interval") == 0)
			cy_read_option(cy, &cy->defaults, "every");
		else if (strcmp(key, "labels") == 0)
			cy_read_labels(cy, &cy->defaults, &scratch);
		else {
			cy_unknown_key(cy, at, key, cy_defaults_keys, 3, false);
			cy_skip(cy);
		}
	}
	target_clear(&scratch);
	cy_strset_free(&seen);
	cy_check_options(cy, &cy->defaults, TARGET_TCP, "interval");
}

static bool
cy_module_name_ok(const char *name)
{
	size_t n = strspn(name,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

	return n > 0 && n <= CY_MODULE_NAME_MAX && name[n] == '\0';
}

static void
cy_read_kind(struct cy *cy, struct cy_module *m)
{
	static const enum target_kind kinds[] = {TARGET_TCP, TARGET_ICMP,
	    TARGET_HTTP};
	char shown[CY_SHOWN_MAX + 8];
	size_t i;

	if (cy->bad_node || !cy_is_scalar(cy)) {
		if (!cy->bad_node)
			cy_error(cy, cy_at(cy), "'kind' takes a scalar, not %s",
			    cy_node_kind(cy));
		cy_skip(cy);
		m->bad = true;
		return;
	}
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(cy_scalar(cy), target_kind_name(kinds[i])) == 0) {
			m->kind = kinds[i];
			return;
		}
	cy_error(cy, cy_at(cy), "kind '%s': must be tcp, icmp or http",
	    cy_shown(cy_scalar(cy), shown, sizeof(shown)));
	m->bad = true;
}

/* One module's mapping; m->name is set, m->bad says whether it is used. */
static void
cy_read_module(struct cy *cy, struct cy_module *m, struct cy_pos at)
{
	struct cy_strset seen = {0};
	struct target scratch;
	const char *key;
	struct cy_pos kat;
	unsigned before;
	bool has_kind = false;

	if (cy->bad_node || cy->ev.type != YAML_MAPPING_START_EVENT) {
		if (!cy->bad_node)
			cy_error(cy, cy_at(cy),
			    "module '%s' must be a mapping, not %s", m->name,
			    cy_node_kind(cy));
		cy_skip(cy);
		m->bad = true;
		return;
	}
	cy_scratch(&scratch, TARGET_TCP);
	while (cy_map_next(cy, &seen, &key, &kat) == 1) {
		if (strcmp(key, "kind") == 0) {
			has_kind = true;
			cy_read_kind(cy, m);
		} else if (strcmp(key, "labels") == 0) {
			before = cy->errors;
			cy_read_labels(cy, &m->opts, &scratch);
			m->bad |= cy->errors != before;
		} else if (cy_is_option(key)) {
			if (!cy_read_option(cy, &m->opts, key))
				m->bad = true;
		} else {
			cy_unknown_key(cy, kat, key, cy_module_keys, 2, true);
			cy_skip(cy);
			m->bad = true;
		}
	}
	target_clear(&scratch);
	cy_strset_free(&seen);
	if (!has_kind) {
		cy_error(cy, at, "module '%s' needs kind: tcp, icmp or http",
		    m->name);
		m->bad = true;
	}
	if (m->kind != 0 && !cy_check_options(cy, &m->opts, m->kind, NULL))
		m->bad = true;
}

static void
cy_read_modules(struct cy *cy)
{
	struct cy_strset seen = {0};
	char shown[CY_SHOWN_MAX + 8];
	struct cy_module *m;
	const char *name;
	struct cy_pos at;
	unsigned before;
	bool added;

	if (!cy_section(cy, "modules", YAML_MAPPING_START_EVENT,
	        "a mapping of names to modules"))
		return;
	while (cy_map_next(cy, &seen, &name, &at) == 1) {
		if (!cy_module_name_ok(name)) {
			cy_error(cy, at,
			    "module name '%s': 1 to %d letters, digits, '_' "
			    "and '-'",
			    cy_shown(name, shown, sizeof(shown)),
			    CY_MODULE_NAME_MAX);
			cy_skip(cy);
			continue;
		}
		cy_strset_add(&cy->modnames, name, at, &added);
		if (cy->modnames.n > cy->modscap) {
			cy->modscap = cy->modscap ? cy->modscap * 2 : 8;
			cy->mods = xreallocarray(cy->mods, cy->modscap,
			    sizeof(*cy->mods));
		}
		m = &cy->mods[cy->modnames.n - 1];
		memset(m, 0, sizeof(*m));
		m->name = cy->modnames.s[cy->modnames.n - 1];
		before = cy->errors;
		cy_read_module(cy, m, at);
		m->bad |= cy->errors != before;
	}
	cy_strset_free(&seen);
}

/* --- targets ------------------------------------------------------------- */

/*
 * Apply the options of the layers that the later layers do not override:
 * defaults, then the module, then the entry.
 */
static bool
cy_apply_layer(struct cy_entry *e, struct target *t,
    const struct cy_optset *set, const struct cy_optset *later1,
    const struct cy_optset *later2, bool own)
{
	char why[512];
	size_t i;
	bool ok = true;

	for (i = 0; i < set->n; i++) {
		if (set->v[i].key[0] == '\0' ||
		    cy_optset_has(later1, set->v[i].key) ||
		    cy_optset_has(later2, set->v[i].key))
			continue;
		if (cy_apply(t, &set->v[i], why, sizeof(why)) == -1) {
			cy_error(e->cy, own ? set->v[i].at : e->at, "%s", why);
			ok = false;
		}
	}
	return ok;
}

static const struct cy_module *
cy_find_module(struct cy_entry *e)
{
	struct cy *cy = e->cy;
	struct cy_suggest s = {e->module, NULL, 3, 0};
	char shown[CY_SHOWN_MAX + 8], dym[128];
	size_t i;
	long m;

	if ((m = cy_strset_find(&cy->modnames, e->module)) >= 0)
		return &cy->mods[m];
	for (i = 0; !cy_quiet(cy) && i < cy->modnames.n; i++)
		cy_consider(&s, cy->modnames.s[i]);
	cy_error(cy, e->module_at, "unknown module '%s'%s",
	    cy_shown(e->module, shown, sizeof(shown)),
	    cy_did_you_mean(&s, dym, sizeof(dym)));
	return NULL;
}

/*
 * The module of an entry, or NULL; *failed set when there is one but it
 * cannot be used (unknown, bad, or for another kind of target).
 */
static const struct cy_module *
cy_entry_module(struct cy_entry *e, enum target_kind kind, bool *failed)
{
	const struct cy_module *m;

	if (e->module == NULL)
		return NULL;
	if ((m = cy_find_module(e)) == NULL || m->bad) {
		*failed = true;
		return NULL;
	}
	if (m->kind != kind) {
		cy_error(e->cy, e->module_at,
		    "module '%s' is for %s targets, not %s", m->name,
		    target_kind_name(m->kind), target_kind_name(kind));
		*failed = true;
		return NULL;
	}
	return m;
}

/* Build one target from spec and the layers; -1 to stop a range. */
static int
cy_build(void *arg, const char *spec, size_t len)
{
	struct cy_entry *e = arg;
	struct cy *cy = e->cy;
	const struct cy_module *m;
	const struct cy_optset *mopts;
	struct target t;
	char why[512];
	unsigned before = cy->errors;
	bool failed = e->bad;

	(void)len;
	if (++cy->ntargets > CY_TARGETS_MAX) {
		cy->stop = true;
		cy_record(cy, e->at, true, "more than 1000000 targets");
		return -1;
	}
	memset(&t, 0, sizeof(t));
	if (target_parse_spec(spec, &t, why, sizeof(why)) == -1) {
		cy_error(cy, e->target_at, "%s", why);
		target_clear(&t);
		return -1;
	}
	m = cy_entry_module(e, t.kind, &failed);
	mopts = m != NULL ? &m->opts : NULL;
	cy_apply_layer(e, &t, &cy->defaults, mopts, &e->opts, false);
	if (mopts != NULL)
		cy_apply_layer(e, &t, mopts, &e->opts, NULL, false);
	cy_apply_layer(e, &t, &e->opts, NULL, NULL, true);
	if (cy->errors == before && target_check(&t, why, sizeof(why)) == -1)
		cy_error(cy, e->at, "%s", why);
	if (failed || cy->errors != before) {
		target_clear(&t);
		return -1;
	}
	t.file = cy->file;
	t.line = e->at.line;
	target_list_push(cy->list, &t);
	return 0;
}

/* The target of an entry, a range expanding to one target per address. */
static void
cy_build_entry(struct cy_entry *e)
{
	struct cy *cy = e->cy;
	char why[512] = "", shown[CY_SHOWN_MAX + 8];

	if (strpbrk(e->target, " \t\r\n") != NULL) {
		cy_error(cy, e->target_at,
		    "target '%s' holds a space: options are keys of the "
		    "entry, not part of target:",
		    cy_shown(e->target, shown, sizeof(shown)));
		return;
	}
	/* A URL holds '/' and may hold '-': it is never a range. */
	if (strncasecmp(e->target, "http://", 7) == 0 ||
	    strncasecmp(e->target, "https://", 8) == 0) {
		cy_build(e, e->target, strlen(e->target));
		return;
	}
	switch (target_range_expand(e->target, strlen(e->target), cy_build, e,
	    why, sizeof(why))) {
	case 0:
		cy_build(e, e->target, strlen(e->target));
		break;
	case -1:
		if (why[0] != '\0')
			cy_error(cy, e->target_at, "%s", why);
		break;
	}
}

/* A scalar value of target: or module:, copied into *out. */
static void
cy_read_word(struct cy_entry *e, const char *key, char **out, struct cy_pos *at)
{
	struct cy *cy = e->cy;

	*at = cy_at(cy);
	if (cy->bad_node || !cy_is_scalar(cy) || cy_is_null(cy)) {
		if (!cy->bad_node && !cy_is_scalar(cy))
			cy_error(cy, *at, "'%s' takes a scalar, not %s", key,
			    cy_node_kind(cy));
		else if (!cy->bad_node)
			cy_error(cy, *at, "'%s' needs a value", key);
		cy_skip(cy);
		e->bad = true;
		return;
	}
	*out = xstrdup(cy_scalar(cy));
}

/* An entry written as a mapping: collect it, then build it. */
static void
cy_read_entry(struct cy *cy, struct cy_entry *e)
{
	struct cy_strset seen = {0};
	struct target scratch;
	const char *key;
	struct cy_pos at;
	unsigned before;
	bool has_target = false;
	int rc;

	cy_scratch(&scratch, TARGET_TCP);
	while ((rc = cy_map_next(cy, &seen, &key, &at)) == 1) {
		if (strcmp(key, "target") == 0) {
			has_target = true;
			cy_read_word(e, key, &e->target, &e->target_at);
		} else if (strcmp(key, "module") == 0)
			cy_read_word(e, key, &e->module, &e->module_at);
		else if (strcmp(key, "labels") == 0) {
			before = cy->errors;
			cy_read_labels(cy, &e->opts, &scratch);
			e->bad |= cy->errors != before;
		} else if (cy_is_option(key)) {
			if (!cy_read_option(cy, &e->opts, key))
				e->bad = true;
		} else {
			cy_unknown_key(cy, at, key, cy_entry_keys, 3, true);
			cy_skip(cy);
			e->bad = true;
		}
	}
	target_clear(&scratch);
	cy_strset_free(&seen);
	if (rc == -1)
		return;
	if (!has_target)
		cy_error(cy, e->at, "missing 'target:'");
	else if (e->target != NULL)
		cy_build_entry(e);
}

static void
cy_read_targets(struct cy *cy)
{
	struct cy_entry e;

	if (!cy_section(cy, "targets", YAML_SEQUENCE_START_EVENT,
	        "a sequence of targets"))
		return;
	while (cy_next(cy) && cy->ev.type != YAML_SEQUENCE_END_EVENT) {
		memset(&e, 0, sizeof(e));
		e.cy = cy;
		e.at = e.target_at = cy_at(cy);
		if (cy->bad_node)
			cy_skip(cy);
		else if (cy->ev.type == YAML_MAPPING_START_EVENT)
			cy_read_entry(cy, &e);
		else if (cy_is_scalar(cy) && !cy_is_null(cy)) {
			e.target = xstrdup(cy_scalar(cy));
			cy_build_entry(&e);
		} else {
			cy_error(cy, e.at,
			    "a target is an address, a URL or a mapping, not "
			    "%s",
			    cy_is_scalar(cy) ? "null" : cy_node_kind(cy));
			cy_skip(cy);
		}
		free(e.target);
		free(e.module);
		cy_optset_clear(&e.opts);
	}
}

/* --- the document -------------------------------------------------------- */

static void
cy_read_top(struct cy *cy)
{
	struct cy_strset seen = {0};
	const char *key;
	struct cy_pos at;
	int pass = cy->pass;

	cy->mute = pass == 2;
	while (cy_map_next(cy, &seen, &key, &at) == 1) {
		if (strcmp(key, "defaults") == 0 && pass == 1)
			cy_read_defaults(cy);
		else if (strcmp(key, "modules") == 0 && pass == 1)
			cy_read_modules(cy);
		else if (strcmp(key, "targets") == 0 && pass == 2) {
			cy->mute = false;
			cy_read_targets(cy);
			cy->mute = true;
		} else {
			if (pass == 1 && strcmp(key, "targets") != 0)
				cy_unknown_key(cy, at, key, cy_top_keys, 3,
				    false);
			cy_skip(cy);
		}
	}
	cy->mute = false;
	cy_strset_free(&seen);
}

/* One pass over the stream: the top mapping of its one document. */
static void
cy_read_stream(struct cy *cy)
{
	int docs = 0;

	while (cy_next(cy) && cy->ev.type != YAML_STREAM_END_EVENT) {
		if (cy->ev.type != YAML_DOCUMENT_START_EVENT)
			continue;
		if (++docs > 1) {
			cy_event_error(cy, cy_at(cy), true,
			    "more than one YAML document");
			return;
		}
		if (!cy_next(cy))
			return;
		if (!cy->bad_node && cy->ev.type == YAML_MAPPING_START_EVENT)
			cy_read_top(cy);
		else {
			if (!cy->bad_node &&
			    (!cy_is_scalar(cy) || !cy_is_null(cy)))
				cy_event_error(cy, cy_at(cy), false,
				    "the top level must be a mapping of "
				    "defaults, modules and targets");
			cy_skip(cy);
		}
	}
}

static void
cy_run_pass(struct cy *cy, int pass)
{
	if (!yaml_parser_initialize(&cy->parser))
		fatalx("yaml_parser_initialize: out of memory");
	yaml_parser_set_input_string(&cy->parser,
	    (const unsigned char *)cy->buf, cy->len);
	cy->pass = pass;
	cy->stop = false;
	cy->depth = 0;
	cy->errs_this_pass = 0;
	cy_read_stream(cy);
	if (cy->have_ev)
		yaml_event_delete(&cy->ev);
	cy->have_ev = false;
	yaml_parser_delete(&cy->parser);
}

/* Position of the first byte that is not UTF-8, or 0 when all is. */
static size_t
cy_utf8_check(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0, n, k;
	uint32_t cp;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			n = 2, cp = s[i] & 0x1f;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			n = 3, cp = s[i] & 0x0f;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			n = 4, cp = s[i] & 0x07;
		else
			return i + 1;
		if (len - i < n)
			return i + 1;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i + 1;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return i + 1;
		i += n;
	}
	return 0;
}

/* The modules of a file, kept past loading to build targets on request. */
struct config_modules {
	struct cy_optset defaults;
	struct cy_module *mods;
	struct cy_strset names;
};

static int
cy_load(const char *name, const char *buf, size_t len, struct target_list *list,
    struct config_modules **keep)
{
	struct cy cy;
	struct cy_pos file = {0, 0};
	size_t bad, i;

	memset(&cy, 0, sizeof(cy));
	cy.file = name;
	cy.buf = buf;
	cy.len = len;
	cy.list = list;
	if (len > CY_FILE_MAX)
		cy_record(&cy, file, true, "larger than 64 MiB");
	else if ((bad = cy_utf8_check(buf, len)) != 0)
		cy_record(&cy, cy_offset_pos(&cy, bad - 1), true,
		    "invalid UTF-8");
	else {
		cy_run_pass(&cy, 1);
		cy_run_pass(&cy, 2);
	}
	cy_flush_errors(&cy);
	if (keep != NULL && cy.errors == 0) {
		*keep = xcalloc(1, sizeof(**keep));
		(*keep)->defaults = cy.defaults;
		(*keep)->mods = cy.mods;
		(*keep)->names = cy.modnames;
	} else {
		cy_optset_clear(&cy.defaults);
		for (i = 0; i < cy.modnames.n; i++)
			cy_optset_clear(&cy.mods[i].opts);
		free(cy.mods);
		cy_strset_free(&cy.modnames);
	}
	list->errors += cy.errors;
	return cy.errors > 0 ? -1 : 0;
}

int
config_yaml_load_buffer(const char *name, const char *buf, size_t len,
    struct target_list *list)
{
	return cy_load(name, buf, len, list, NULL);
}

size_t
config_modules_count(const struct config_modules *m)
{
	return m != NULL ? m->names.n : 0;
}

enum target_kind
config_modules_kind(const struct config_modules *m, const char *name)
{
	long i;

	if (m == NULL || (i = cy_strset_find(&m->names, name)) < 0 ||
	    m->mods[i].bad)
		return 0;
	return m->mods[i].kind;
}

/* The options of set that later does not override, applied to t. */
static int
cy_apply_set(struct target *t, const struct cy_optset *set,
    const struct cy_optset *later, char *why, size_t len)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (set->v[i].key[0] == '\0' ||
		    (later != NULL && cy_optset_has(later, set->v[i].key)))
			continue;
		if (cy_apply(t, &set->v[i], why, len) == -1)
			return -1;
	}
	return 0;
}

int
config_modules_build(const struct config_modules *m, const char *name,
    const char *spec, struct target *t, char *why, size_t len)
{
	const struct cy_module *mod;
	long i;

	memset(t, 0, sizeof(*t));
	if (m == NULL || (i = cy_strset_find(&m->names, name)) < 0 ||
	    m->mods[i].bad) {
		snprintf(why, len, "unknown module");
		return -1;
	}
	mod = &m->mods[i];
	if (target_parse_spec(spec, t, why, len) == -1)
		goto fail;
	if (t->kind != mod->kind) {
		snprintf(why, len, "module '%s' is for %s targets, not %s",
		    mod->name, target_kind_name(mod->kind),
		    target_kind_name(t->kind));
		goto fail;
	}
	if (cy_apply_set(t, &m->defaults, &mod->opts, why, len) == -1 ||
	    cy_apply_set(t, &mod->opts, NULL, why, len) == -1 ||
	    target_check(t, why, len) == -1)
		goto fail;
	return 0;
fail:
	target_clear(t);
	return -1;
}

void
config_modules_free(struct config_modules *m)
{
	size_t i;

	if (m == NULL)
		return;
	cy_optset_clear(&m->defaults);
	for (i = 0; i < m->names.n; i++)
		cy_optset_clear(&m->mods[i].opts);
	free(m->mods);
	cy_strset_free(&m->names);
	free(m);
}

/* The whole file, up to one byte past the limit so it can be refused. */
static char *
cy_read_file(const char *path, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		log_error("%s", path);
		return NULL;
	}
	buf = xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if (cap > CY_FILE_MAX)
				break;
			cap = cap * 2 > CY_FILE_MAX + 1 ? CY_FILE_MAX + 1
			                                : cap * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		if ((r = read(fd, buf + n, cap - n)) == -1) {
			if (errno == EINTR)
				continue;
			log_error("%s", path);
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return buf;
}

int
config_yaml_load_modules(const char *path, struct target_list *list,
    struct config_modules **modules)
{
	char *buf;
	size_t len;
	int rc;

	if (modules != NULL)
		*modules = NULL;
	if ((buf = cy_read_file(path, &len)) == NULL) {
		list->errors++;
		return -1;
	}
	rc = cy_load(path, buf, len, list, modules);
	free(buf);
	return rc;
}

int
config_yaml_load(const char *path, struct target_list *list)
{
	return config_yaml_load_modules(path, list, NULL);
}

int
config_yaml_path(const char *path)
{
	size_t n = strlen(path);

	return (n > 5 && strcasecmp(path + n - 5, ".yaml") == 0) ||
	    (n > 4 && strcasecmp(path + n - 4, ".yml") == 0);
}
