/* "pulse serve": probe targets on a schedule and serve the results. */
#include "config.h"

#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config_yaml.h"
#include "log.h"
#include "priv.h"
#include "proc.h"
#include "serve.h"
#include "shard.h"
#include "supervisor.h"
#include "util.h"

#define SERVE_DEFAULT_LISTEN ":9098"
#define SERVE_DEFAULT_INTERVAL_US (15 * USEC_PER_SEC)
#define SERVE_DEFAULT_TIMEOUT_US (5 * USEC_PER_SEC)
#define SERVE_DEFAULT_GRACE_US (5 * USEC_PER_SEC)
#define SERVE_DEFAULT_WORKERS 16

static const double duration_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
    0.5, 1, 2.5, 5, 10};
static const double delay_bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1, 2.5, 5};

void
cmd_serve_usage(FILE *f)
{
	fprintf(f,
	    "usage: pulse serve [options] (-t FILE | -c FILE)\n"
	    "\n"
	    "Probe every target on a schedule and serve the results over "
	    "HTTP\n"
	    "(/metrics for Prometheus, /-/healthy, /-/ready, /).\n"
	    "\n"
	    "  -t, --targets FILE   targets file (YAML when it ends in .yaml "
	    "or "
	    ".yml)\n"
	    "  -c, --config FILE    YAML targets file\n"
	    "  -l, --listen ADDR    where to serve, ADDR:PORT or :PORT "
	    "(default :9098)\n"
	    "      --interval DUR   how often to probe a target without every= "
	    "(default 15s)\n"
	    "      --timeout DUR    probe timeout without timeout= (default "
	    "5s)\n"
	    "  -w, --workers N      worker processes, 1..4096 (default 16)\n"
	    "      --parallel N     TCP or HTTP probes each worker runs at "
	    "once,\n"
	    "                       1..64 (default 8)\n"
	    "      --user USER      run as USER once started as root "
	    "(default pulse)\n"
	    "      --no-sandbox     workers without their system-call filter "
	    "(debugging)\n"
	    "      --grace DUR      time probes in flight get on SIGTERM "
	    "(default 5s)\n"
	    "      --shard K/N      probe only shard K of N (auto/N: K from "
	    "the host\n"
	    "                       name's -ORDINAL, plus 1)\n"
	    "      --enable-reload  allow POST /-/reload\n"
	    "      --enable-probe-endpoint\n"
	    "                       answer /probe?target=&module= as "
	    "blackbox_exporter\n"
	    "      --probe-allow LIST\n"
	    "                       networks and host patterns /probe may "
	    "reach\n"
	    "      --log WHERE      stderr (default) or syslog\n"
	    "      --log-level L    error, warn, info (default) or debug\n"
	    "  -q, --quiet          log errors only\n"
	    "  -v, --verbose        log debugging detail\n"
	    "  -h, --help           show this help\n"
	    "\n"
	    "SIGHUP reloads the targets file; SIGTERM or SIGINT drains and "
	    "exits 0.\n");
}

