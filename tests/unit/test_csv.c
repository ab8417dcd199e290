// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for csv.c: quoting, and formula cells neutralised (issue 11 item 19). */
#include "unit.h"

#include "common/csv.h"

/* One field as written, NUL-terminated. */
static char *field(const char *s, bool last)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	csv_write_field(f, s, last);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void expect(const char *in, bool last, const char *out)
{
	char *got = field(in, last);

	assert_string_equal(got, out);
	free(got);
}

/* Every trigger OWASP lists, as a comm set with prctl(PR_SET_NAME) would carry it. */
static void test_csv_write_field_neutralises_formulas(void **state)
{
	expect("=cmd|' /C calc'!A0", false, "\"'=cmd|' /C calc'!A0\",");
	expect("+SUM(1+1)", false, "\"'+SUM(1+1)\",");
	expect("-2+3", false, "\"'-2+3\",");
	expect("@SUM(A1)", false, "\"'@SUM(A1)\",");
	expect("\tTAB", false, "\"'\tTAB\",");
	expect("\rCR", true, "\"' CR\"\n");
	expect("=HYPERLINK(\"http://x\")", true, "\"'=HYPERLINK(\"\"http://x\"\")\"\n");
}

static void test_csv_write_field_leaves_plain_text(void **state)
{
	expect("curl", false, "\"curl\",");
	expect("a=b+c", false, "\"a=b+c\",");
	expect(" =1+1", false, "\" =1+1\",");
	expect("", true, "\"\"\n");
	expect(NULL, true, "\"\"\n");
	expect("two\nlines", true, "\"two lines\"\n");
}

static void test_csv_is_formula(void **state)
{
	assert_true(csv_is_formula("=1"));
	assert_true(csv_is_formula("-"));
	assert_false(csv_is_formula("1-2"));
	assert_false(csv_is_formula(""));
	assert_false(csv_is_formula(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_write_field_neutralises_formulas),
		cmocka_unit_test(test_csv_write_field_leaves_plain_text),
		cmocka_unit_test(test_csv_is_formula),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
