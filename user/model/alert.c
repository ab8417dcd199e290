// SPDX-License-Identifier: GPL-2.0-only
/* Rule names as alerts carry them in rule.name. */
#include "alert.h"

const char *alert_rule_name(enum alert_rule rule)
{
	static const char *const names[] = {
		[RULE_BULK_READ] = "bulk_collection_bytes",
		[RULE_BULK_OBJECTS] = "bulk_collection_objects",
		[RULE_EXFIL] = "exfiltration",
		[RULE_STAGING] = "staging",
		[RULE_DRIP] = "slow_drip",
		[RULE_BASELINE] = "baseline_deviation",
		[RULE_INTEGRITY] = "sensor_integrity",
	};

	if (rule >= RULE_BULK_READ && rule <= RULE_INTEGRITY)
		return names[rule];
	return "unknown";
}
