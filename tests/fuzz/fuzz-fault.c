/* libFuzzer target for the fault rule and name-suffix parsers
 * (common/fault.h).  The first byte picks the protocol; the rest is read
 * twice: as a name a client might use (fault_take_name with injection on:
 * it adds rules and shortens the name, or leaves it exactly as it was),
 * and as "PROTO CMD ACTION" words (fault_parse: a rule that parses is
 * written back by fault_describe to words that parse to the same rule).
 * tests/unit/test-fuzz-replay.c replays tests/fuzz/corpus-fault/. */
#include <stdio.h>
#include <string.h>

#include "common/fault.h"
#include "common/xalloc.h"
#include "tests/fuzz/fuzz.h"

static const enum service_id svcs[] = { SVC_SMTP, SVC_POP3, SVC_IMAP };

static void check_name(const struct config *cfg, enum service_id svc,
		       const char *text)
{
	struct proto_io io;
	struct fault_session fs;
	char *name = xstrdup(text);
	size_t len = strlen(name);
	int n;

	io_init_test(&io, cfg, svc);
	fault_session_init(&fs, &io);
	n = fault_take_name(&fs, &io, name);
	FUZZ_CHECK(n >= -1 && n <= FAULT_MAX_NAMED);
	FUZZ_CHECK((size_t)(n > 0 ? n : 0) == fs.n_named);
	if (n <= 0)
		FUZZ_CHECK(strcmp(name, text) == 0);
	else
		FUZZ_CHECK(strlen(name) < len);
	for (size_t i = 0; i < fs.n_named; i++) {
		FUZZ_CHECK(fs.named[i].proto == fault_proto_of(svc));
		FUZZ_CHECK(fault_find(&fs, fs.named[i].cmd,
				      FAULT_KIND_BIT(fs.named[i].kind), 0,
				      true) != NULL);
	}
	fault_session_free(&fs);
	io_free(&io);
	free(name);
}

static void check_rule(const char *text)
{
	char w[3][64], err[256];
	struct fault f, g;
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	if (sscanf(text, "%63s %63s %63s", w[0], w[1], w[2]) != 3)
		return;
	memset(err, 'x', sizeof(err));
	if (fault_parse(w[0], w[1], w[2], &f, err, sizeof(err)) < 0) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		return;
	}
	fault_describe(&f, &b);
	FUZZ_CHECK(sscanf(buf_cstr(&b), "%63s %63s %63s", w[0], w[1], w[2]) == 3);
	FUZZ_CHECK(fault_parse(w[0], w[1], w[2], &g, err, sizeof(err)) == 0);
	FUZZ_CHECK(f.proto == g.proto && f.kind == g.kind && f.arg == g.arg &&
		   strcmp(f.cmd, g.cmd) == 0);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	static int ready;
	char *text;

	if (!ready) {
		config_defaults(&cfg, "/nonexistent/fuzz");
		cfg.fault_injection = true;
		ready = 1;
	}
	if (size == 0)
		return 0;
	text = xmalloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	check_name(&cfg, svcs[data[0] % 3], text);
	check_rule(text);
	free(text);
	return 0;
}
