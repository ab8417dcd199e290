// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for what the evidence writer and reader share: index lines (round trip and
 * every malformed shape), which sessions a record concerns, and payload framing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/array_size.h"
#include "unit.h"
#include "evidence/evidence_format.h"

static void test_ev_index_format_round_trips(void **state)
{
	struct ev_index_entry e = { .block_no = 37, .offset = 347, .first_ts = 1, .last_ts = 2,
				    .first_seq = 296, .n_records = 11,
				    .sessions = { .ids = { 8, 7 }, .n = 2, .all = true } };
	struct ev_index_entry back;
	char line[256];

	ev_index_format(&e, line, sizeof(line));
	assert_string_equal(line, "37 347 1 2 296 11 *,8,7\n");
	assert_int_equal(ev_index_parse(line, &back), 0);
	assert_int_equal(back.block_no, 37);
	assert_int_equal(back.offset, 347);
	assert_int_equal(back.n_records, 11);
	assert_true(ev_session_set_equal(&e.sessions, &back.sessions));
	e.sessions = (struct ev_session_set){ 0 };
	ev_index_format(&e, line, sizeof(line));
	assert_string_equal(line, "37 347 1 2 296 11 -\n");
	assert_int_equal(ev_index_parse(line, &back), 0);
	assert_false(ev_session_set_has(&back.sessions, 8));
}

static void test_ev_index_parse_rejects_malformed_lines(void **state)
{
	static const char *const bad[] = {
		"37 347 1 2 296 11 8,7",          /* torn: no newline */
		"37 347 1 2 296 11 8,,7\n",
		"37 347 1 2 296 11 8,7,\n",
		"37 347 1 2 296 11 \n",
		"37 347 1 2 296 8,7\n",
		"37 347 1 2 296 11 8 7\n",
		"-1 347 1 2 296 11 8\n",
		"37 347 1 2 296 4294967296 8\n",
		"37 347 1 2 296 11 4294967296\n",
		"37 347 1 2 296 11 8x\n",
		"99999999999999999999 347 1 2 296 11 8\n",
		"",
	};
	struct ev_index_entry e;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (ev_index_parse(bad[i], &e) != -EINVAL) {
			print_error("accepted: '%s'\n", bad[i]);
			fail();
		}
	}
}

static void note(struct ev_session_set *s, const char *type, const char *json)
{
	ev_session_set_note(s, type, strlen(type), json, strlen(json));
}

static void test_ev_session_set_note_finds_sessions(void **state)
{
	struct ev_session_set s = { 0 };

	note(&s, "activity", "{\"session_id\":5}");
	note(&s, "activity", "{\"session_id\":5}");
	note(&s, "alert", "{\"session_id\":6,\"exfilmon\":{\"session_id\":9}}");
	note(&s, "activity", "{\"session_id\":null}");
	note(&s, "agent", "{\"event\":\"start\"}");
	note(&s, "activity", "not json");
	assert_int_equal(s.n, 2);
	assert_true(ev_session_set_has(&s, 5) && ev_session_set_has(&s, 9));
	assert_false(ev_session_set_has(&s, 6));
	assert_false(s.all);
	note(&s, "gap", "{\"session_id\":null}");
	assert_true(s.all);
	s = (struct ev_session_set){ 0 };
	note(&s, "retention", "{}");
	assert_true(s.all);
}

static void test_ev_session_set_note_overflows_to_all(void **state)
{
	struct ev_session_set s = { 0 };
	char json[64];

	for (int i = 0; i < EV_INDEX_MAX_SESSIONS + 1; i++) {
		snprintf(json, sizeof(json), "{\"session_id\":%d}", i);
		note(&s, "activity", json);
	}
	assert_int_equal(s.n, EV_INDEX_MAX_SESSIONS);
	assert_true(s.all);
	assert_true(ev_session_set_has(&s, 12345));
}

static void test_ev_payload_next_refuses_bad_framing(void **state)
{
	unsigned char raw[64] = { 0 };
	struct ev_raw_record r;
	uint32_t len = EV_REC_FIXED + 1 + 2;
	size_t pos = 0;

	memcpy(raw, &len, 4);
	raw[20] = 1;
	memcpy(raw + 21, "a{}", 3);
	assert_int_equal(ev_payload_next(raw, 4 + len, &pos, &r), 1);
	assert_int_equal(r.type_len, 1);
	assert_int_equal(r.json_len, 2);
	assert_int_equal(ev_payload_next(raw, 4 + len, &pos, &r), 0);
	pos = 0;
	assert_int_equal(ev_payload_next(raw, 3 + len, &pos, &r), -EINVAL);   /* cut short */
	raw[20] = 4;                                                          /* type too long */
	assert_int_equal(ev_payload_next(raw, 4 + len, &pos, &r), -EINVAL);
	len = 5;                                                              /* below fixed part */
	memcpy(raw, &len, 4);
	assert_int_equal(ev_payload_next(raw, 64, &pos, &r), -EINVAL);
	assert_int_equal(ev_payload_next(raw, 2, &pos, &r), -EINVAL);
}