static int
serve_option(int ch, struct serve_opts *o)
{
	enum log_level level;
	char why[512];
	long long v;

	switch (ch) {
	case 't':
	case 'c':
		o->targets_file = optarg;
		o->yaml = ch == 'c';
		return 0;
	case 'l':
		o->listen = optarg;
		return 0;
	case 'I':
		return duration_flag("interval", optarg, 100 * USEC_PER_MSEC,
		    DURATION_MAX_US, &o->interval_us);
	case 'T':
		return duration_flag("timeout", optarg, USEC_PER_MSEC,
		    3600 * USEC_PER_SEC, &o->timeout_us);
	case 'G':
		return duration_flag("grace", optarg, 0, 3600 * USEC_PER_SEC,
		    &o->grace_us);
	case 'w':
		if (parse_int_range(optarg, 1, 4096, &v, why, sizeof(why)) ==
		    -1) {
			log_errorx("--workers: %s", why);
			return -1;
		}
		o->workers = (unsigned)v;
		return 0;
	case 'p':
		if (parse_int_range(optarg, 1, WORKER_PARALLEL_MAX, &v, why,
		        sizeof(why)) == -1) {
			log_errorx("--parallel: %s", why);
			return -1;
		}
		o->parallel = (unsigned)v;
		return 0;
	case 'U':
		o->user = optarg;
		return 0;
	case 'N':
		o->no_sandbox = true;
		return 0;
	case 'R':
		o->enable_reload = true;
		return 0;
	case 'S':
		if (shard_parse(optarg, &o->shard, why, sizeof(why)) == -1) {
			log_errorx("--shard: %s", why);
			return -1;
		}
		return 0;
	case 'P':
		o->enable_probe = true;
		return 0;
	case 'A':
		if (allowlist_add(&o->allow, optarg, why, sizeof(why)) == -1) {
			log_errorx("--probe-allow: %s", why);
			return -1;
		}
		return 0;
	case 'L':
		if (strcmp(optarg, "syslog") == 0)
			log_open_syslog();
		else if (strcmp(optarg, "stderr") != 0) {
			log_errorx("--log %s: stderr or syslog", optarg);
			return -1;
		}
		return 0;
	case 'V':
		if (log_level_parse(optarg, &level) == -1) {
			log_errorx("--log-level %s: error, warn, info or debug",
			    optarg);
			return -1;
		}
		log_set_level(level);
		return 0;
	case 'q':
		log_set_level(LOG_LEVEL_ERROR);
		return 0;
	case 'v':
		log_set_level(LOG_LEVEL_DEBUG);
		return 0;
	}
	return -1;
}

static int
serve_parse_args(int argc, char **argv, struct serve_opts *o, int *help)
{
	static const struct option longopts[] = {
	    {"targets", required_argument, NULL, 't'},
	    {"config", required_argument, NULL, 'c'},
	    {"listen", required_argument, NULL, 'l'},
	    {"interval", required_argument, NULL, 'I'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"grace", required_argument, NULL, 'G'},
	    {"workers", required_argument, NULL, 'w'},
	    {"parallel", required_argument, NULL, 'p'},
	    {"user", required_argument, NULL, 'U'},
	    {"no-sandbox", no_argument, NULL, 'N'},
	    {"enable-reload", no_argument, NULL, 'R'},
	    {"enable-probe-endpoint", no_argument, NULL, 'P'},
	    {"probe-allow", required_argument, NULL, 'A'},
	    {"shard", required_argument, NULL, 'S'},
	    {"log", required_argument, NULL, 'L'},
	    {"log-level", required_argument, NULL, 'V'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char addr[128];
	unsigned port;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "t:c:l:w:qvh", longopts, NULL)) !=
	    -1) {
		if (ch == 'h') {
			*help = 1;
			return 0;
		}
		if (serve_option(ch, o) == -1)
			return -1;
	}
	if (optind != argc) {
		log_errorx("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (o->targets_file == NULL) {
		log_errorx("no targets: give --targets FILE or --config FILE");
		return -1;
	}
	if (strcmp(o->targets_file, "-") == 0) {
		log_errorx("serve re-reads its targets on SIGHUP: give a file, "
		           "not standard input");
		return -1;
	}
	if (o->enable_probe && o->allow.nnets == 0) {
		log_errorx("--enable-probe-endpoint: --probe-allow lists no "
		           "network, so no probe could connect anywhere "
		           "(give one such as 192.0.2.0/24)");
		return -1;
	}
	if (!o->enable_probe && o->allow.nnets + o->allow.npatterns > 0)
		log_warnx("--probe-allow has no effect without "
		          "--enable-probe-endpoint");
	if (serve_listen_parse(o->listen, addr, sizeof(addr), &port) == -1) {
		log_errorx("--listen %s: expected ADDR:PORT or :PORT, the port "
		           "1..65535",
		    o->listen);
		return -1;
	}
	return 0;
}

/* libevent's own complaints go through our log, as logfmt lines. */
static void
libevent_log(int severity, const char *msg)
{
	log_event(severity >= EVENT_LOG_ERR  ? LOG_LEVEL_ERROR
	        : severity == EVENT_LOG_WARN ? LOG_LEVEL_WARN
	                                     : LOG_LEVEL_DEBUG,
	    msg, "from", "libevent", LOG_END);
}

