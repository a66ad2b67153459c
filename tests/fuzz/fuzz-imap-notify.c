/* libFuzzer target for NOTIFY's arguments (imapd/notify-parse.c, RFC 5465
 * 8): the input is what follows "NOTIFY" on the command line (literals
 * inline, as struct imap_cmdbuf collects them).  Checks: a failure names
 * an error and leaves the position inside the input; a success is NONE
 * or has groups, at most one of them SELECTED or SELECTED-DELAYED whose
 * events keep the rules of RFC 5465 5 and 6.1, counts the names it holds,
 * keeps MessageNew's fetch attributes as text that parses again without
 * setting \Seen, and matches folder names only with supported events.
 * tests/unit/test-fuzz-replay.c replays tests/fuzz/corpus-imap-notify/. */
#include <stdbool.h>
#include <string.h>

#include "imapd/notify.h"
#include "imapd/parser.h"
#include "tests/fuzz/fuzz.h"

static void check_selected(const struct notify_spec *spec)
{
	const unsigned new_exp = NOTIFY_MESSAGE_NEW | NOTIFY_MESSAGE_EXPUNGE;
	unsigned ev = spec->selected_events;
	size_t nsel = 0;

	for (size_t i = 0; i < spec->ngroups; i++)
		if (spec->groups[i].filter == NOTIFY_SELECTED ||
		    spec->groups[i].filter == NOTIFY_SELECTED_DELAYED)
			nsel++;
	FUZZ_CHECK(nsel == (spec->has_selected ? 1u : 0u));
	if (!spec->has_selected)
		return;
	FUZZ_CHECK((ev & ~(NOTIFY_MESSAGE_EVENTS | NOTIFY_EVENT_UNKNOWN)) == 0);
	FUZZ_CHECK((ev & new_exp) == 0 || (ev & new_exp) == new_exp);
	FUZZ_CHECK(!(ev & NOTIFY_FLAG_CHANGE) || (ev & new_exp) == new_exp);
}

static void check_spec(const struct notify_spec *spec)
{
	size_t names = 0;

	FUZZ_CHECK(spec->none || spec->ngroups > 0);
	FUZZ_CHECK(!spec->none || spec->ngroups == 0);
	for (size_t i = 0; i < spec->ngroups; i++) {
		const struct notify_group *g = &spec->groups[i];

		names += g->nnames;
		FUZZ_CHECK(g->nnames == 0 || g->filter == NOTIFY_SUBTREE ||
			   g->filter == NOTIFY_MAILBOXES);
		FUZZ_CHECK((g->events & spec->used) == g->events);
	}
	FUZZ_CHECK(names == spec->nnames);
	check_selected(spec);
	if (spec->has_fetch) {
		struct imap_parser p;
		struct imap_fetch f;

		FUZZ_CHECK(spec->fetch_text != NULL);
		memset(&f, 0, sizeof(f));
		imap_parser_init(&p, spec->fetch_text, strlen(spec->fetch_text));
		FUZZ_CHECK(imap_parse_fetch(&p, &f) == 0);
		FUZZ_CHECK(!imap_fetch_sets_seen(&f));
		imap_fetch_free(&f);
	}
	for (size_t i = 0; i < spec->ngroups; i++)
		for (size_t j = 0; j < spec->groups[i].nnames; j++)
			FUZZ_CHECK((notify_spec_events(spec,
					spec->groups[i].names[j], true) &
				    ~NOTIFY_SUPPORTED) == 0);
	FUZZ_CHECK((notify_spec_events(spec, "INBOX", false) &
		    ~NOTIFY_SUPPORTED) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct notify_spec spec;
	struct imap_parser p;
	int ret;

	imap_parser_init(&p, (const char *)data, size);
	ret = imap_notify_parse(&p, &spec);
	FUZZ_CHECK(ret == 0 || ret == -1);
	FUZZ_CHECK(p.pos <= p.len);
	if (ret < 0)
		FUZZ_CHECK(p.error != NULL);
	else
		check_spec(&spec);
	notify_spec_free(&spec);
	return 0;
}
