/* `maillab trace show ID --html`: the session as a sequence diagram for a
 * projector.  One self-contained page: inline SVG and CSS, no script, no
 * fonts or images fetched.  Client on the left, server on the right, one
 * arrow per line of dialogue with its explanation beside it; the session's
 * state in a band whenever it changes; TLS turns the lifelines green from
 * the handshake on; the steps of a login are drawn in orange; a rule the
 * client broke (strict mode) is a red event with a RULE badge. */
#include <stdio.h>
#include <string.h>

#include "cli/trace.h"
#include "common/buf.h"

#define PAGE_W		1500
#define TIME_X		4
#define CLIENT_X	170
#define SERVER_X	830
#define EXPL_X		862
#define EXPL_CHARS	74	/* explanation wrap width at 14px */
#define LABEL_CHARS	72	/* dialogue text between the lifelines */
#define LINE_H		18
#define TOP		130

/* Appends s with &, <, > and " escaped, at most `max` characters (then
 * an ellipsis).  The trace is ASCII with escapes; the state labels hold a
 * UTF-8 middle dot, kept whole. */
static void put_escaped(struct buf *b, const char *s, size_t max)
{
	size_t shown = 0;

	for (; *s != '\0'; s++) {
		/* counted and cut at the start of a character, never inside */
		if ((*s & 0xc0) != 0x80 && shown++ == max) {
			buf_puts(b, "\xe2\x80\xa6");
			return;
		}
		switch (*s) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		default: buf_putc(b, *s); break;
		}
	}
}

/* Writes `text` as <text> lines of at most EXPL_CHARS, starting at y;
 * returns how many lines it took. */
static size_t put_wrapped(struct buf *b, const char *text, const char *rfc,
			  int y)
{
	struct buf line = BUF_INIT(BUF_UNLIMITED);
	size_t lines = 0;
	const char *p = text;

	while (*p != '\0') {
		size_t n = strlen(p), cut = n;

		if (n > EXPL_CHARS) {
			cut = EXPL_CHARS;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = EXPL_CHARS;
		}
		buf_clear(&line);
		buf_append(&line, p, cut);
		buf_printf(b, "<text class=\"expl\" x=\"%d\" y=\"%d\">", EXPL_X,
			   y + (int)lines * LINE_H);
		put_escaped(b, buf_cstr(&line), (size_t)-1);
		p += cut;
		while (*p == ' ')
			p++;
		if (*p == '\0' && rfc[0] != '\0') {
			buf_puts(b, " <tspan class=\"rfc\">");
			put_escaped(b, rfc, (size_t)-1);
			buf_puts(b, "</tspan>");
		}
		buf_puts(b, "</text>\n");
		lines++;
	}
	buf_free(&line);
	return lines;
}

static size_t put_rows(struct buf *b, const struct explain_line *ex, int y)
{
	size_t lines = 0;

	for (size_t i = 0; i < ex->n_rows; i++)
		lines += put_wrapped(b, ex->rows[i]->text, ex->rows[i]->rfc,
				     y + (int)lines * LINE_H);
	return lines;
}

static int draw_arrow(struct buf *b, const struct show_item *it, int y)
{
	bool c2s = it->who == 'C';
	const char *kind = it->ex.auth ? " auth" : it->ex.tls ? " tls" : "";
	int from = c2s ? CLIENT_X : SERVER_X, to = c2s ? SERVER_X : CLIENT_X;
	size_t lines;
	int h;

	buf_printf(b, "<g class=\"arrow %s%s%s%s\">\n<title>", c2s ? "c2s" : "s2c",
		   kind, it->elided ? " elided" : "", it->ex.fault ? " fault" : "");
	put_escaped(b, it->text, (size_t)-1);
	buf_printf(b, "</title>\n<text class=\"time\" x=\"%d\" y=\"%d\">%s</text>\n",
		   TIME_X, y + 16, it->time);
	buf_printf(b, "<text class=\"msg\" x=\"%d\" y=\"%d\">%s",
		   CLIENT_X + 14, y + 16, c2s ? "C: " : "S: ");
	put_escaped(b, it->text, LABEL_CHARS);
	buf_puts(b, "</text>\n");
	buf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		   "marker-end=\"url(#head%s)\"/>\n", from, y + 26,
		   c2s ? to - 4 : to + 4, y + 26, kind[0] ? kind + 1 : c2s ? "c" : "s");
	if (it->ex.fault)
		buf_printf(b, "<g class=\"badge fault\"><rect x=\"%d\" y=\"%d\" "
			   "width=\"72\" height=\"20\" rx=\"4\"/><text x=\"%d\" "
			   "y=\"%d\">INJECTED</text></g>\n", CLIENT_X - 80, y + 16,
			   CLIENT_X - 44, y + 31);
	else if (it->ex.auth)
		buf_printf(b, "<g class=\"badge\"><rect x=\"%d\" y=\"%d\" "
			   "width=\"48\" height=\"20\" rx=\"4\"/><text x=\"%d\" "
			   "y=\"%d\">AUTH</text></g>\n", CLIENT_X - 64, y + 16,
			   CLIENT_X - 40, y + 31);
	lines = put_rows(b, &it->ex, y + 14);
	buf_puts(b, "</g>\n");
	h = 10 + (int)lines * LINE_H;
	return h > 40 ? h : 40;
}

