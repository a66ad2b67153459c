/* libFuzzer target for the SMTP state machine (smtpd/smtp.h) driven by
 * tests/fuzz/fuzz-session.h: commands, DATA bodies and BDAT chunks in
 * chunks the input decides, on port 25, 587 or 465, delivering into a
 * temporary instance.  Checks that replies are whole CRLF lines of at
 * most 512 octets (RFC 5321 4.5.3.1.5), whatever the client sends.
 * tests/unit/test-fuzz-replay.c replays tests/fuzz/corpus-smtp-session/. */
#include "smtpd/smtp.h"
#include "tests/fuzz/fuzz-session.h"

static const enum service_id smtp_services[4] = {
	SVC_SMTP, SVC_SUBMISSION, SVC_SUBMISSIONS, SVC_SMTP,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_instance_init("hostname = mx.lab.test\ndomains = lab.test\n"
			   "max_message_size = 65536\nmax_recipients = 8\n"
			   "smtp_postmaster_user = alice\n");
	fuzz_instance_reset();
	fuzz_session_run(&smtp_protocol, smtp_services, 512, data, size);
	return 0;
}
