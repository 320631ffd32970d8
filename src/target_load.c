/* Load a targets file of either format, told apart by its name. */
#include "config.h"

#include "config_yaml.h"
#include "target.h"

int
target_load_any(const char *path, struct target_list *list)
{
	if (config_yaml_path(path))
		return config_yaml_load(path, list);
	return target_load_file(path, list);
}
