/* libFuzzer target for the DNS response parser of MX routing
 * (smtpd/dns-answer.h): the input is a DNS message as a resolver returns
 * it.  It is read for MX, A and AAAA records; each either does not parse
 * (-1) or gives at most `max` records: MX sorted by preference with
 * NUL-terminated host names, addresses that parse back as addresses.
 * tests/unit/test-fuzz-replay.c replays tests/fuzz/corpus-dns-answer/. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <string.h>

#include "common/xalloc.h"
#include "smtpd/dns-answer.h"
#include "tests/fuzz/fuzz.h"

#define MAX_RECORDS 10

static void check_mx(const unsigned char *msg, size_t size)
{
	struct dns_mx mx[MAX_RECORDS];
	int n = dns_answer_mx(msg, size, mx, MAX_RECORDS);

	FUZZ_CHECK(n >= -1 && n <= MAX_RECORDS);
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(memchr(mx[i].host, '\0', sizeof(mx[i].host)) != NULL);
		FUZZ_CHECK(mx[i].pref <= 65535);
		FUZZ_CHECK(i == 0 || mx[i - 1].pref <= mx[i].pref);
	}
}

static void check_addrs(const unsigned char *msg, size_t size, int type)
{
	char addrs[MAX_RECORDS][DNS_ADDR_MAX];
	unsigned char bin[16];
	int family = type == ns_t_a ? AF_INET : AF_INET6;
	int n = dns_answer_addrs(msg, size, type, addrs, MAX_RECORDS);

	FUZZ_CHECK(n >= -1 && n <= MAX_RECORDS);
	for (int i = 0; i < n; i++)
		FUZZ_CHECK(inet_pton(family, addrs[i], bin) == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly its size, so that ASan sees a read past it */
	unsigned char *msg = xmalloc(size > 0 ? size : 1);

	memcpy(msg, data, size);
	check_mx(msg, size);
	check_addrs(msg, size, ns_t_a);
	check_addrs(msg, size, ns_t_aaaa);
	free(msg);
	return 0;
}