static int draw_state(struct buf *b, const struct show_item *it, int y)
{
	buf_printf(b, "<g class=\"state\"><rect x=\"%d\" y=\"%d\" width=\"%d\" "
		   "height=\"26\" rx=\"13\"/><text x=\"%d\" y=\"%d\">state: ",
		   CLIENT_X + 60, y + 4, SERVER_X - CLIENT_X - 120,
		   (CLIENT_X + SERVER_X) / 2, y + 22);
	put_escaped(b, it->text, (size_t)-1);
	buf_puts(b, "</text></g>\n");
	return 36;
}

static int draw_event(struct buf *b, const struct show_item *it, int y,
		      int *tls_y)
{
	const char *cls = it->ex.fault ? "event fault" :
			  it->ex.broken_rule ? "event strict" :
			  it->ex.tls ? "event tls" : it->ex.auth ? "event auth" :
			  "event";
	size_t lines = 0;
	int h;

	if (it->ex.tls && strncmp(it->text, "TLS established", 15) == 0 &&
	    *tls_y < 0)
		*tls_y = y + 14;
	buf_printf(b, "<g class=\"%s\"><rect x=\"%d\" y=\"%d\" width=\"%d\" "
		   "height=\"24\" rx=\"4\"/>\n", cls, CLIENT_X + 20, y + 2,
		   SERVER_X - CLIENT_X - 40);
	buf_printf(b, "<text class=\"time\" x=\"%d\" y=\"%d\">%s</text>\n",
		   TIME_X, y + 19, it->time);
	buf_printf(b, "<text class=\"note\" x=\"%d\" y=\"%d\">",
		   (CLIENT_X + SERVER_X) / 2, y + 19);
	put_escaped(b, it->text, LABEL_CHARS);
	buf_puts(b, "</text>\n");
	if (it->ex.broken_rule) {
		/* strict mode (common/strict.h): the client broke a rule */
		buf_printf(b, "<g class=\"badge strict\"><rect x=\"%d\" y=\"%d\" "
			   "width=\"48\" height=\"20\" rx=\"4\"/><text x=\"%d\" "
			   "y=\"%d\">RULE</text></g>\n", CLIENT_X - 64, y + 4,
			   CLIENT_X - 40, y + 19);
		buf_printf(b, "<text class=\"expl rulehead\" x=\"%d\" y=\"%d\">"
			   "Broken rule (strict mode):</text>\n", EXPL_X, y + 18);
		lines = 1;
	}
	lines += put_rows(b, &it->ex, y + 18 + (int)lines * LINE_H);
	buf_puts(b, "</g>\n");
	h = 12 + (int)lines * LINE_H;
	return h > 34 ? h : 34;
}

static const char style[] =
	"body{margin:24px;font-family:'DejaVu Sans',Verdana,sans-serif;"
	"color:#1a1a1a;background:#fff}\n"
	"h1{font-size:26px;margin:0 0 6px}\n"
	"p.sub{font-size:16px;color:#444;margin:0 0 10px}\n"
	"svg text{font-size:14px}\n"
	"svg .msg{font-family:'DejaVu Sans Mono',monospace;font-size:14px;"
	"font-weight:bold}\n"
	"svg .s2c .msg{fill:#0b5d3b}\n"
	"svg .c2s .msg{fill:#123f8c}\n"
	"svg .arrow line{stroke-width:2.5}\n"
	"svg .c2s line{stroke:#123f8c}\n"
	"svg .s2c line{stroke:#0b5d3b}\n"
	"svg .auth line{stroke:#c25400}\n"
	"svg .tls line{stroke:#2e8b57}\n"
	"svg .tls .msg{fill:#1d6b40}\n"
	"svg .auth .msg{fill:#c25400}\n"
	"svg .elided line{stroke-dasharray:8 5}\n"
	"svg .elided .msg{font-style:italic;font-weight:normal}\n"
	"svg .expl{fill:#333}\n"
	"svg .rfc{fill:#777;font-style:italic;font-size:12px}\n"
	"svg .time{fill:#888;font-size:12px;font-family:'DejaVu Sans Mono',monospace}\n"
	"svg .badge rect{fill:#c25400}\n"
	"svg .badge text{fill:#fff;font-size:12px;font-weight:bold;"
	"text-anchor:middle}\n"
	"svg .state rect{fill:#eef0f7;stroke:#8a93b8}\n"
	"svg .state text{text-anchor:middle;font-weight:bold;fill:#2b3566}\n"
	"svg .event rect{fill:#f6f6f6;stroke:#ccc}\n"
	"svg .event.tls rect{fill:#dff3e4;stroke:#2e8b57}\n"
	"svg .event.auth rect{fill:#fff0e0;stroke:#c25400}\n"
	"svg .event.fault rect{fill:#fde2e2;stroke:#b00020;stroke-width:2}\n"
	"svg .event.fault .note{fill:#b00020;font-weight:bold}\n"
	"svg .fault line{stroke:#b00020;stroke-dasharray:4 3}\n"
	"svg .fault .msg{fill:#b00020}\n"
	"svg .badge.fault rect{fill:#b00020}\n"
	"svg .event.strict rect{fill:#fde4e4;stroke:#b3261e;stroke-width:2}\n"
	"svg .event.strict .note{fill:#b3261e;font-style:normal;font-weight:bold}\n"
	"svg .badge.strict rect{fill:#b3261e}\n"
	"svg .rulehead{fill:#b3261e;font-weight:bold}\n"
	"svg .note{text-anchor:middle;font-style:italic;fill:#444}\n"
	"svg .head rect{fill:#1f2a44}\n"
	"svg .head text{fill:#fff;text-anchor:middle;font-weight:bold;font-size:16px}\n"
	"svg .life{stroke:#9aa0a6;stroke-width:3}\n"
	"svg .life.tls{stroke:#2e8b57;stroke-width:6}\n"
	"svg .legend text{font-size:13px}\n";

