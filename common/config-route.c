/* The repeatable `route DOMAIN = HOST[:PORT]` key of maillab.conf: the next
 * hop for mail to DOMAIN (smtpd/route.c uses it before DNS). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/config-int.h"

/* A next hop: an IP address or host name, then ":port" (IPv6 in
 * brackets); 0 or -1. */
static int parse_hop(const char *v, char *host, size_t hostlen, int *port_r)
{
	const char *colon, *end;
	long port = 25;
	char *stop;

	if (*v == '[') {
		end = strchr(v, ']');
		colon = end != NULL && end[1] == ':' ? end + 1 : NULL;
		if (end == NULL || (end[1] != '\0' && colon == NULL))
			return -1;
		v++;
	} else {
		colon = strrchr(v, ':');
		end = colon != NULL ? colon : v + strlen(v);
	}
	if (end == v || (size_t)(end - v) >= hostlen)
		return -1;
	memcpy(host, v, (size_t)(end - v));
	host[end - v] = '\0';
	if (colon != NULL) {
		if (!isdigit((unsigned char)colon[1]) || strlen(colon + 1) > 5)
			return -1;
		port = strtol(colon + 1, &stop, 10);
		if (*stop != '\0' || port < 1 || port > 65535)
			return -1;
	}
	*port_r = (int)port;
	return config_valid_ip(host) || config_valid_dns_name(host) ? 0 : -1;
}

int config_route_add(char **items, size_t *n, const char *domain,
		     const char *v, char *err_r, size_t errlen)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	char host[256];
	int port;

	if (!config_valid_dns_name(domain)) {
		snprintf(err_r, errlen, "route: '%s' is not a valid domain name", domain);
		return -1;
	}
	if (parse_hop(v, host, sizeof(host), &port) < 0) {
		snprintf(err_r, errlen, "route %s: '%s' is not HOST[:PORT]", domain, v);
		return -1;
	}
	for (size_t i = 0; i < *n; i++) {
		size_t len = strcspn(items[i], " ");

		if (len == strlen(domain) && strncasecmp(items[i], domain, len) == 0) {
			snprintf(err_r, errlen, "route %s: set twice", domain);
			return -1;
		}
	}
	if (*n == CONFIG_MAX_LIST) {
		snprintf(err_r, errlen, "route: more than %d routes", CONFIG_MAX_LIST);
		return -1;
	}
	for (const char *p = domain; *p != '\0'; p++)
		buf_putc(&b, (char)tolower((unsigned char)*p));
	buf_printf(&b, " %s %d", host, port);
	items[(*n)++] = buf_steal(&b);
	return 0;
}

bool config_route(const struct config *cfg, const char *domain, char *host_r,
		  size_t hostlen, int *port_r)
{
	size_t len = strlen(domain);

	if (len > 0 && domain[len - 1] == '.')
		len--;
	for (size_t i = 0; i < cfg->n_routes; i++) {
		const char *r = cfg->routes[i], *sp = strchr(r, ' ');
		int port;

		if ((size_t)(sp - r) != len || strncasecmp(r, domain, len) != 0)
			continue;
		if (host_r != NULL && sscanf(sp + 1, "%*s %d", &port) == 1) {
			snprintf(host_r, hostlen, "%.*s",
				 (int)strcspn(sp + 1, " "), sp + 1);
			*port_r = port;
		}
		return true;
	}
	return false;
}
