// SPDX-License-Identifier: GPL-2.0-only
/* "ip:port" / "[v6]:port" text: written for object names, read back by outputs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "endpoint.h"

void endpoint_format(char *buf, size_t len, const char *ip, unsigned int port)
{
	snprintf(buf, len, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, port);
}

int endpoint_split(const char *s, char *host, size_t host_len, const char **port)
{
	const char *colon = strrchr(s, ':');
	size_t n;

	if (!colon || colon == s)
		return -EINVAL;
	n = (size_t)(colon - s);
	if (s[0] == '[' && n > 2 && s[n - 1] == ']')
		s++, n -= 2;
	if (n >= host_len)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	*port = colon + 1;
	return 0;
}
