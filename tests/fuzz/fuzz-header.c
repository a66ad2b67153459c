/* libFuzzer target for the header and envelope parser (maildir/header.c,
 * maildir/envelope.c): the input is a message, mostly its header block.
 * Checks the field iterator against hdr_find, the ENVELOPE lists (inside
 * the address table, groups opened before they close and never nested,
 * RFC 5322 3.4), the Date parser's zone range, and HEADER.FIELDS output
 * (CRLF line ends only, ending in the empty line, only the fields asked
 * for).  tests/unit/test-fuzz-replay.c replays tests/fuzz/corpus-header/. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/buf.h"
#include "maildir/message.h"
#include "tests/fuzz/fuzz.h"

static const char *const names[] = {
	"From", "to", "SUBJECT", "Date", "Content-Type", "x-none",
};
#define N_NAMES (sizeof(names) / sizeof(*names))

static void check_list(const struct msg_parse *p, struct msg_addr_list l)
{
	bool in_group = false;

	if (l.count == 0)
		return;
	FUZZ_CHECK(l.first < p->naddrs && l.count <= p->naddrs - l.first);
	for (uint32_t i = l.first; i < l.first + l.count; i++) {
		const struct msg_addr *a = &p->addrs[i];

		if (a->host == 0 && a->mailbox != 0) {		/* group start */
			FUZZ_CHECK(!in_group);
			in_group = true;
		} else if (a->host == 0 && a->mailbox == 0) {	/* group end */
			FUZZ_CHECK(in_group);
			in_group = false;
		}
	}
	FUZZ_CHECK(!in_group);
}

static void check_envelope(const struct msg_parse *p, const char *d,
			   size_t hdr_len)
{
	const struct msg_envelope *e;
	const char *date;
	struct hdr_field f;
	time_t t;
	int tz;

	FUZZ_CHECK(p->parts[0].envelope < p->nenvs);
	e = &p->envs[p->parts[0].envelope];
	check_list(p, e->from);
	check_list(p, e->sender);
	check_list(p, e->reply_to);
	check_list(p, e->to);
	check_list(p, e->cc);
	check_list(p, e->bcc);
	/* RFC 3501 7.4.2: sender and reply-to default to from */
	if (e->from.count > 0)
		FUZZ_CHECK(e->sender.count > 0 && e->reply_to.count > 0);
	FUZZ_CHECK((e->subject != 0) ==
		   hdr_find(d, 0, hdr_len, "subject", &f));
	date = msg_str(p, e->date);
	if (date != NULL && msg_parse_date(date, strlen(date), &t, &tz) == 0)
		FUZZ_CHECK(tz > -100 * 60 && tz < 100 * 60);
}

static void check_fields(const char *d, size_t hdr_len, bool not)
{
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	size_t i, start = 0;

	FUZZ_CHECK(msg_header_fields(d, 0, hdr_len, names, N_NAMES, not,
				     &out) == 0);
	FUZZ_CHECK(out.len >= 2 &&
		   memcmp(out.data + out.len - 2, "\r\n", 2) == 0);
	for (i = 0; i < out.len; i++)
		if (out.data[i] == '\n')
			FUZZ_CHECK(i > 0 && out.data[i - 1] == '\r');
	/* each field starts with one of the names (or not, for .NOT) */
	for (i = 0; i + 2 < out.len; i = start) {
		const char *line = out.data + i;
		const char *colon = memchr(line, ':', out.len - i);
		const char *eol = memmem(line, out.len - i, "\r\n", 2);
		bool named = false;

		FUZZ_CHECK(eol != NULL);
		start = (size_t)(eol - out.data) + 2;
		if (line[0] == ' ' || line[0] == '\t')
			continue;	/* a continuation line */
		FUZZ_CHECK(colon != NULL);
		for (size_t k = 0; k < N_NAMES; k++) {
			size_t n = strlen(names[k]);
			const char *e = line + n;

			while (e < colon && (*e == ' ' || *e == '\t'))
				e++;
			if (strncasecmp(line, names[k], n) == 0 && e == colon)
				named = true;
		}
		FUZZ_CHECK(named != not);
	}
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	size_t hdr_len = hdr_block_end(d, 0, size);
	struct msg_parse *p;
	struct hdr_iter it;
	struct hdr_field f, g;

	FUZZ_CHECK(hdr_len <= size);
	/* the first field of each name is what hdr_find finds */
	hdr_iter_init(&it, d, 0, hdr_len);
	while (hdr_iter_next(&it, &f)) {
		char name[64];

		FUZZ_CHECK(f.end <= hdr_len && f.name_off + f.name_len <= f.end);
		if (f.name_len == 0 || f.name_len >= sizeof(name) ||
		    memchr(d + f.name_off, '\0', f.name_len) != NULL)
			continue;
		memcpy(name, d + f.name_off, f.name_len);
		name[f.name_len] = '\0';
		FUZZ_CHECK(hdr_name_is(d, &f, name));
		FUZZ_CHECK(hdr_find(d, 0, hdr_len, name, &g));
		FUZZ_CHECK(g.off <= f.off);
	}
	p = msg_parse(d, size);
	FUZZ_CHECK(msg_parse_valid(p, size));
	check_envelope(p, d, hdr_len);
	check_fields(d, hdr_len, false);
	check_fields(d, hdr_len, true);
	msg_parse_free(&p);
	return 0;
}
