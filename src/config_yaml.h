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
/* True when path names a YAML file: it ends in .yaml or .yml. */
int config_yaml_path(const char *path);

#endif
