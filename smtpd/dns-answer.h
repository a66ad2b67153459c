#ifndef SMTPD_DNS_ANSWER_H
#define SMTPD_DNS_ANSWER_H
#include <stddef.h>

/* The parts of a DNS response (RFC 1035 4.1) that MX routing reads
 * (smtpd/route.c): the MX records, and the A/AAAA records of a host.
 * Pure functions over the bytes the resolver returned, so that a fuzzer
 * can drive them (tests/fuzz/fuzz-dns-answer.c). */

#define DNS_NAME_MAX 1025	/* NS_MAXDNAME: a name in text, with its NUL */
#define DNS_ADDR_MAX 46		/* INET6_ADDRSTRLEN */

struct dns_mx {
	unsigned int pref;	/* RFC 1035 3.3.9 PREFERENCE */
	char host[DNS_NAME_MAX];	/* EXCHANGE; "" for the root (null MX) */
};

/* The MX records of the answer section of response[0..len), sorted by
 * preference (equal preferences keep the response's order): the max most
 * preferred into mx.  Records of other types (a CNAME before them) and malformed
 * records are skipped.  Returns how many, or -1 when the message itself
 * does not parse. */
int dns_answer_mx(const unsigned char *response, size_t len,
		  struct dns_mx *mx, size_t max);

/* The addresses of the answer section's records of `type` (ns_t_a or
 * ns_t_aaaa) in text form, at most max into addrs.  Returns how many, or
 * -1 when the message does not parse. */
int dns_answer_addrs(const unsigned char *response, size_t len, int type,
		     char (*addrs)[DNS_ADDR_MAX], size_t max);

#endif
