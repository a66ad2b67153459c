/* libFuzzer target for `maillab trace`'s reader (cli/trace-read.c) and the
 * three explain walkers behind it: the input's first byte picks the
 * service, the rest is a trace file.  Every line is read, walked, printed
 * with --explain and drawn as HTML; the page must hold one arrow element
 * per arrow the walk produced (no text from the trace may open an
 * element).  tests/unit/test-fuzz-replay.c replays
 * tests/fuzz/corpus-trace/ in `make check`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
			__LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

static size_t count(const char *hay, size_t len, const char *needle)
{
	size_t n = 0, nl = strlen(needle);

	for (const char *p = hay; p != NULL && (size_t)(p - hay) + nl <= len;) {
		p = memmem(p, len - (size_t)(p - hay), needle, nl);
		if (p != NULL) {
			n++;
			p += nl;
		}
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const services[] = {
		"smtp", "pop3", "imap", "submission", "imaps", "unknown",
	};
	struct trace_session ts;
	struct show_list list;
	char *text, *line, *next, *page = NULL, outcome[64];
	size_t page_len = 0, arrows;
	FILE *out;

	if (size < 1)
		return 0;
	memset(&ts, 0, sizeof(ts));
	snprintf(ts.service, sizeof(ts.service), "%s",
		 services[data[0] % (sizeof(services) / sizeof(services[0]))]);
	text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	for (line = text; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		trace_session_add_line(&ts, line);
	}
	free(text);
	trace_session_outcome(&ts, outcome, sizeof(outcome));
	FUZZ_CHECK(trace_session_duration(&ts) >= 0);
	show_build(&ts, &list);
	arrows = list.n_arrows;
	show_free(&list);
	out = open_memstream(&page, &page_len);
	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(trace_show_text(&ts, (data[0] & 0x80) != 0, out) == 0);
	fclose(out);
	free(page);
	out = open_memstream(&page, &page_len);
	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(trace_show_html(&ts, out) == 0);
	fclose(out);
	FUZZ_CHECK(count(page, page_len, "<g class=\"arrow ") == arrows);
	FUZZ_CHECK(count(page, page_len, "<script") == 0);
	free(page);
	trace_session_free(&ts);
	return 0;
}
