/* Base subject extraction, RFC 5256 section 2.1 (steps numbered as
 * there). */
#include <string.h>
#include <strings.h>

#include "imapd/base-subject.h"
#include "maildir/message.h"

struct subj {
	const char *s;
	size_t start, end;	/* the text left: s[start..end) */
	bool reply;
};

static bool at_ci(const struct subj *sj, size_t pos, const char *word)
{
	size_t n = strlen(word);

	return pos <= sj->end && sj->end - pos >= n &&
	       strncasecmp(sj->s + pos, word, n) == 0;
}

static size_t skip_wsp(const struct subj *sj, size_t pos)
{
	while (pos < sj->end && sj->s[pos] == ' ')
		pos++;
	return pos;
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP: the offset after it, or 0 when
 * there is none at pos (pos itself is never 0 after a blob). */
static size_t blob_end(const struct subj *sj, size_t pos)
{
	size_t i;

	if (pos >= sj->end || sj->s[pos] != '[')
		return 0;
	for (i = pos + 1; i < sj->end; i++) {
		if (sj->s[i] == '[')
			return 0;
		if (sj->s[i] == ']')
			return skip_wsp(sj, i + 1);
	}
	return 0;
}

/* Step 2: subj-trailer = "(fwd)" / WSP, repeatedly from the end. */
static void strip_trailers(struct subj *sj)
{
	for (;;) {
		if (sj->end > sj->start && sj->s[sj->end - 1] == ' ') {
			sj->end--;
		} else if (sj->end - sj->start >= 5 &&
			   at_ci(sj, sj->end - 5, "(fwd)")) {
			sj->end -= 5;
			sj->reply = true;
		} else {
			return;
		}
	}
}

/* Step 3: subj-leader = (*subj-blob subj-refwd) / WSP, where
 * subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":". */
static bool strip_leader(struct subj *sj)
{
	size_t p = sj->start, b;

	if (p < sj->end && sj->s[p] == ' ') {
		sj->start++;
		return true;
	}
	while ((b = blob_end(sj, p)) != 0)
		p = b;
	if (at_ci(sj, p, "re"))
		p += 2;
	else if (at_ci(sj, p, "fwd"))
		p += 3;
	else if (at_ci(sj, p, "fw"))
		p += 2;
	else
		return false;
	p = skip_wsp(sj, p);
	if ((b = blob_end(sj, p)) != 0)
		p = b;
	if (p >= sj->end || sj->s[p] != ':')
		return false;
	sj->start = p + 1;
	sj->reply = true;
	return true;
}

/* Step 4: a leading subj-blob goes unless it is all that is left. */
static bool strip_blob(struct subj *sj)
{
	size_t b = blob_end(sj, sj->start);

	if (b == 0 || b >= sj->end)
		return false;
	sj->start = b;
	return true;
}

/* Step 1 after decoding: tabs and line ends become spaces, runs of
 * spaces one space; NUL bytes (from "=00") go, keys being C strings. */
static void squeeze_spaces(struct buf *b)
{
	size_t w = 0;

	for (size_t r = 0; r < b->len; r++) {
		char c = b->data[r];

		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (c == '\0')
			continue;
		if (c == ' ' && w > 0 && b->data[w - 1] == ' ')
			continue;
		b->data[w++] = c;
	}
	buf_truncate(b, w);
}

bool imap_base_subject(const char *subject, size_t len, struct buf *out)
{
	struct buf text = BUF_INIT(BUF_UNLIMITED);
	struct subj sj;
	bool changed;

	/* step 1: RFC 2047 words decoded to UTF-8, whitespace squeezed */
	mime_decode_header(subject, len, &text);
	squeeze_spaces(&text);
	sj.s = text.data != NULL ? text.data : "";
	sj.start = 0;
	sj.end = text.len;
	sj.reply = false;
	for (;;) {
		strip_trailers(&sj);			/* step 2 */
		do {					/* steps 3-5 */
			changed = strip_leader(&sj);
			if (!changed)
				changed = strip_blob(&sj);
		} while (changed);
		/* step 6: "[fwd:" subject "]", then again from step 2 */
		if (sj.end - sj.start >= 6 && at_ci(&sj, sj.start, "[fwd:") &&
		    sj.s[sj.end - 1] == ']') {
			sj.start += 5;
			sj.end--;
			sj.reply = true;
			continue;
		}
		break;
	}
	for (size_t i = sj.start; i < sj.end; i++) {
		char c = sj.s[i];

		buf_putc(out, c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c);
	}
	buf_free(&text);
	return sj.reply;
}
