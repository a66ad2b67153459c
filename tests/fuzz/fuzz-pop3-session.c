/* libFuzzer target for the POP3 state machine (pop3d/pop3.h) driven by
 * tests/fuzz/fuzz-session.h: commands in chunks the input decides, on the
 * POP3 and POP3S ports, against a maildrop of three messages.  Checks that
 * the output is whole CRLF lines.
 * tests/unit/test-fuzz-replay.c replays tests/fuzz/corpus-pop3-session/. */
#include "pop3d/pop3.h"
#include "tests/fuzz/fuzz-session.h"

static const enum service_id pop3_services[4] = {
	SVC_POP3, SVC_POP3S, SVC_POP3, SVC_POP3,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_instance_init("hostname = mx.lab.test\ndomains = lab.test\n"
			   "pop3_login_delay = 0\npop3_apop = yes\n");
	fuzz_instance_reset();
	fuzz_session_run(&pop3_protocol, pop3_services, 0, data, size);
	return 0;
}
