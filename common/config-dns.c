/* The lab DNS: the repeatable `dns NAME = TYPE DATA` key of maillab.conf,
 * records that answer before the real DNS (smtpd/route.c), so that MX
 * labs work offline and later labs have TXT records:
 *
 *   dns b.test = MX 10 mx.b.test
 *   dns b.test = MX 20 backup.b.test
 *   dns mx.b.test = A 127.0.0.1
 *   dns mx.b.test = AAAA ::1
 *   dns b.test = TXT "v=spf1 ip4:127.0.0.1 -all"
 *   dns nomail.test = MX 0 .          (null MX, RFC 7505)
 *
 * Each record is kept as "name TYPE data" with the name in lower case. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/config-int.h"

#define TXT_MAX 1024	/* bytes of a TXT record's text */

static const char *const dns_types[] = { "MX", "A", "AAAA", "TXT" };

/* The record's type in upper case, or NULL. */
static const char *known_type(const char *t, size_t len)
{
	for (size_t i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
		if (strlen(dns_types[i]) == len && strncasecmp(dns_types[i], t, len) == 0)
			return dns_types[i];
	return NULL;
}

/* "PREF HOST", PREF 0..65535, HOST a DNS name or "." (RFC 7505). */
static bool valid_mx(const char *v)
{
	char *end;
	long pref;

	if (!isdigit((unsigned char)*v))
		return false;
	pref = strtol(v, &end, 10);
	if (pref > 65535 || (*end != ' ' && *end != '\t'))
		return false;
	while (*end == ' ' || *end == '\t')
		end++;
	return strcmp(end, ".") == 0 || config_valid_dns_name(end);
}

/* TXT data: one "quoted string" (\" and \\ inside) or the bare rest of
 * the line; the text into out.  0 or -1. */
static int txt_text(const char *v, struct buf *out)
{
	if (*v != '"')
		return buf_puts(out, v) < 0 || out->len == 0 ? -1 : 0;
	for (v++; *v != '"'; v++) {
		if (*v == '\0')
			return -1;
		if (*v == '\\' && (v[1] == '"' || v[1] == '\\'))
			v++;
		if (buf_putc(out, *v) < 0)
			return -1;
	}
	return v[1] == '\0' ? 0 : -1;
}

/* Whether item (a stored record) is of name[0..len) and, unless type is
 * NULL, of that type; *data_r then points at its data. */
static bool record_is(const char *item, const char *name, size_t len,
		      const char *type, const char **data_r)
{
	const char *sp = strchr(item, ' '), *t;
	size_t tlen;

	if ((size_t)(sp - item) != len || strncasecmp(item, name, len) != 0)
		return false;
	t = sp + 1;
	tlen = strcspn(t, " ");
	if (type != NULL && (strlen(type) != tlen || strncmp(t, type, tlen) != 0))
		return false;
	if (data_r != NULL)
		*data_r = t[tlen] == ' ' ? t + tlen + 1 : t + tlen;
	return true;
}

/* "PREF ." (RFC 7505 3) */
static bool is_null_mx(const char *mx)
{
	const char *host = mx + strcspn(mx, " \t");

	host += strspn(host, " \t");
	return strcmp(host, ".") == 0;
}

/* RFC 7505 3: a domain with a null MX has no other MX record. */
static bool null_mx_conflict(char **items, size_t n, const char *name,
			     const char *mx)
{
	const char *data;

	for (size_t i = 0; i < n; i++)
		if (record_is(items[i], name, strlen(name), "MX", &data) &&
		    (is_null_mx(mx) || is_null_mx(data)))
			return true;
	return false;
}

int config_dns_add(char **items, size_t *n, const char *name,
		   const char *value, char *err_r, size_t errlen)
{
	struct buf rec = BUF_INIT(BUF_UNLIMITED), text = BUF_INIT(TXT_MAX);
	size_t tlen = strcspn(value, " \t"), nlen = strlen(name);
	const char *type = known_type(value, tlen), *data = value + tlen;
	unsigned char addr[16];
	int ret = -1;

	while (*data == ' ' || *data == '\t')
		data++;
	if (nlen > 0 && name[nlen - 1] == '.')
		nlen--;
	snprintf(err_r, errlen, "dns %s: ", name);
	if (nlen == 0 || nlen > 253) {
		snprintf(err_r, errlen, "dns: '%s' is not a valid domain name", name);
		goto out;
	}
	for (size_t i = 0; i < nlen; i++)
		buf_putc(&rec, (char)tolower((unsigned char)name[i]));
	if (!config_valid_dns_name(rec.data)) {
		snprintf(err_r, errlen, "dns: '%s' is not a valid domain name", name);
		goto out;
	}
	if (type == NULL) {
		snprintf(err_r, errlen, "dns %s: '%s' is not MX, A, AAAA or TXT "
			 "followed by its data", name, value);
		goto out;
	}
	if ((type == dns_types[0] && !valid_mx(data)) ||
	    (type == dns_types[1] && inet_pton(AF_INET, data, addr) != 1) ||
	    (type == dns_types[2] && inet_pton(AF_INET6, data, addr) != 1) ||
	    (type == dns_types[3] && txt_text(data, &text) < 0)) {
		snprintf(err_r, errlen, "dns %s: bad %s data '%s' (%s)", name, type,
			 data, type == dns_types[0] ? "PREFERENCE HOST" :
			 type == dns_types[1] ? "an IPv4 address" :
			 type == dns_types[2] ? "an IPv6 address" :
			 "text, or one \"quoted string\", of at most 1024 bytes");
		goto out;
	}
	if (type == dns_types[0] && null_mx_conflict(items, *n, rec.data, data)) {
		snprintf(err_r, errlen, "dns %s: a null MX (MX 0 .) must be the "
			 "name's only MX record (RFC 7505 3)", name);
		goto out;
	}
	if (*n == CONFIG_MAX_DNS) {
		snprintf(err_r, errlen, "dns: more than %d records", CONFIG_MAX_DNS);
		goto out;
	}
	buf_printf(&rec, " %s ", type);
	if (type == dns_types[0]) {
		/* one space between preference and host */
		size_t plen = strcspn(data, " \t");

		buf_printf(&rec, "%.*s %s", (int)plen, data,
			   data + plen + strspn(data + plen, " \t"));
	} else {
		/* "" is an empty TXT string (RFC 1035 3.3.14), and text then
		 * has no data at all */
		buf_puts(&rec, type == dns_types[3] ? buf_cstr(&text) : data);
	}
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(items[i], rec.data) == 0) {
			snprintf(err_r, errlen, "dns %s: the same record twice", name);
			goto out;
		}
	}
	items[(*n)++] = buf_steal(&rec);
	ret = 0;