/* A header as the writer fills it, for a payload compressed by the caller. */
static void hdr_for(struct ev_block_hdr *h, uint32_t version, uint32_t flags, size_t raw_len,
		    size_t comp_len)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, EV_MAGIC, 8);
	h->version = version;
	h->flags = flags;
	h->hdr_len = EV_HDR_LEN;
	h->raw_len = (uint32_t)raw_len;
	h->comp_len = (uint32_t)comp_len;
}

static const char payload[] = "{\"event\":\"open\",\"session_id\":7,\"path\":\"/srv/crm/a.csv\"}"
			      "{\"event\":\"open\",\"session_id\":7,\"path\":\"/srv/crm/b.csv\"}";

static void test_ev_block_compress_round_trips_as_version_2(void **state)
{
	struct ev_block_hdr h;
	unsigned char *comp, raw[sizeof(payload)];
	uint32_t flags;
	size_t n = ev_block_compress(payload, sizeof(payload), &comp, &flags);

	assert_true(n > 0);
	assert_int_equal(flags, EV_CODEC_LZ4 << EV_CODEC_SHIFT);
	hdr_for(&h, EV_VERSION, flags, sizeof(payload), n);
	assert_true(ev_hdr_plausible(&h));
	assert_int_equal(ev_block_decompress(&h, comp, raw), 0);
	assert_memory_equal(raw, payload, sizeof(payload));
	/* A flipped byte or a short payload is refused, never read past. */
	comp[n / 2] ^= 0x55;
	hdr_for(&h, EV_VERSION, flags, sizeof(payload), n - 3);
	assert_int_equal(ev_block_decompress(&h, comp, raw), -EINVAL);
	free(comp);
}

static void test_ev_block_decompress_reads_version_1_zlib(void **state)
{
	struct ev_block_hdr h;
	unsigned char comp[512], raw[sizeof(payload)];
	uLongf n = sizeof(comp);

	assert_int_equal(compress2(comp, &n, (const Bytef *)payload, sizeof(payload), 1), Z_OK);
	hdr_for(&h, 1, 0, sizeof(payload), n);
	assert_true(ev_hdr_plausible(&h));
	assert_int_equal(ev_block_decompress(&h, comp, raw), 0);
	assert_memory_equal(raw, payload, sizeof(payload));
	/* Version 2 is zlib; version 3 may name zlib too. */
	hdr_for(&h, 2, EV_FLAG_SESSIONS, sizeof(payload), n);
	assert_int_equal(ev_block_decompress(&h, comp, raw), 0);
	hdr_for(&h, 3, EV_CODEC_ZLIB << EV_CODEC_SHIFT, sizeof(payload), n);
	assert_int_equal(ev_block_decompress(&h, comp, raw), 0);
	/* A raw_len that does not match what the payload holds is refused. */
	hdr_for(&h, 1, 0, sizeof(payload) - 1, n);
	assert_int_equal(ev_block_decompress(&h, comp, raw), -EINVAL);
}

static void test_ev_hdr_plausible_refuses_unknown_codecs(void **state)
{
	struct ev_block_hdr h;
	unsigned char raw[16];

	hdr_for(&h, 3, 7u << EV_CODEC_SHIFT, 10, 10);
	assert_false(ev_hdr_plausible(&h));
	assert_int_equal(ev_block_decompress(&h, raw, raw), -EINVAL);
	hdr_for(&h, 3, (EV_CODEC_LZ4 << EV_CODEC_SHIFT) | 0x100, 10, 10);
	assert_false(ev_hdr_plausible(&h));
	/* Versions 1 and 2 were zlib only: codec bits there are a forgery. */
	hdr_for(&h, 1, EV_CODEC_LZ4 << EV_CODEC_SHIFT, 10, 10);
	assert_false(ev_hdr_plausible(&h));
	hdr_for(&h, 2, EV_FLAG_SESSIONS | (EV_CODEC_LZ4 << EV_CODEC_SHIFT), 10, 10);
	assert_false(ev_hdr_plausible(&h));
	hdr_for(&h, 4, 0, 10, 10);
	assert_false(ev_hdr_plausible(&h));
	hdr_for(&h, 3, EV_FLAG_SESSIONS | (EV_CODEC_ZLIB << EV_CODEC_SHIFT), 10, 10);
	assert_true(ev_hdr_plausible(&h));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ev_index_format_round_trips),
		cmocka_unit_test(test_ev_index_parse_rejects_malformed_lines),
		cmocka_unit_test(test_ev_session_set_note_finds_sessions),
		cmocka_unit_test(test_ev_session_set_note_overflows_to_all),
		cmocka_unit_test(test_ev_payload_next_refuses_bad_framing),
		cmocka_unit_test(test_ev_block_compress_round_trips_as_version_2),
		cmocka_unit_test(test_ev_block_decompress_reads_version_1_zlib),
		cmocka_unit_test(test_ev_hdr_plausible_refuses_unknown_codecs),
	};

	return cmocka_run_group_tests_name("evidence_format", tests, NULL, NULL);
}
