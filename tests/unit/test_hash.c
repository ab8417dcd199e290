// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for common/hash.c: FNV-1a against the reference vectors, hex, SHA-256. */
#include "unit.h"
#include "common/hash.h"

static void test_fnv1a64_matches_reference_vectors(void **state)
{
	/* Vectors from the FNV reference (isthe.com/chongo/tech/comp/fnv). */
	assert_true(fnv1a64("", 0, FNV1A64_INIT) == 0xcbf29ce484222325ULL);
	assert_true(fnv1a64("a", 1, FNV1A64_INIT) == 0xaf63dc4c8601ec8cULL);
	assert_true(fnv1a64("foobar", 6, FNV1A64_INIT) == 0x85944171f73967e8ULL);
}

static void test_fnv1a64_str_equals_bytes_and_accepts_null(void **state)
{
	assert_true(fnv1a64_str("foobar", FNV1A64_INIT) == fnv1a64("foobar", 6, FNV1A64_INIT));
	assert_true(fnv1a64_str(NULL, 7) == 7);
	/* Continuing from a previous hash is the same as hashing the concatenation. */
	assert_true(fnv1a64_str("bar", fnv1a64_str("foo", FNV1A64_INIT)) ==
		    fnv1a64_str("foobar", FNV1A64_INIT));
}

static void test_hex_encode_lower_case_terminated(void **state)
{
	const uint8_t bin[] = { 0x00, 0x0f, 0xa5, 0xff };
	char out[9];

	memset(out, 'x', sizeof(out));
	hex_encode(bin, sizeof(bin), out);
	assert_string_equal(out, "000fa5ff");
	hex_encode(bin, 0, out);
	assert_string_equal(out, "");
}

static void test_sha256_hex_known_digest(void **state)
{
	char out[SHA256_HEX_LEN];

	assert_int_equal(sha256_hex("abc", 3, out), 0);
	assert_string_equal(out,
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(sha256_hex("", 0, out), 0);
	assert_string_equal(out,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fnv1a64_matches_reference_vectors),
		cmocka_unit_test(test_fnv1a64_str_equals_bytes_and_accepts_null),
		cmocka_unit_test(test_hex_encode_lower_case_terminated),
		cmocka_unit_test(test_sha256_hex_known_digest),
	};

	return cmocka_run_group_tests_name("hash", tests, NULL, NULL);
}
