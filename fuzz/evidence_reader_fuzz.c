// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the evidence reader. The first input byte picks what the rest
 * becomes, so the fuzzer reaches every layer past the hash that random bytes never pass:
 *   0: the only segment file of a store, as is (headers, torn tails, foreign data);
 *   1: the decompressed payload of one block with a valid header and hash (record
 *      framing, JSON and session parsing, retention records);
 *   2: one valid block holding a fixed record, and the rest as its index file (index
 *      line parsing and its use by a session query).
 * Each store is read three ways: verify (index checked), a full query, and a session
 * query. The reader must never crash, hang or read out of bounds on hostile files.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "evidence/evidence_format.h"
#include "evidence/evidence_read.h"

static char dir[64];

static int on_record(void *ctx, const struct ev_record *r)
{
	size_t *n = ctx;

	*n += r->json_len + strlen(r->type) + (r->json[r->json_len] == '\0');
	return 0;
}

static void put_file(const char *name, const void *data, size_t size)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);
}

/* One block around raw (uncompressed records), valid magic, lengths and hash. */
static void put_block(const uint8_t *raw, size_t raw_len, uint32_t n_records)
{
	struct ev_block_hdr h = { 0 };
	uLongf comp_len = compressBound(raw_len);
	unsigned char *buf = malloc(sizeof(h) + comp_len);

	if (!buf || compress2(buf + sizeof(h), &comp_len, raw, raw_len, 1) != Z_OK)
		abort();
	memcpy(h.magic, EV_MAGIC, 8);
	h.version = EV_VERSION;
	h.hdr_len = EV_HDR_LEN;
	h.n_records = n_records;
	h.first_ts = 1;
	h.last_ts = 2;
	h.raw_len = (uint32_t)raw_len;
	h.comp_len = (uint32_t)comp_len;
	ev_block_hash(&h, buf + sizeof(h), NULL, h.hash);
	memcpy(buf, &h, sizeof(h));
	put_file("seg-0000000000000000.xev", buf, sizeof(h) + comp_len);
	free(buf);
}

static void read_three_ways(void)
{
	struct ev_filter by_session = { .have_session = true, .session_id = 7 };
	struct ev_report rep;
	size_t n = 0;

	evidence_read(dir, NULL, NULL, NULL, &rep);
	evidence_read(dir, NULL, on_record, &n, &rep);
	evidence_read(dir, &by_session, on_record, &n, &rep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t fixed[] = "\x30\0\0\0" "\1\0\0\0\0\0\0\0" "\2\0\0\0\0\0\0\0"
				       "\6activity{\"session_id\":7,\"bytes\":1}";

	if (!dir[0]) {
		const char *tmp = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%.40s/evfuzz.XXXXXX", tmp ? tmp : "/tmp");
		if (!mkdtemp(dir))
			abort();
	}
	if (!size)
		return 0;
	put_file("seg-0000000000000000.idx", "", 0);
	switch (data[0] % 3) {
	case 0:
		put_file("seg-0000000000000000.xev", data + 1, size - 1);
		break;
	case 1:
		if (size < 2)
			return 0;
		put_block(data + 2, size - 2, data[1]);
		break;
	case 2:
		put_block(fixed, sizeof(fixed) - 1, 1);
		put_file("seg-0000000000000000.idx", data + 1, size - 1);
		break;
	}
	read_three_ways();
	return 0;
}
