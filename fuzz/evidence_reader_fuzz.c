// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the evidence reader: the input becomes the only segment of a
 * store (a valid block header at the front half the time, so the fuzzer reaches the
 * payload and record parsing), and evidence_read walks it with a record callback. The
 * reader must never crash, hang or read out of bounds on hostile files.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evidence_format.h"
#include "evidence_read.h"

static char dir[64];

static int on_record(void *ctx, const struct ev_record *r)
{
	size_t *n = ctx;

	*n += r->json_len + strlen(r->type);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ev_block_hdr h = { 0 };
	struct ev_report rep;
	char path[128];
	size_t n = 0;
	int fd;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/evfuzz.XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	snprintf(path, sizeof(path), "%s/seg-0000000000000000.xev", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		abort();
	if (size && (data[0] & 1)) {
		/* A header whose hash matches what follows, so parsing goes deeper. */
		memcpy(h.magic, EV_MAGIC, 8);
		h.version = EV_VERSION;
		h.hdr_len = EV_HDR_LEN;
		h.n_records = size > 1 ? data[1] : 0;
		h.comp_len = (uint32_t)(size - 1);
		h.raw_len = (uint32_t)(size * 4 + 64);
		ev_block_hash(&h, data + 1, h.hash);
		if (write(fd, &h, sizeof(h)) != sizeof(h))
			abort();
		data++;
		size--;
	}
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	evidence_read(dir, NULL, on_record, &n, &rep);
	return 0;
}
