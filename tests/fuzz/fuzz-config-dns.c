/* libFuzzer target for the lab DNS (common/config-dns.c): the input is
 * lines "NAME = TYPE DATA", as after `dns ` in maillab.conf.  Each line is
 * added with config_dns_add, which either refuses it with a "dns..."
 * message and keeps the list as it was, or stores "name TYPE data" with the
 * name in lower case; a line added once is refused the second time; every
 * record stored is found again by config_dns_lookup under its name and
 * type, and looking up any line's name (and the whole line) answers
 * within bounds.  tests/unit/test-fuzz-replay.c replays
 * tests/fuzz/corpus-config-dns/. */
#include <ctype.h>
#include <string.h>

#include "common/config-int.h"
#include "common/config.h"
#include "common/xalloc.h"
#include "tests/fuzz/fuzz.h"

#define MAX_LOOKUP 8

static const char *const types[] = { "MX", "A", "AAAA", "TXT" };

/* The stored record's parts are well formed: a lowercase name without the
 * trailing dot, a known type, data after one space. */
static void check_record(const char *rec)
{
	const char *sp = strchr(rec, ' '), *type;
	size_t tlen;
	bool known = false;

	FUZZ_CHECK(sp != NULL && sp > rec);
	for (const char *p = rec; p < sp; p++)
		FUZZ_CHECK(!isupper((unsigned char)*p));
	FUZZ_CHECK(sp[-1] != '.');
	type = sp + 1;
	tlen = strcspn(type, " ");
	for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++)
		known = known || (strlen(types[i]) == tlen &&
				  strncmp(types[i], type, tlen) == 0);
	FUZZ_CHECK(known && type[tlen] == ' ');
}

/* Every stored record answers a look-up of its name and type. */
static void check_found(const struct config *cfg, const char *rec)
{
	const char *sp = strchr(rec, ' '), *type = sp + 1;
	const char *data_r[CONFIG_MAX_DNS];
	char name[256], tname[8];
	size_t tlen = strcspn(type, " ");
	bool found = false;
	int count;

	FUZZ_CHECK((size_t)(sp - rec) < sizeof(name) && tlen < sizeof(tname));
	memcpy(name, rec, (size_t)(sp - rec));
	name[sp - rec] = '\0';
	memcpy(tname, type, tlen);
	tname[tlen] = '\0';
	count = config_dns_lookup(cfg, name, tname, data_r, CONFIG_MAX_DNS);
	FUZZ_CHECK(count >= 1 && count <= (int)cfg->n_dns);
	for (int i = 0; i < count; i++)
		found = found || strcmp(data_r[i], type + tlen + 1) == 0;
	FUZZ_CHECK(found);
}

static void lookup_any(const struct config *cfg, const char *name)
{
	const char *data_r[MAX_LOOKUP];

	for (size_t t = 0; t < sizeof(types) / sizeof(*types); t++) {
		int count = config_dns_lookup(cfg, name, types[t], data_r,
					      MAX_LOOKUP);

		FUZZ_CHECK(count == CONFIG_DNS_NOT_LAB ||
			   count == CONFIG_DNS_NXDOMAIN ||
			   (count >= 0 && count <= MAX_LOOKUP));
		for (int i = 0; i < count; i++)
			FUZZ_CHECK(data_r[i] != NULL);
	}
}

/* Adds one line "NAME = VALUE" (or a NAME alone, with an empty value). */
static void add_line(struct config *cfg, char *line)
{
	char *eq = strchr(line, '='), *value = (char *)"";
	char err[256];
	size_t before = cfg->n_dns;
	int ret;

	if (eq != NULL) {
		*eq = '\0';
		value = eq + 1;
		while (*value == ' ')
			value++;
	}
	for (size_t n = strlen(line); n > 0 && line[n - 1] == ' '; n--)
		line[n - 1] = '\0';
	memset(err, 'x', sizeof(err));
	ret = config_dns_add(cfg->dns, &cfg->n_dns, line, value, err, sizeof(err));
	FUZZ_CHECK(ret == 0 || ret == -1);
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (ret < 0) {
		FUZZ_CHECK(strncmp(err, "dns", 3) == 0);
		FUZZ_CHECK(cfg->n_dns == before);
		return;
	}
	FUZZ_CHECK(cfg->n_dns == before + 1);
	check_record(cfg->dns[before]);
	/* the same record again: refused, nothing added */
	FUZZ_CHECK(config_dns_add(cfg->dns, &cfg->n_dns, line, value, err,
				  sizeof(err)) == -1);
	FUZZ_CHECK(cfg->n_dns == before + 1);
	lookup_any(cfg, line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char *text = xmalloc(size + 1), *line, *next;

	memcpy(text, data, size);
	text[size] = '\0';
	memset(&cfg, 0, sizeof(cfg));
	for (line = text; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		add_line(&cfg, line);
	}
	for (size_t i = 0; i < cfg.n_dns; i++)
		check_found(&cfg, cfg.dns[i]);
	memcpy(text, data, size);
	lookup_any(&cfg, text);
	for (size_t i = 0; i < cfg.n_dns; i++)
		free(cfg.dns[i]);
	free(text);
	return 0;
}