/* The targets, and the modules /probe builds on when the file is YAML. */
static int
load(const struct serve_opts *o, struct target_list *list,
    struct config_modules **modules)
{
	*modules = NULL;
	if (o->yaml || config_yaml_path(o->targets_file))
		return config_yaml_load_modules(o->targets_file, list, modules);
	return target_load_file(o->targets_file, list);
}

/* No targets is an error, unless the file's modules serve /probe. */
static bool
loaded_enough(const struct serve_opts *o, const struct target_list *list,
    const struct config_modules *modules)
{
	return list->n > 0 ||
	    (o->enable_probe && config_modules_count(modules) > 0);
}

/* The live targets by key hash: index + 1 in slots, 0 free. */
struct key_index {
	size_t *slots;
	size_t mask;
};

static void
index_build(struct key_index *ix, const struct serve *srv)
{
	size_t n = 16, i, j;

	while (n < 2 * srv->n + 2)
		n *= 2;
	ix->slots = xcalloc(n, sizeof(*ix->slots));
	ix->mask = n - 1;
	for (i = 0; i < srv->n; i++) {
		for (j = srv->v[i]->key_hash & ix->mask; ix->slots[j] != 0;
		     j = (j + 1) & ix->mask)
			;
		ix->slots[j] = i + 1;
	}
}

/* The index of the live target whose probe is key's, or -1. */
static ssize_t
index_find(const struct key_index *ix, const struct serve *srv, uint64_t h,
    const char *key)
{
	char other[TARGET_KEY_MAX];
	size_t j;

	for (j = h & ix->mask; ix->slots[j] != 0; j = (j + 1) & ix->mask) {
		const struct srv_target *st = srv->v[ix->slots[j] - 1];

		if (st->key_hash != h)
			continue;
		target_key(&st->t, other, sizeof(other));
		if (strcmp(other, key) == 0)
			return (ssize_t)ix->slots[j] - 1;
	}
	return -1;
}

/*
 * Swap in a new list: a target that stays keeps its state and schedule
 * (taking any new name or labels), new ones are spread over their
 * interval, and the rest retire.
 */
static void
swap_targets(struct serve *srv, struct target_list *list)
{
	struct srv_target **next = xcalloc(list->n + 1, sizeof(*next)), *st;
	bool *kept = xcalloc(srv->n + 1, sizeof(*kept));
	char key[TARGET_KEY_MAX];
	size_t i, j, nnew = 0, old_n = srv->n;
	struct key_index ix;
	ssize_t at;

	index_build(&ix, srv);
	for (i = 0; i < list->n; i++) {
		target_key(&list->v[i], key, sizeof(key));
		at = index_find(&ix, srv, hash_bytes(key, strlen(key)), key);
		if (at < 0 || kept[at])
			continue;
		st = srv->v[at];
		kept[at] = true;
		next[i] = st;
		if (st->update != NULL) {
			target_clear(st->update);
			free(st->update);
		}
		st->update = xmalloc(sizeof(*st->update));
		*st->update = list->v[i];
		memset(&list->v[i], 0, sizeof(list->v[i]));
	}
	for (j = 0; j < old_n; j++)
		if (!kept[j])
			srv_target_retire(srv->v[j]);
	/* New targets go last, so their first slots spread among them. */
	for (i = 0, j = 0; i < list->n; i++)
		if (next[i] != NULL)
			next[j++] = next[i];
	nnew = j;
	for (i = 0; i < list->n; i++)
		if (list->v[i].host != NULL)
			next[j++] = srv_target_new(srv, &list->v[i]);
	free(srv->v);
	free(kept);
	free(ix.slots);
	srv->v = next;
	srv->n = j;
	/* Idle kept targets take their new names and labels at once. */
	for (i = 0; i < nnew; i++)
		srv_target_take_update(srv->v[i]);
	srv_schedule_spread(srv, nnew);
}