out:
	buf_free(&rec);
	buf_free(&text);
	return ret;
}

int config_dns_lookup(const struct config *cfg, const char *name,
		      const char *type, const char **data_r, size_t max)
{
	size_t len = strlen(name), count = 0;
	bool below = false;

	if (len > 0 && name[len - 1] == '.')
		len--;
	for (size_t i = 0; i < cfg->n_dns; i++) {
		const char *item = cfg->dns[i], *data;
		size_t ilen = strcspn(item, " ");

		if (record_is(item, name, len, NULL, NULL)) {
			below = true;
			if (record_is(item, name, len, type, &data) && count < max)
				data_r[count++] = data;
		} else if (len > ilen && name[len - ilen - 1] == '.' &&
			   strncasecmp(name + len - ilen, item, ilen) == 0) {
			below = true;	/* a name under a lab name */
		}
	}
	if (count > 0)
		return (int)count;
	if (!below)
		return CONFIG_DNS_NOT_LAB;
	/* a lab name without records of its own does not exist; one with
	 * records of other types has none of this one (NODATA) */
	for (size_t i = 0; i < cfg->n_dns; i++)
		if (record_is(cfg->dns[i], name, len, NULL, NULL))
			return 0;
	return CONFIG_DNS_NXDOMAIN;
}
