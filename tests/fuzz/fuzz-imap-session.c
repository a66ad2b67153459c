/* libFuzzer target for the IMAP state machine (imapd/imap.h) driven by
 * tests/fuzz/fuzz-session.h: commands and literals (synchronising, "{n+}",
 * APPEND's streamed one) in chunks the input decides, on the IMAP and
 * IMAPS ports, against a mailbox of three messages.  Checks that the output
 * is whole CRLF lines.
 * tests/unit/test-fuzz-replay.c replays tests/fuzz/corpus-imap-session/. */
#include "imapd/imap.h"
#include "tests/fuzz/fuzz-session.h"

static const enum service_id imap_services[4] = {
	SVC_IMAP, SVC_IMAPS, SVC_IMAP, SVC_IMAP,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_instance_init("hostname = mx.lab.test\ndomains = lab.test\n"
			   "max_imap_line = 4000\nmax_literal_size = 65536\n");
	fuzz_instance_reset();
	fuzz_session_run(&imap_protocol, imap_services, 0, data, size);
	return 0;
}
