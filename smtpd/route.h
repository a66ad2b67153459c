#ifndef SMTPD_ROUTE_H
#define SMTPD_ROUTE_H
#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"

/* The next hop for a recipient domain: the configured route (`route DOMAIN
 * = HOST:PORT`), else an address literal, else the catch-all route
 * (`route * = ...`, a smart host), else the domain's MX records
 * from the lab DNS (`dns NAME = TYPE DATA`) for the names it knows, else
 * through the system resolver (res_query), in preference order, falling
 * back to its A/AAAA records when it has none (RFC 5321 5.1); a null MX
 * (RFC 7505) or a domain that does not exist is a permanent failure.
 * Blocking: run it on a worker thread. */

#define ROUTE_MAX_HOPS 16

struct route_hop {
	char host[256];		/* the name (for TLS SNI and messages) */
	char addr[64];		/* numeric address to connect to */
	int port;
};

struct route {
	struct route_hop hops[ROUTE_MAX_HOPS];	/* in the order to try */
	size_t n_hops;
	bool permanent;		/* n_hops == 0: will never work (bounce) */
	char error[512];	/* n_hops == 0: why, "4.4.3 ..." / "5.1.2 ..." */
	/* a configured route's smart host options (config_route_get):
	 * TLS with a checked certificate, AUTH ("" user: none) */
	bool require_tls;
	char auth_user[256], auth_pass[256];
};

/* Fills r for `domain` (a recipient's domain as written, maybe an
 * address literal "[192.0.2.1]").  Returns the number of hops. */
size_t route_lookup(const struct config *cfg, const char *domain,
		    struct route *r);

#endif
