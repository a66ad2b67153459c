/* Next-hop routing (smtpd/route.h): routes table, address literals, MX
 * with A/AAAA fallback, null MX; the lab DNS (`dns NAME = ...` in
 * maillab.conf) answers for the names it knows before the resolver.  Runs on worker threads: glibc's resolver
 * keeps its state per thread. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/xalloc.h"
#include "smtpd/dns-answer.h"
#include "smtpd/route.h"

#define SMTP_PORT 25	/* of address literals */
#define MAX_MX 10
/* RFC 1035 4.2.2: over TCP a message has a 16-bit length */
#define DNS_MESSAGE_MAX 65535

_Static_assert(DNS_ADDR_MAX <= sizeof(((struct route_hop *)0)->addr),
	       "a hop holds any address text");

/* Adds every address of host (numeric or a name) as a hop; returns how
 * many were added, -1 when the name does not exist, -2 on a temporary
 * failure. */
static int add_host(struct route *r, const char *host, int port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL, *p;
	int ret, n = 0;

	ret = getaddrinfo(host, NULL, &hints, &ai);
	if (ret != 0)
		return ret == EAI_NONAME || ret == EAI_NODATA ? -1 : -2;
	for (p = ai; p != NULL && r->n_hops < ROUTE_MAX_HOPS; p = p->ai_next) {
		struct route_hop *h = &r->hops[r->n_hops];
		const void *a = p->ai_family == AF_INET ?
			(const void *)&((struct sockaddr_in *)p->ai_addr)->sin_addr :
			(const void *)&((struct sockaddr_in6 *)p->ai_addr)->sin6_addr;
		bool dup = false;

		if (p->ai_family != AF_INET && p->ai_family != AF_INET6)
			continue;
		if (inet_ntop(p->ai_family, a, h->addr, sizeof(h->addr)) == NULL)
			continue;
		for (size_t i = 0; i < r->n_hops && !dup; i++)
			dup = strcmp(r->hops[i].addr, h->addr) == 0 &&
				r->hops[i].port == port;
		if (dup)
			continue;
		snprintf(h->host, sizeof(h->host), "%s", host);
		h->port = port;
		r->n_hops++;
		n++;
	}
	freeaddrinfo(ai);
	return n;
}

static void fail(struct route *r, bool permanent, const char *fmt,
		 const char *what)
{
	r->n_hops = 0;
	r->permanent = permanent;
	snprintf(r->error, sizeof(r->error), fmt, what);
}

/* The resolver for this look-up: the system's, or dns_server (an IPv4
 * address with an optional port, for a lab).  0, or -1 with r failed. */
static int dns_open(const struct config *cfg, res_state st, struct route *r)
{
	char addr[64];
	const char *colon;
	long port = 53;
	struct sockaddr_in *sin = &st->nsaddr_list[0];

	memset(st, 0, sizeof(*st));
	if (res_ninit(st) < 0) {
		fail(r, false, "4.4.3 Cannot set up the resolver%s", "");
		return -1;
	}
	if (cfg->dns_server == NULL || cfg->dns_server[0] == '\0')
		return 0;
	colon = strchr(cfg->dns_server, ':');
	snprintf(addr, sizeof(addr), "%.*s", colon != NULL ?
		 (int)(colon - cfg->dns_server) : (int)strlen(cfg->dns_server),
		 cfg->dns_server);
	if (colon != NULL)
		port = strtol(colon + 1, NULL, 10);
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1 || port < 1 || port > 65535) {
		res_nclose(st);
		fail(r, false, "4.3.5 dns_server '%s' is not IPv4[:PORT]", cfg->dns_server);
		return -1;
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	st->nscount = 1;
	return 0;
}

/* The response to a query of `type` for name into answer: its length, 0
 * for none (NODATA), -1 the name does not exist, -2 temporary failure. */
static int query(res_state st, const char *name, int type,
		 unsigned char *answer, size_t size)
{
	int len = res_nquery(st, name, ns_c_in, type, answer, (int)size);

	if (len < 0)
		return st->res_h_errno == HOST_NOT_FOUND ? -1 :
			st->res_h_errno == NO_DATA ? 0 : -2;
	/* glibc's TCP path (send_vc) cuts a response longer than the
	 * buffer but returns its full length: read only what was stored */
	return len > (int)size ? (int)size : len;
}

/* The MX records of domain, sorted by preference: how many, 0 for none
 * (NODATA), -1 the domain does not exist, -2 temporary failure. */