int
serve_reload(struct serve *srv, char *errbuf, size_t errlen)
{
	struct target_list list;
	struct config_modules *modules;
	char errors[2048];
	int rc;

	memset(&list, 0, sizeof(list));
	log_capture(errors, sizeof(errors));
	rc = load(&srv->opts, &list, &modules);
	log_capture(NULL, 0);
	if (rc == -1 || !loaded_enough(&srv->opts, &list, modules)) {
		config_modules_free(modules);
		snprintf(errbuf, errlen,
		    "%s%s: %s; the targets loaded before "
		    "stay",
		    errors, srv->opts.targets_file,
		    rc != -1 ? "no targets" : "not loaded");
		target_list_free(&list);
		srv->reloads_failed++;
		serve_http_invalidate(srv->http);
		srv->last_reload_ok = false;
		log_event(LOG_LEVEL_ERROR, "reload failed", "file",
		    srv->opts.targets_file, LOG_END);
		return -1;
	}
	shard_filter(&srv->opts.shard, &list);
	swap_targets(srv, &list);
	target_list_free(&list);
	config_modules_free(srv->modules);
	srv->modules = modules;
	serve_http_invalidate(srv->http);
	srv->reloads_ok++;
	srv->last_reload_ok = true;
	srv->last_reload_ok_s = wall_now_us() / USEC_PER_SEC;
	log_event(LOG_LEVEL_INFO, "reloaded", "file", srv->opts.targets_file,
	    LOG_END);
	return 0;
}

/* First signal: drain.  Second: end the grace period now.  HUP: reload. */
static void
serve_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct serve *srv = arg;
	char why[512];
	size_t i;

	if (sig == SIGHUP) {
		if (!srv->draining)
			(void)serve_reload(srv, why, sizeof(why));
		return;
	}
	if (srv->draining) {
		log_event(LOG_LEVEL_WARN, "cancelling probes in flight",
		    LOG_END);
		sup_cancel_inflight(srv->sup);
		return;
	}
	srv->draining = true;
	srv->signo = (int)sig;
	proc_signame((int)sig, srv->signame, sizeof(srv->signame));
	log_event(LOG_LEVEL_INFO, "stopping", "signal", srv->signame, LOG_END);
	for (i = 0; i < srv->n; i++)
		srv_target_stop(srv->v[i]);
	/* No new scrapes: the listener and its connections go. */
	serve_http_stop(srv->http);
	srv->http = NULL;
	sup_drain(srv->sup, srv->opts.grace_us);
	if (sup_inflight(srv->sup) == 0 && sup_queued(srv->sup) == 0)
		event_base_loopbreak(srv->base);
}

static void
serve_config(struct serve *srv, struct sup_config *cfg)
{
	sup_config_defaults(cfg);
	cfg->workers = srv->opts.workers;
	cfg->parallel = srv->opts.parallel;
	cfg->default_timeout_us = srv->opts.timeout_us;
	cfg->on_result = srv_on_result;
	cfg->arg = srv;
	cfg->allow = &srv->opts.allow;
	cfg->sandbox = !srv->opts.no_sandbox;
	/* ICMP sockets always: a reload may add ICMP targets. */
	cfg->icmp = true;
}

static void
serve_init(struct serve *srv)
{
	int k;

	memset(srv, 0, sizeof(*srv));
	srv->opts.listen = SERVE_DEFAULT_LISTEN;
	srv->opts.interval_us = SERVE_DEFAULT_INTERVAL_US;
	srv->opts.timeout_us = SERVE_DEFAULT_TIMEOUT_US;
	srv->opts.grace_us = SERVE_DEFAULT_GRACE_US;
	srv->opts.workers = SERVE_DEFAULT_WORKERS;
	srv->opts.parallel = WORKER_PARALLEL_DEFAULT;
	for (k = 0; k < 4; k++)
		histogram_init(&srv->duration[k], duration_bounds);
	histogram_init(&srv->delay, delay_bounds);
}

static void
serve_free(struct serve *srv)
{
	size_t i;

	for (i = 0; i < srv->n; i++)
		srv_target_destroy(srv->v[i]);
	free(srv->v);
	srv_schedule_free(srv);
	serve_http_stop(srv->http);
	serve_probe_free(srv);
	config_modules_free(srv->modules);
	allowlist_free(&srv->opts.allow);
	if (srv->base != NULL)
		event_base_free(srv->base);
}