static void put_defs(FILE *out)
{
	static const struct { const char *id, *colour; } heads[] = {
		{ "c", "#123f8c" }, { "s", "#0b5d3b" }, { "auth", "#c25400" },
		{ "tls", "#2e8b57" },
	};

	fputs("<defs>\n", out);
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
		fprintf(out, "<marker id=\"head%s\" viewBox=\"0 0 10 10\" refX=\"9\" "
			"refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" "
			"orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" "
			"fill=\"%s\"/></marker>\n", heads[i].id, heads[i].colour);
	fputs("</defs>\n", out);
}

static void put_heads(FILE *out, const struct trace_session *ts, int height,
		      int tls_y)
{
	const int x[2] = { CLIENT_X, SERVER_X };
	const char *const who[2] = { ts->peer, ts->service };
	struct buf label = BUF_INIT(BUF_UNLIMITED);

	for (int i = 0; i < 2; i++) {
		int end = tls_y >= 0 ? tls_y : height - 10;

		fprintf(out, "<line class=\"life\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
			"y2=\"%d\"/>\n", x[i], TOP - 30, x[i], end);
		if (tls_y >= 0)
			fprintf(out, "<line class=\"life tls\" x1=\"%d\" y1=\"%d\" "
				"x2=\"%d\" y2=\"%d\"/>\n", x[i], tls_y, x[i], height - 10);
		buf_clear(&label);
		buf_puts(&label, i == 0 ? "Client " : "Server ");
		put_escaped(&label, who[i], 32);
		fprintf(out, "<g class=\"head\"><rect x=\"%d\" y=\"%d\" width=\"240\" "
			"height=\"40\" rx=\"6\"/><text x=\"%d\" y=\"%d\">%s</text></g>\n",
			x[i] - 120, TOP - 70, x[i], TOP - 44, buf_cstr(&label));
	}
	fprintf(out, "<g class=\"legend\"><text x=\"%d\" y=\"%d\">What it means "
		"(RFC section in grey)</text></g>\n", SERVER_X + 140, TOP - 44);
	buf_free(&label);
}

int trace_show_html(const struct trace_session *ts, FILE *out)
{
	struct buf body = BUF_INIT(BUF_UNLIMITED), title = BUF_INIT(BUF_UNLIMITED);
	struct show_list list;
	int y = TOP, tls_y = -1;

	show_build(ts, &list);
	for (size_t i = 0; i < list.n; i++) {
		const struct show_item *it = &list.items[i];

		if (it->kind == SHOW_ARROW)
			y += draw_arrow(&body, it, y);
		else if (it->kind == SHOW_STATE)
			y += draw_state(&body, it, y);
		else
			y += draw_event(&body, it, y, &tls_y);
	}
	y += 20;
	put_escaped(&title, ts->service, 32);
	buf_puts(&title, " session ");
	put_escaped(&title, ts->id, 32);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<title>", out);
	fputs(buf_cstr(&title), out);
	fprintf(out, "</title>\n<style>\n%s</style></head>\n<body>\n<h1>", style);
	fputs(buf_cstr(&title), out);
	buf_clear(&title);
	put_escaped(&title, ts->peer[0] ? ts->peer : "?", 64);
	fprintf(out, "</h1>\n<p class=\"sub\">client %s, %s, times UTC; %zu lines "
		"of dialogue. Blue: client to server; green: server to client; "
		"orange: logging in; dashed: message data, size only; green "
		"lifelines: encrypted (TLS); red RULE: a protocol rule the client "
		"broke (strict mode).</p>\n", buf_cstr(&title),
		ts->day[0] ? ts->day : "?", ts->n_dialogue);
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n", PAGE_W, y,
		PAGE_W, y);
	put_defs(out);
	put_heads(out, ts, y, tls_y);
	fputs(buf_cstr(&body), out);
	fputs("</svg>\n</body></html>\n", out);
	buf_free(&body);
	buf_free(&title);
	show_free(&list);
	return ferror(out) ? 1 : 0;
}