static int query_mx(res_state st, const char *domain, struct dns_mx *mx,
		    size_t max)
{
	unsigned char *answer = xmalloc(DNS_MESSAGE_MAX);
	int len = query(st, domain, ns_t_mx, answer, DNS_MESSAGE_MAX);
	int n = len;

	if (len > 0) {
		n = dns_answer_mx(answer, (size_t)len, mx, max);
		if (n < 0)
			n = -2;
	}
	free(answer);
	return n;
}

/* The lab DNS's MX records of domain (common/config.h), sorted as
 * query_mx sorts; CONFIG_DNS_NOT_LAB when the lab does not know it. */
static int lab_mx(const struct config *cfg, const char *domain, struct dns_mx *mx,
		  size_t max)
{
	const char *data[MAX_MX];
	int count = config_dns_lookup(cfg, domain, "MX", data, MAX_MX);
	int n = 0;

	for (int i = 0; i < count && (size_t)n < max; i++) {
		struct dns_mx m;
		const char *host = strchr(data[i], ' ') + 1;
		int j;

		m.pref = (unsigned int)strtoul(data[i], NULL, 10);
		/* the root "." is the null MX; query_mx gives it as "" */
		snprintf(m.host, sizeof(m.host), "%s", strcmp(host, ".") == 0 ? "" : host);
		for (j = n; j > 0 && mx[j - 1].pref > m.pref; j--)
			mx[j] = mx[j - 1];
		mx[j] = m;
		n++;
	}
	return count < 0 ? count : n;
}

/* The lab DNS's A and AAAA records of host as hops, as add_addrs counts;
 * CONFIG_DNS_NOT_LAB when the lab does not know it. */
static int lab_addrs(const struct config *cfg, struct route *r,
		     const char *host, int port)
{
	static const char *const types[] = { "A", "AAAA" };
	const char *data[ROUTE_MAX_HOPS];
	int added = 0, count = CONFIG_DNS_NOT_LAB;

	for (size_t t = 0; t < 2; t++) {
		count = config_dns_lookup(cfg, host, types[t], data, ROUTE_MAX_HOPS);
		for (int i = 0; i < count && r->n_hops < ROUTE_MAX_HOPS; i++) {
			struct route_hop *h = &r->hops[r->n_hops++];

			snprintf(h->host, sizeof(h->host), "%s", host);
			snprintf(h->addr, sizeof(h->addr), "%s", data[i]);
			h->port = port;
			added++;
		}
	}
	return added > 0 ? added : count;
}

/* The A and AAAA records of host as hops: how many, -1 the name does not
 * exist, -2 temporary failure. */
static int add_addrs(const struct config *cfg, struct route *r, res_state st,
		     const char *host, int port)
{
	static const ns_type types[] = { ns_t_a, ns_t_aaaa };
	unsigned char *answer;
	int added = 0, worst = 0;

	added = lab_addrs(cfg, r, host, port);
	if (added != CONFIG_DNS_NOT_LAB)
		return added;	/* the lab answers for host: -1 or how many */
	added = 0;
	answer = xmalloc(DNS_MESSAGE_MAX);

	for (size_t t = 0; t < 2; t++) {
		char addrs[ROUTE_MAX_HOPS][DNS_ADDR_MAX];
		int len = query(st, host, types[t], answer, DNS_MESSAGE_MAX);
		int count = len > 0 ? dns_answer_addrs(answer, (size_t)len, types[t],
						       addrs, ROUTE_MAX_HOPS) : len;

		if (len > 0 && count < 0)
			count = -2;	/* a response that does not parse */
		if (count < 0 && count < worst)
			worst = count;
		for (int i = 0; i < count && r->n_hops < ROUTE_MAX_HOPS; i++) {
			struct route_hop *h = &r->hops[r->n_hops++];

			snprintf(h->host, sizeof(h->host), "%s", host);
			/* inet_ntop's text, NUL-terminated, fits */
			memcpy(h->addr, addrs[i], sizeof(addrs[i]));
			h->port = port;
			added++;
		}
	}
	free(answer);
	return added > 0 ? added : worst < 0 ? worst : 0;
}

