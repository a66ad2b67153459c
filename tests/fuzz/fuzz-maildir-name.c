/* libFuzzer target for Maildir file names (maildir/name.h): the names in
 * a folder may come from any other software, and the first SELECT of a
 * folder never indexed takes sizes and dates from them alone.  The input
 * is a name (cut at the first NUL).  Invariants: parsing never reads past
 * the name; a name without ",S=" reports no size and one without ",W="
 * no wire size; the base name is a prefix no longer than the name; the
 * flags are only those of the letters after ":2,"; ordering a name with
 * itself gives 0, and two names order antisymmetrically.
 * tests/unit/test-fuzz-replay.c replays tests/fuzz/corpus-maildir-name/. */
#include <string.h>

#include "common/xalloc.h"
#include "maildir/name.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = xstrndup((const char *)data, size);
	size_t len = strlen(name), half = len / 2;
	struct maildir_name_info info;
	char *first = xstrndup(name, half);

	maildir_name_parse(name, &info);
	if (strstr(name, ",S=") == NULL)
		FUZZ_CHECK(!info.has_size);
	if (strstr(name, ",W=") == NULL)
		FUZZ_CHECK(!info.has_wire);
	FUZZ_CHECK(info.sec >= 0 && info.usec >= 0);
	FUZZ_CHECK(maildir_base_len(name) <= len);
	if (strstr(name, ":2,") == NULL)
		FUZZ_CHECK(maildir_flags_from_name(name) == 0);
	FUZZ_CHECK(maildir_name_cmp_delivery(name, name) == 0);
	{
		int ab = maildir_name_cmp_delivery(name, first);
		int ba = maildir_name_cmp_delivery(first, name);

		FUZZ_CHECK((ab > 0) == (ba < 0) && (ab == 0) == (ba == 0));
	}
	free(first);
	free(name);
	return 0;
}
