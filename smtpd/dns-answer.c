/* DNS responses for MX routing (smtpd/dns-answer.h), parsed with glibc's
 * ns_* functions from libresolv. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <sys/socket.h>

#include "smtpd/dns-answer.h"

/* Opens response for reading: its answer count, or -1. */
static int open_answer(const unsigned char *response, size_t len, ns_msg *msg)
{
	/* RFC 1035 4.2.1: a message over UDP is at most 512 bytes, over TCP
	 * at most 65535; ns_initparse takes an int */
	if (len > 65535 || ns_initparse(response, (int)len, msg) < 0)
		return -1;
	return ns_msg_count(*msg, ns_s_an);
}

int dns_answer_mx(const unsigned char *response, size_t len,
		  struct dns_mx *mx, size_t max)
{
	ns_msg msg;
	ns_rr rr;
	int count = open_answer(response, len, &msg);
	size_t n = 0;

	for (int i = 0; i < count && max > 0; i++) {
		struct dns_mx m;
		size_t j;

		/* RFC 1035 3.3.9: 16-bit PREFERENCE, then EXCHANGE (at least
		 * the root's one byte) */
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 ||
		    ns_rr_type(rr) != ns_t_mx || ns_rr_rdlen(rr) < 3)
			continue;
		m.pref = ns_get16(ns_rr_rdata(rr));
		if (ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg),
				       ns_rr_rdata(rr) + 2, m.host,
				       sizeof(m.host)) < 0)
			continue;
		/* the best max of them, whatever their order in the
		 * response: insertion sort, stable (equal preferences keep
		 * DNS order), the worst dropped once mx is full */
		if (n == max && mx[n - 1].pref <= m.pref)
			continue;
		j = n < max ? n++ : n - 1;
		for (; j > 0 && mx[j - 1].pref > m.pref; j--)
			mx[j] = mx[j - 1];
		mx[j] = m;
	}
	return count < 0 ? -1 : (int)n;
}

int dns_answer_addrs(const unsigned char *response, size_t len, int type,
		     char (*addrs)[DNS_ADDR_MAX], size_t max)
{
	int family = type == ns_t_a ? AF_INET : AF_INET6;
	size_t rdlen = family == AF_INET ? 4 : 16, n = 0;
	ns_msg msg;
	ns_rr rr;
	int count = open_answer(response, len, &msg);

	if (type != ns_t_a && type != ns_t_aaaa)
		return -1;
	for (int i = 0; i < count && n < max; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 ||
		    (int)ns_rr_type(rr) != type || ns_rr_rdlen(rr) != rdlen ||
		    inet_ntop(family, ns_rr_rdata(rr), addrs[n],
			      DNS_ADDR_MAX) == NULL)
			continue;
		n++;
	}
	return count < 0 ? -1 : (int)n;
}
