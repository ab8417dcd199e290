// SPDX-License-Identifier: GPL-2.0-only
/* Activity kinds: their names in records and the class each one feeds. */
#include <string.h>

#include "activity.h"
#include "common/array_size.h"

static const struct {
	const char *name;
	enum activity_class cls;
} kinds[] = {
	[ACT_SOURCE_FILE] = { "source_file", ACT_CLASS_SOURCE },
	[ACT_SOURCE_NET] = { "source_net", ACT_CLASS_SOURCE },
	[ACT_MMAP_SOURCE] = { "mmap_source", ACT_CLASS_SOURCE },
	[ACT_EGRESS_NET] = { "egress_net", ACT_CLASS_EGRESS },
	[ACT_EGRESS_MEDIA] = { "egress_media", ACT_CLASS_EGRESS },
	[ACT_EGRESS_SYNC] = { "egress_sync", ACT_CLASS_EGRESS },
	[ACT_STAGING] = { "staging", ACT_CLASS_STAGING },
};

enum activity_class activity_class(enum activity_kind kind)
{
	return (unsigned int)kind < ARRAY_SIZE(kinds) ? kinds[kind].cls : ACT_CLASS_NONE;
}

const char *activity_kind_name(enum activity_kind kind)
{
	if ((unsigned int)kind < ARRAY_SIZE(kinds) && kinds[kind].name)
		return kinds[kind].name;
	return "unknown";
}

enum activity_kind activity_kind_from_name(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(kinds); i++)
		if (kinds[i].name && !strcmp(kinds[i].name, name))
			return (enum activity_kind)i;
	return 0;
}