/* Load, start the pool and the listener; an exit code on failure. */
static int
serve_start(struct serve *srv)
{
	struct target_list list;
	struct event_config *ecfg;
	struct sup_config cfg;
	char why[512];
	int rc;

	memset(&list, 0, sizeof(list));
	rc = load(&srv->opts, &list, &srv->modules);
	if (rc == -1 || !loaded_enough(&srv->opts, &list, srv->modules)) {
		if (rc == 0)
			log_errorx("%s: no targets%s", srv->opts.targets_file,
			    srv->opts.enable_probe ? " and no modules" : "");
		target_list_free(&list);
		return EXIT_USAGE;
	}
	if (srv->opts.enable_probe && config_modules_count(srv->modules) == 0)
		log_warnx("%s: no modules, so /probe refuses every request",
		    srv->opts.targets_file);
	/* Slots are timed to the millisecond: no coarse clock. */
	if ((ecfg = event_config_new()) == NULL ||
	    event_config_set_flag(ecfg, EVENT_BASE_FLAG_PRECISE_TIMER) == -1 ||
	    (srv->base = event_base_new_with_config(ecfg)) == NULL)
		fatalx("cannot make the event loop");
	event_config_free(ecfg);
	srv_schedule_init(srv);
	serve_config(srv, &cfg);
	cfg.http = srv->opts.enable_probe;
	for (size_t i = 0; i < list.n; i++)
		if (list.v[i].kind == TARGET_HTTP)
			cfg.http = true;
	if (priv_worker_identity(srv->opts.user, &cfg.drop, &cfg.uid,
	        &cfg.gid) == -1) {
		target_list_free(&list);
		return EXIT_USAGE;
	}
	if ((srv->http = serve_http_start(srv, srv->opts.listen, why,
	         sizeof(why))) == NULL) {
		log_errorx("%s", why);
		target_list_free(&list);
		return EXIT_INTERNAL;
	}
	if ((srv->sup = sup_new(srv->base, &cfg)) == NULL) {
		log_errorx("no worker process could be started");
		target_list_free(&list);
		return EXIT_INTERNAL;
	}
	/* Listener bound, ICMP sockets in the pool: nothing privileged left. */
	priv_drop_supervisor(cfg.drop, cfg.uid, cfg.gid);
	if (srv->opts.no_sandbox)
		log_warnx("--no-sandbox: workers run without their system-call "
		          "filter; a compromised probe could do all its user "
		          "may");
	shard_filter(&srv->opts.shard, &list);
	swap_targets(srv, &list);
	target_list_free(&list);
	srv->last_reload_ok = true;
	srv->last_reload_ok_s = wall_now_us() / USEC_PER_SEC;
	srv->started_s = (double)wall_now_us() / USEC_PER_SEC;
	return EXIT_UP;
}

int
cmd_serve(int argc, char **argv)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
	struct event *ev[3] = {NULL, NULL, NULL};
	struct serve srv;
	int help = 0, rc;
	size_t i;

	serve_init(&srv);
	log_set_level(LOG_LEVEL_INFO);
	log_set_logfmt(true);
	event_set_log_callback(libevent_log);
	priv_raise_nofile();
	if (serve_parse_args(argc, argv, &srv.opts, &help) == -1) {
		cmd_serve_usage(stderr);
		allowlist_free(&srv.opts.allow);
		return EXIT_USAGE;
	}
	if (help) {
		cmd_serve_usage(stdout);
		allowlist_free(&srv.opts.allow);
		return EXIT_UP;
	}
	if ((rc = serve_start(&srv)) != EXIT_UP) {
		if (srv.sup != NULL)
			sup_free(srv.sup);
		serve_free(&srv);
		return rc;
	}
	for (i = 0; i < 3; i++) {
		ev[i] = evsignal_new(srv.base, sigs[i], serve_on_signal, &srv);
		if (ev[i] == NULL || evsignal_add(ev[i], NULL) == -1)
			fatalx("cannot set up signal events");
	}
	log_event(LOG_LEVEL_INFO, "serving", "listen", srv.opts.listen,
	    "targets", srv.opts.targets_file, LOG_END);
	event_base_dispatch(srv.base);
	/* Past the loop a late signal must not end the cleanup half-way. */
	for (i = 0; i < 3; i++) {
		signal(sigs[i], SIG_IGN);
		event_free(ev[i]);
	}
	sup_free(srv.sup);
	srv.sup = NULL;
	serve_free(&srv);
	log_event(LOG_LEVEL_INFO, "stopped", LOG_END);
	return EXIT_UP;
}