static size_t from_mx(const struct config *cfg, struct route *r,
		      const char *domain)
{
	struct __res_state st;
	struct dns_mx mx[MAX_MX];
	int port = (int)cfg->relay_port, n, ret;
	bool temp = false;

	if (dns_open(cfg, &st, r) < 0)
		return 0;
	n = lab_mx(cfg, domain, mx, MAX_MX);
	if (n == CONFIG_DNS_NOT_LAB)
		n = query_mx(&st, domain, mx, MAX_MX);
	if (n == -1) {
		fail(r, true, "5.1.2 Domain %s does not exist", domain);
	} else if (n == -2) {
		fail(r, false, "4.4.3 DNS lookup of %s failed, will try again", domain);
	} else if (n == 1 && (mx[0].host[0] == '\0' || strcmp(mx[0].host, ".") == 0)) {
		/* RFC 7505 3: a single MX "." means the domain takes no mail. */
		fail(r, true, "5.1.10 Domain %s accepts no mail (null MX, RFC 7505)",
		     domain);
	} else if (n == 0) {
		/* RFC 5321 5.1: no MX, the domain itself is the host. */
		ret = add_addrs(cfg, r, &st, domain, port);
		if (ret <= 0)
			fail(r, ret != -2, ret != -2 ?
			     "5.1.2 Domain %s has no MX and no address" :
			     "4.4.3 Address lookup of %s failed, will try again",
			     domain);
	} else {
		for (int i = 0; i < n; i++)
			temp = add_addrs(cfg, r, &st, mx[i].host, port) == -2 || temp;
		if (r->n_hops == 0)
			fail(r, !temp, temp ? "4.4.3 No address for the MX hosts of %s yet" :
			     "5.4.4 The MX hosts of %s have no address", domain);
	}
	res_nclose(&st);
	return r->n_hops;
}

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]" (RFC 5321 4.1.3) */
static size_t from_literal(struct route *r, const char *domain)
{
	char addr[64];
	size_t len = strlen(domain);
	const char *p = domain + 1;
	unsigned char bin[16];

	if (strncasecmp(p, "IPv6:", 5) == 0)
		p += 5;
	len = strlen(p);
	if (len < 2 || len - 1 >= sizeof(addr)) {
		fail(r, true, "5.1.2 Bad address literal %s", domain);
		return 0;
	}
	memcpy(addr, p, len - 1);
	addr[len - 1] = '\0';
	if (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1) {
		fail(r, true, "5.1.2 Bad address literal %s", domain);
		return 0;
	}
	snprintf(r->hops[0].host, sizeof(r->hops[0].host), "%s", addr);
	snprintf(r->hops[0].addr, sizeof(r->hops[0].addr), "%s", addr);
	r->hops[0].port = SMTP_PORT;
	r->n_hops = 1;
	return 1;
}

/* Mail for a local domain in the queue (a bounce to a local sender) goes
 * to this server's own MX port, which delivers it like any other. */
static size_t to_self(const struct config *cfg, const char *domain,
		      struct route *r)
{
	const char *addr = cfg->n_listen > 0 ? cfg->listen[0] : "127.0.0.1";

	if (cfg->port[SVC_SMTP] == 0) {
		fail(r, false, "4.3.5 The smtp port is off: no way to deliver to %s",
		     domain);
		return 0;
	}
	if (strcmp(addr, "0.0.0.0") == 0)
		addr = "127.0.0.1";
	else if (strcmp(addr, "::") == 0)
		addr = "::1";
	snprintf(r->hops[0].host, sizeof(r->hops[0].host), "%s", cfg->hostname);
	snprintf(r->hops[0].addr, sizeof(r->hops[0].addr), "%s", addr);
	r->hops[0].port = cfg->port[SVC_SMTP];
	r->n_hops = 1;
	return 1;
}

/* A configured route (or the smart host). */
static size_t from_route(const struct config *cfg,
			 const struct config_route_info *ri, struct route *r)
{
	int ret = lab_addrs(cfg, r, ri->host, ri->port);

	if (ret == CONFIG_DNS_NOT_LAB)
		ret = add_host(r, ri->host, ri->port);
	if (ret <= 0) {
		fail(r, false, "4.4.3 Cannot resolve the route's host %s", ri->host);
		return 0;
	}
	r->require_tls = ri->require_tls;
	snprintf(r->auth_user, sizeof(r->auth_user), "%s", ri->user);
	snprintf(r->auth_pass, sizeof(r->auth_pass), "%s", ri->pass);
	return r->n_hops;
}

size_t route_lookup(const struct config *cfg, const char *domain,
		    struct route *r)
{
	struct config_route_info ri;

	memset(r, 0, sizeof(*r));
	if (config_is_local_domain(cfg, domain))
		return to_self(cfg, domain, r);
	if (config_route_get(cfg, domain, &ri))
		return from_route(cfg, &ri, r);
	if (domain[0] == '[')
		return from_literal(r, domain);
	if (config_route_get(cfg, "*", &ri))
		return from_route(cfg, &ri, r);
	return from_mx(cfg, r, domain);
}
