/* Targets: what to probe, parsed from the targets file or the command line. */
#ifndef PULSE_TARGET_H
#define PULSE_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum target_kind { TARGET_TCP = 1, TARGET_ICMP = 2, TARGET_HTTP = 3 };

#define TARGET_HOST_MAX 253        /* longest DNS name, in octets */
#define TARGET_LINE_MAX 4096       /* longest line the targets file accepts */
#define TARGET_ICMP_SIZE 56        /* default payload, as ping(8) */
#define TARGET_ICMP_SIZE_MAX 65507 /* largest IPv4 echo payload */
#define TARGET_ICMP_COUNT_MAX 100
#define TARGET_ICMP_INTERVAL_US 100000 /* default spacing of echoes */

#define TARGET_URL_MAX 4096        /* a URL fits on a line */
#define TARGET_HTTP_BODY_MAX 32768 /* body= or body_file= */
#define TARGET_HTTP_CA_MAX 65536   /* a ca= file, sent with each probe */
/* What every HTTP option of one target may add up to, to fit a message. */
#define TARGET_HTTP_REQUEST_MAX 114688
#define TARGET_HTTP_HEADERS_MAX 32  /* header= options */
#define TARGET_HTTP_HEADER_MAX 4096 /* one "Name: value" */
#define TARGET_HTTP_REGEX_MAX 1024  /* match= and not_match= */
#define TARGET_HTTP_FOLLOW 5        /* redirects followed by default */
#define TARGET_HTTP_FOLLOW_MAX 20
#define TARGET_HTTP_MAX_BODY (1U << 20)         /* default max_body */
#define TARGET_HTTP_MAX_BODY_MAX (256ULL << 20) /* largest max_body */
/* Expected status codes 100..599, one bit each. */
#define TARGET_HTTP_CODE_MIN 100
#define TARGET_HTTP_CODE_MAX 599
#define TARGET_HTTP_EXPECT_WORDS 8

/* What an http:// or https:// target sends and how its answer is judged. */
struct target_http {
	char *url;       /* as written, credentials included: workers only */
	char *canonical; /* normalised, with any password as "xxxxx" */
	bool tls;        /* https */
	char *method;    /* NULL: GET, or POST when there is a body */
	char **headers;  /* "Name: value" */
	unsigned nheaders;
	char *body;
	size_t body_len;
	bool has_body;
	uint64_t expect[TARGET_HTTP_EXPECT_WORDS]; /* bit code - 100; 0: 2xx */
	char *match, *not_match;                   /* PCRE2 patterns */
	int follow;    /* redirects to follow, -1: the default */
	bool insecure; /* skip certificate verification */
	char *ca;      /* PEM file of trusted CAs, NULL: the system's */
	char *ca_pem;  /* its contents, read as the targets are loaded */
	size_t ca_len;
	char *host_header; /* host=: Host header and TLS name */
	char *sni;         /* sni=: TLS name only */
	unsigned version;  /* 0: libcurl's choice, 11 or 20 */
	uint64_t max_body; /* 0: TARGET_HTTP_MAX_BODY */
};

/* A label the user gives a target, carried into every output. */
struct target_label {
	char *name; /* a Prometheus label name, not one pulse sets itself */
	char *value;
};

#define TARGET_LABELS_MAX 32
#define TARGET_LABEL_NAME_MAX 64
#define TARGET_LABEL_VALUE_MAX 1024

struct allowlist;

struct target {
	enum target_kind kind;
	char *host;                  /* name or literal, no brackets */
	uint16_t port;               /* 0 for ICMP */
	int64_t timeout_us;          /* 0: use the run's default */
	int ipv;                     /* 4 or 6 to pick a family, else 0 */
	unsigned count;              /* ICMP echoes, 0: the run's default */
	int64_t interval_us;         /* ICMP spacing, 0: the default */
	unsigned size;               /* ICMP payload bytes */
	unsigned ttl;                /* ICMP TTL / hop limit, 0: system's */
	struct target_http *http;    /* HTTP targets only */
	struct target_label *labels; /* sorted by name */
	unsigned nlabels;
	int64_t every_us; /* serve: how often to probe, 0: the default */
	/* /probe: where the probe may connect, NULL for anywhere; not owned */
	const struct allowlist *allow;
	char *spec;       /* the target as written */
	char *name;       /* name=, or NULL: see target_name() */
	const char *file; /* where it was defined, for messages */
	unsigned line;
};

