#ifndef COMMON_CONFIG_INT_H
#define COMMON_CONFIG_INT_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/config.h"

/* The key table behind common/config.c, kept in common/config-keys.c. */

enum key_type {
	KEY_STRING,	/* free text, no empty value unless KF_EMPTY_OK */
	KEY_HOST,	/* a DNS name */
	KEY_PATH,	/* a file name; relative means relative to DIR */
	KEY_BOOL,	/* yes/no, on/off, true/false */
	KEY_SIZE,	/* bytes, with an optional K/M/G suffix (powers of 1024) */
	KEY_UINT,	/* unsigned int */
	KEY_DOMAINS,	/* list of DNS names */
	KEY_ADDRS,	/* list of IPv4/IPv6 addresses */
	KEY_PORT,	/* 0..65535 for service `svc`; 0 disables the listener */
	KEY_PORTS_MODE,	/* standard | unprivileged */
	KEY_DURATION,	/* seconds (unsigned int), optional s, m, h or d suffix */
	KEY_ROUTE,	/* `NAME DOMAIN = HOST[:PORT]`, repeatable, a list */
	KEY_FAULT,	/* `NAME PROTO COMMAND = ACTION`, repeatable, a list */
	KEY_DNS,	/* `NAME DOMAIN = TYPE DATA`, repeatable, a list */
};

#define KF_EMPTY_OK 0x1

struct key {
	const char *name;
	enum key_type type;
	size_t off;		/* field in struct config */
	size_t count_off;	/* lists: the size_t that counts the items */
	unsigned long long min, max;	/* sizes and numbers */
	int svc;		/* KEY_PORT: the service */
	int flags;
	const char *def;	/* default as it would be written in the file;
				 * NULL when computed (hostname, ports) */
	const char *doc;	/* one line, written above the key */
	const char *section;	/* heading written before this key, or NULL */
};

#define KiB 1024ULL
#define MiB (1024ULL * 1024)
#define GiB (1024ULL * 1024 * 1024)

/* Room for every key: config.c keeps a line number per key. */
#define CONFIG_MAX_KEYS 128

/* config.c: RFC 1035 2.3.1 host names; IPv4/IPv6 addresses. */
bool config_valid_dns_name(const char *s);
bool config_valid_ip(const char *s);
/* config-route.c: adds `route DOMAIN = VALUE` to the list items[0..*n)
 * as "domain host port".  0, or -1 with a message (no file:line). */
int config_route_add(char **items, size_t *n, const char *domain,
		     const char *value, char *err_r, size_t errlen);
/* config-route.c: -1 with a message when cfg, read from `path` of `mode`,
 * holds a route password (auth=) and the file is open to group or others;
 * 0 otherwise. */
int config_route_check_secrecy(const struct config *cfg, const char *path,
			       mode_t mode, char *err_r, size_t errlen);

/* config-fault.c: adds `fault PROTO COMMAND = ACTION` (arg: "PROTO
 * COMMAND") to items[0..*n) as "proto CMD action".  0, or -1 with a
 * message (no file:line). */
int config_fault_add(char **items, size_t *n, const char *arg,
		     const char *value, char *err_r, size_t errlen);
/* config-dns.c: adds `dns NAME = VALUE` (a lab DNS record) to the list
 * items[0..*n) as "name TYPE data".  0, or -1 with a message. */
int config_dns_add(char **items, size_t *n, const char *name,
		   const char *value, char *err_r, size_t errlen);

extern const struct key config_keys[];
extern const size_t config_n_keys;

#endif
