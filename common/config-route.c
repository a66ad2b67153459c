/* The repeatable `route DOMAIN = HOST[:PORT] [tls=require]
 * [auth=USER:PASSWORD]` key of maillab.conf: the next hop for mail to
 * DOMAIN (smtpd/route.c uses it before DNS); DOMAIN `*` is a smart host
 * for every domain without a route of its own.  Kept as "domain host port"
 * followed by " require" and " auth=USER:PASSWORD" when given. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

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

	char hop[300];
	const char *opts = v + strcspn(v, " \t");
	bool require = false, auth = false;

	if (strcmp(domain, "*") != 0 && !config_valid_dns_name(domain)) {
		snprintf(err_r, errlen, "route: '%s' is not a valid domain name", domain);
		return -1;
	}
	snprintf(hop, sizeof(hop), "%.*s", (int)(opts - v), v);
	if (parse_hop(hop, host, sizeof(host), &port) < 0) {
		snprintf(err_r, errlen, "route %s: '%s' is not HOST[:PORT]", domain, hop);
		return -1;
	}
	while (*(opts += strspn(opts, " \t")) != '\0') {
		size_t len = strcspn(opts, " \t");
		const char *colon = memchr(opts, ':', len);

		if (len == 11 && strncmp(opts, "tls=require", 11) == 0 && !require) {
			require = true;
		} else if (len > 5 && strncmp(opts, "auth=", 5) == 0 && !auth &&
			   colon != NULL && colon > opts + 5 && colon < opts + len - 1 &&
			   len < 512) {
			auth = true;
		} else {
			snprintf(err_r, errlen, "route %s: '%.*s' is not tls=require or "
				 "auth=USER:PASSWORD", domain, (int)len, opts);
			return -1;
		}
		opts += len;
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
	if (require)
		buf_puts(&b, " require");
	if (auth) {
		const char *a = strstr(v + strlen(hop), "auth=");

		buf_printf(&b, " %.*s", (int)strcspn(a, " \t"), a);
	}
	items[(*n)++] = buf_steal(&b);
	return 0;
}

bool config_route_get(const struct config *cfg, const char *domain,
		      struct config_route_info *out)
{
	size_t len = strlen(domain);

	memset(out, 0, sizeof(*out));
	if (len > 0 && domain[len - 1] == '.')
		len--;
	for (size_t i = 0; i < cfg->n_routes; i++) {
		const char *r = cfg->routes[i], *sp = strchr(r, ' '), *p, *auth;

		if ((size_t)(sp - r) != len || strncasecmp(r, domain, len) != 0)
			continue;
		p = sp + 1;
		snprintf(out->host, sizeof(out->host), "%.*s",
			 (int)strcspn(p, " "), p);
		p += strcspn(p, " ") + 1;
		out->port = atoi(p);
		out->require_tls = strstr(p, " require") != NULL;
		auth = strstr(p, " auth=");
		if (auth != NULL) {
			const char *user = auth + 6, *colon = strchr(user, ':');

			snprintf(out->user, sizeof(out->user), "%.*s",
				 (int)(colon - user), user);
			snprintf(out->pass, sizeof(out->pass), "%.*s",
				 (int)strcspn(colon + 1, " "), colon + 1);
		}
		return true;
	}
	return false;
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

/* A file holding a password must be the owner's alone, as the OpenBSD
 * daemons demand of theirs (check_file_secrecy) and as Dovecot answered
 * CVE-2008-4870 (a world-readable dovecot.conf with ssl_key_password):
 * refused, never just warned about, so the password is not left open. */
int config_route_check_secrecy(const struct config *cfg, const char *path,
			       mode_t mode, char *err_r, size_t errlen)
{
	const char *domain = NULL;

	if ((mode & (S_IRWXG | S_IRWXO)) == 0)
		return 0;
	for (size_t i = 0; i < cfg->n_routes && domain == NULL; i++)
		if (strstr(cfg->routes[i], " auth=") != NULL)
			domain = cfg->routes[i];
	if (domain == NULL)
		return 0;
	snprintf(err_r, errlen, "%s: holds a password (route %.*s ... auth=) but "
		 "its mode %04o lets group or others read or write it; "
		 "run: chmod 600 %s", path, (int)strcspn(domain, " "), domain,
		 (unsigned int)(mode & 07777), path);
	return -1;
}