struct target_list {
	struct target *v;
	size_t n, cap;
	size_t *slots;    /* hash of canonical forms: index + 1, 0 free */
	uint64_t *hashes; /* hash of each target's key, by index */
	size_t nslots;
	unsigned errors;     /* bad lines seen by target_list_add() */
	unsigned duplicates; /* dropped by target_list_push() */
};

/*
 * Parse one line ("TARGET [key=value ...]"): returns 1 with *t filled, 0 for
 * a blank or comment line, -1 with a reason in errbuf.
 */
int target_parse_line(const char *line, size_t len, struct target *t,
    char *errbuf, size_t errlen);
/*
 * Parse one line and append it to the list.  file NULL means a command-line
 * argument, numbered by line.  A bad line is reported as "FILE:LINE:
 * reason" and counted in list->errors; a duplicate is reported and dropped.
 * Returns 1 when added, 0 when skipped, -1 for a bad line.
 */
int target_list_add(struct target_list *, const char *file, unsigned line,
    const char *text, size_t len);
/* The most targets one list holds, ranges expanded, as YAML allows. */
#define TARGET_LIST_MAX 1000000
/* The most addresses one range (192.0.2.0/24, 192.0.2.1-20) expands to. */
#define TARGET_RANGE_MAX 65536
/*
 * When the first token of line is an address range (a CIDR prefix, or
 * IPv4 first-last), call add once for the line with each address in its
 * place and return 1; 0 when it is no range; -1 when the range is bad
 * (errbuf says why) or add failed (errbuf left empty).
 */
int target_range_expand(const char *line, size_t len,
    int (*add)(void *arg, const char *line, size_t len), void *arg,
    char *errbuf, size_t errlen);
/*
 * Append a parsed target, taking what it owns (*t is zeroed); a duplicate
 * is warned about and freed.  Returns 1 when added, 0 when a duplicate.
 */
int target_list_push(struct target_list *, struct target *t);
/*
 * Read a whole targets file ("-" is stdin).  Every bad line is reported as
 * FILE:LINE: reason through log; duplicates are warned about and dropped.
 * Returns 0, or -1 when the file could not be read or had a bad line.
 */
int target_load_file(const char *path, struct target_list *);
/* The YAML loader for a .yaml or .yml name, else target_load_file(). */
int target_load_any(const char *path, struct target_list *);
/*
 * Canonical text of what a target probes: "tcp://[::1]:80", "icmp://h",
 * "https://user:xxxxx@h/": never a password.
 */
void target_canonical(const struct target *, char *buf, size_t len);
/*
 * What makes two targets the same probe: the canonical form and every
 * option that changes what is sent ("icmp://h count=3"); not the name,
 * nor the timeout, which changes only how long we wait.
 */
void target_key(const struct target *, char *buf, size_t len);
#define TARGET_KEY_MAX (2 * TARGET_LINE_MAX)
#define TARGET_CANONICAL_MAX (TARGET_URL_MAX + 64)
const char *target_kind_name(enum target_kind);
/*
 * True for an ICMP target whose host is an address: a worker may run it
 * in a sweep with others, since it needs no lookup that could hold them up.
 */
int target_sweepable(const struct target *);
/*
 * True for an HTTP target, or a TCP one whose host is an address: a worker
 * runs it beside others of its kind (a name's lookup would hold them up).
 */
int target_runs_beside(const struct target *);
/* The name= given, or the target as written. */
const char *target_name(const struct target *);
/*
 * Apply one option ("expect", "2xx") to a parsed target, as a targets file
 * line or a command-line flag would; value NULL for a bare flag such as
 * "insecure".  Returns 0, or -1 with a reason in errbuf.
 */
int target_apply_option(struct target *, const char *key, const char *value,
    char *errbuf, size_t errlen);
/*
 * Set label name to value on t, replacing one of the same name: 0, or -1
 * with a reason (a name Prometheus would refuse, or one pulse sets).
 */
int target_set_label(struct target *, const char *name, const char *value,
    char *errbuf, size_t errlen);
/* Parse just the first token of a line, the target itself. */
int target_parse_spec(const char *spec, struct target *, char *errbuf,
    size_t errlen);
/* Line-wide checks once every option is applied. */
int target_check(const struct target *, char *errbuf, size_t errlen);
/* True when status is one the target's expect= (default 2xx) allows. */
int target_http_expects(const struct target_http *, int status);
/* expect= as short text: "2xx", "200,301-302". */
void target_http_expect_text(const struct target_http *, char *buf, size_t len);
/* A URL with any password shown as "xxxxx"; NULL when it does not parse. */
char *target_http_redact(const char *url);
/* Free what a target owns and zero it. */
void target_clear(struct target *);
void target_list_free(struct target_list *);

#endif
