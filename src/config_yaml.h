/* Targets from a YAML file: defaults, modules and targets. */
#ifndef PULSE_CONFIG_YAML_H
#define PULSE_CONFIG_YAML_H

#include "target.h"

/*
 * Read the YAML targets file at path into list.  Every error is reported
 * through log as "FILE:LINE:COL: what is wrong"; returns 0, or -1 when the
 * file could not be read or had an error (list then holds what was good).
 */
int config_yaml_load(const char *path, struct target_list *list);
/* The same for a file already in memory; name is what messages call it. */
int config_yaml_load_buffer(const char *name, const char *buf, size_t len,
    struct target_list *list);
/*
 * The modules of a file, kept to build targets on request (/probe): the
 * file's defaults, then the module's options, as an entry of it would get.
 */
struct config_modules;

/* config_yaml_load(), keeping the modules in *modules when it succeeds. */
int config_yaml_load_modules(const char *path, struct target_list *list,
    struct config_modules **modules);
size_t config_modules_count(const struct config_modules *);
/* The kind of target a module probes; 0 when there is no such module. */
enum target_kind config_modules_kind(const struct config_modules *,
    const char *name);
/* Build the target spec under module name: 0, or -1 with why filled. */
int config_modules_build(const struct config_modules *, const char *name,
    const char *spec, struct target *t, char *why, size_t len);
void config_modules_free(struct config_modules *);
/* True when path names a YAML file: it ends in .yaml or .yml. */
int config_yaml_path(const char *path);

#endif
