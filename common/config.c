/* DIR/maillab.conf: one table of keys drives parsing, defaults and the
 * commented template that `maillab init` writes, so the three cannot drift
 * apart. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/config-int.h"
#include "common/hostname.h"
#include "common/xalloc.h"

/* A maillab.conf larger than this is not a configuration file. */
#define CONFIG_MAX_FILE (1024 * 1024)

#define keys config_keys
#define N_KEYS config_n_keys


static const char *const service_names[SVC_COUNT] = {
	[SVC_SMTP] = "smtp",
	[SVC_SUBMISSION] = "submission",
	[SVC_SUBMISSIONS] = "submissions",
	[SVC_POP3] = "pop3",
	[SVC_POP3S] = "pop3s",
	[SVC_IMAP] = "imap",
	[SVC_IMAPS] = "imaps",
};

static const int standard_port[SVC_COUNT] = {
	[SVC_SMTP] = 25,
	[SVC_SUBMISSION] = 587,
	[SVC_SUBMISSIONS] = 465,
	[SVC_POP3] = 110,
	[SVC_POP3S] = 995,
	[SVC_IMAP] = 143,
	[SVC_IMAPS] = 993,
};
#define UNPRIVILEGED_OFFSET 10000

/* What one parse has seen, for duplicates and for `ports` applying only to
 * the ports that were not set explicitly. */
struct parse_state {
	const char *name;
	unsigned int line;
	unsigned int key_line[CONFIG_MAX_KEYS];	/* 0: not seen */
	char *err_r;
	size_t errlen;
};

const char *service_name(enum service_id svc)
{
	if ((unsigned int)svc >= SVC_COUNT)
		return "unknown";
	return service_names[svc];
}

static void *field(struct config *cfg, const struct key *k)
{
	return (char *)cfg + k->off;
}

static char **list_items(struct config *cfg, const struct key *k)
{
	return (char **)field(cfg, k);
}

static size_t *list_count(struct config *cfg, const struct key *k)
{
	return (size_t *)((char *)cfg + k->count_off);
}

static bool is_list(const struct key *k)
{
	return k->type == KEY_DOMAINS || k->type == KEY_ADDRS ||
	       k->type == KEY_ROUTE || k->type == KEY_FAULT ||
	       k->type == KEY_DNS;
}

/* `key ARG = value` rather than `key = value` (`route DOMAIN = ...`),
 * repeatable. */
static bool takes_arg(const struct key *k)
{
	return k->type == KEY_ROUTE || k->type == KEY_FAULT ||
	       k->type == KEY_DNS;
}

static bool is_string(const struct key *k)
{
	return k->type == KEY_STRING || k->type == KEY_HOST ||
	       k->type == KEY_PATH;
}

static void __attribute__((format(printf, 2, 3)))
parse_error(struct parse_state *ps, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(ps->err_r, ps->errlen, "%s:%u: %s", ps->name, ps->line, msg);
}

/* RFC 1035 2.3.1 labels (letters, digits, hyphens, not at either end),
 * dot-separated, at most 253 characters. */
bool config_valid_dns_name(const char *s)
{
	size_t label = 0, total = strlen(s);

	if (total == 0 || total > 253)
		return false;
	for (const char *p = s; ; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || label > 63 || p[-1] == '-')
				return false;
			if (*p == '\0')
				return true;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return false;
		if (*p == '-' && label == 0)
			return false;
		label++;
	}
}

bool config_valid_ip(const char *s)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, s, addr) == 1 ||
	       inet_pton(AF_INET6, s, addr) == 1;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "on", "true" };
	static const char *const no[] = { "no", "off", "false" };

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/* The multiplier of a unit suffix for keys of type t: K, M, G for sizes,
 * s, m, h, d for durations; 0 when there is none. */
static unsigned long long suffix_mult(enum key_type t, char c)
{
	static const struct { enum key_type t; char c; unsigned long long m; }
	units[] = {
		{ KEY_SIZE, 'K', KiB }, { KEY_SIZE, 'M', MiB }, { KEY_SIZE, 'G', GiB },
		{ KEY_DURATION, 'S', 1 }, { KEY_DURATION, 'M', 60 },
		{ KEY_DURATION, 'H', 3600 }, { KEY_DURATION, 'D', 86400 },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (units[i].t == t && units[i].c == toupper((unsigned char)c))
			return units[i].m;
	return 0;
}

/* Digits only (no sign, no spaces), then an optional unit suffix for keys
 * of type t (suffix_mult), case-insensitive.  -1 syntax, -2 overflow. */
static int parse_number(const char *v, enum key_type t,
			unsigned long long *out)
{
	unsigned long long n = 0, mult = 1;
	const char *p = v;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (n > (ULLONG_MAX - d) / 10)
			return -2;
		n = n * 10 + d;
	}
	if (*p != '\0') {
		if (p[1] != '\0' || (mult = suffix_mult(t, *p)) == 0)
			return -1;
		if (n > ULLONG_MAX / mult)
			return -2;
	}
	*out = n * mult;
	return 0;
}

static int set_number(struct parse_state *ps, struct config *cfg,
		      const struct key *k, const char *v)
{
	unsigned long long n;
	int ret;

	if (*v == '-') {
		parse_error(ps, "%s: negative values are not allowed", k->name);
		return -1;
	}
	ret = parse_number(v, k->type, &n);
	if (ret == -1) {
		parse_error(ps, k->type == KEY_SIZE ?
			    "%s: bad size '%s' (a number with optional K, M or G)" :
			    k->type == KEY_DURATION ?
			    "%s: bad duration '%s' (a number with optional s, m, h or d)" :
			    "%s: bad number '%s'", k->name, v);
		return -1;
	}
	if (ret == -2 || n < k->min || n > k->max) {
		parse_error(ps, "%s: %s is out of range (%llu to %llu)",
			    k->name, v, k->min, k->max);
		return -1;
	}
	switch (k->type) {
	case KEY_SIZE:
		*(size_t *)field(cfg, k) = (size_t)n;
		break;
	case KEY_UINT:
	case KEY_DURATION:
		*(unsigned int *)field(cfg, k) = (unsigned int)n;
		break;
	default:
		cfg->port[k->svc] = (int)n;
		break;
	}
	return 0;
}

static void set_string(struct config *cfg, const struct key *k, const char *v)
{
	char **slot = field(cfg, k);
	char *s;

	if (k->type == KEY_PATH && v[0] != '/' && v[0] != '\0') {
		struct buf b = BUF_INIT(BUF_UNLIMITED);

		buf_printf(&b, "%s/%s", cfg->dir, v);
		s = buf_steal(&b);
	} else {
		s = xstrdup(v);
	}
	free(*slot);
	*slot = s;
}

static void clear_list(struct config *cfg, const struct key *k)
{
	char **items = list_items(cfg, k);
	size_t *n = list_count(cfg, k);

	for (size_t i = 0; i < *n; i++) {
		free(items[i]);
		items[i] = NULL;
	}
	*n = 0;
}

/* Items are separated by commas and/or blanks. */
static int set_list(struct parse_state *ps, struct config *cfg,
		    const struct key *k, const char *v)
{
	char *tmp[CONFIG_MAX_LIST];
	size_t n = 0;
	const char *p = v;

	while (*p != '\0') {
		size_t len = strcspn(p, ", \t");

		if (len == 0) {
			p++;
			continue;
		}
		if (n == CONFIG_MAX_LIST) {
			parse_error(ps, "%s: more than %d items", k->name,
				    CONFIG_MAX_LIST);
			goto fail;
		}
		tmp[n] = xstrndup(p, len);
		if (k->type == KEY_DOMAINS ? !config_valid_dns_name(tmp[n]) :
		    !config_valid_ip(tmp[n])) {
			parse_error(ps, k->type == KEY_DOMAINS ?
				    "%s: '%s' is not a valid domain name" :
				    "%s: '%s' is not an IPv4 or IPv6 address",
				    k->name, tmp[n]);
			n++;
			goto fail;
		}
		n++;
		p += len;
	}
	if (n == 0) {
		parse_error(ps, "%s: needs at least one item", k->name);
		return -1;
	}
	clear_list(cfg, k);
	memcpy(list_items(cfg, k), tmp, n * sizeof(tmp[0]));
	*list_count(cfg, k) = n;
	return 0;
fail:
	while (n > 0)
		free(tmp[--n]);
	return -1;
}

/* `route DOMAIN = HOST[:PORT]`, `fault PROTO CMD = ACTION`, `dns NAME =
 * TYPE DATA`: repeatable, so not through set_value. */
static int add_item(struct parse_state *ps, struct config *cfg,
		    const struct key *k, const char *domain, const char *v)
{
	char msg[512];
	char **items = list_items(cfg, k);
	size_t *n = list_count(cfg, k);
	int ret = k->type == KEY_DNS ?
		config_dns_add(items, n, domain, v, msg, sizeof(msg)) :
		k->type == KEY_FAULT ?
		config_fault_add(items, n, domain, v, msg, sizeof(msg)) :
		config_route_add(items, n, domain, v, msg, sizeof(msg));

	if (ret < 0) {
		parse_error(ps, "%s", msg);
		return -1;
	}
	return 0;
}

static int set_value(struct parse_state *ps, struct config *cfg,
		     const struct key *k, const char *v)
{
	if (*v == '\0' && !(k->flags & KF_EMPTY_OK)) {
		parse_error(ps, "%s: empty value", k->name);
		return -1;
	}
	switch (k->type) {
	case KEY_HOST:
		if (!config_valid_dns_name(v)) {
			parse_error(ps, "%s: '%s' is not a valid host name",
				    k->name, v);
			return -1;
		}
		/* fall through */
	case KEY_STRING:
		if (k->max > 0 && strlen(v) > k->max) {
			parse_error(ps, "%s: '%s' is longer than %llu characters",
				    k->name, v, k->max);
			return -1;
		}
		/* fall through */
	case KEY_PATH:
		set_string(cfg, k, v);
		return 0;
	case KEY_BOOL:
		if (parse_bool(v, (bool *)field(cfg, k)) < 0) {
			parse_error(ps, "%s: bad boolean '%s' (yes/no, on/off, true/false)",
				    k->name, v);
			return -1;
		}
		return 0;
	case KEY_SIZE:
	case KEY_UINT:
	case KEY_DURATION:
	case KEY_PORT:
		return set_number(ps, cfg, k, v);
	case KEY_ROUTE:
	case KEY_FAULT:
	case KEY_DNS:
		break;		/* parse_line: it has an argument */
	case KEY_DOMAINS:
	case KEY_ADDRS:
		return set_list(ps, cfg, k, v);
	case KEY_PORTS_MODE:
		if (strcasecmp(v, "standard") == 0)
			cfg->standard_ports = true;
		else if (strcasecmp(v, "unprivileged") == 0)
			cfg->standard_ports = false;
		else {
			parse_error(ps, "%s: bad value '%s' (standard or unprivileged)",
				    k->name, v);
			return -1;
		}
		return 0;
	}
	return -1;
}

static void default_ports(struct config *cfg, bool only_unset,
			  const struct parse_state *ps)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];

		if (k->type != KEY_PORT ||
		    (only_unset && ps->key_line[i] != 0))
			continue;
		cfg->port[k->svc] = standard_port[k->svc] +
			(cfg->standard_ports ? 0 : UNPRIVILEGED_OFFSET);
	}
}

/* The machine's name, without the DNS (common/hostname.h). */
static char *default_hostname(void)
{
	return hostname_default("/etc/hosts");
}

void config_defaults(struct config *cfg, const char *dir)
{
	struct parse_state ps = { .name = "default", .err_r = NULL };
	char err[256];

	memset(cfg, 0, sizeof(*cfg));
	cfg->dir = xstrdup(dir);
	cfg->hostname = default_hostname();
	ps.err_r = err;
	ps.errlen = sizeof(err);
	for (size_t i = 0; i < N_KEYS; i++) {
		if (keys[i].def == NULL)
			continue;
		/* The defaults are constants in this file: one that does not
		 * parse is a bug caught by the first unit test. */
		if (set_value(&ps, cfg, &keys[i], keys[i].def) < 0)
			abort();
	}
	default_ports(cfg, false, &ps);
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];

		if (is_string(k)) {
			char **slot = field(cfg, k);

			free(*slot);
			*slot = NULL;
		} else if (is_list(k)) {
			clear_list(cfg, k);
		}
	}
	free(cfg->dir);
	cfg->dir = NULL;
}

/* A deep copy, so that a failed parse can leave the original untouched. */
static void config_copy(struct config *dst, const struct config *src)
{
	*dst = *src;
	dst->dir = xstrdup(src->dir);
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];

		if (is_string(k)) {
			char **slot = field(dst, k);

			if (*slot != NULL)
				*slot = xstrdup(*slot);
		} else if (is_list(k)) {
			char **items = list_items(dst, k);

			for (size_t j = 0; j < *list_count(dst, k); j++)
				items[j] = xstrdup(items[j]);
		}
	}
}

static const struct key *find_key(const char *name, size_t len, size_t *idx)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strlen(keys[i].name) == len &&
		    memcmp(keys[i].name, name, len) == 0) {
			*idx = i;
			return &keys[i];
		}
	}
	return NULL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* One line without its newline, NUL-terminated and modifiable. */
static int parse_line(struct parse_state *ps, struct config *cfg, char *line)
{
	char *p = line, *eq, *end, *value, *arg;
	const struct key *k;
	size_t idx, len;

	while (is_blank(*p))
		p++;
	/* '#' starts a comment at the start of a line or after a blank. */
	for (char *q = p; *q != '\0'; q++) {
		if (*q == '#' && (q == p || is_blank(q[-1]))) {
			*q = '\0';
			break;
		}
	}
	end = p + strlen(p);
	while (end > p && (is_blank(end[-1]) || end[-1] == '\r'))
		*--end = '\0';
	if (*p == '\0')
		return 0;

	eq = strchr(p, '=');
	if (eq == NULL) {
		parse_error(ps, "missing '=' (lines are `key = value`)");
		return -1;
	}
	for (end = eq; end > p && is_blank(end[-1]); end--)
		;
	len = (size_t)(end - p);
	if (len == 0) {
		parse_error(ps, "empty key before '='");
		return -1;
	}
	*end = '\0';
	arg = strpbrk(p, " \t");
	k = find_key(p, arg != NULL ? (size_t)(arg - p) : len, &idx);
	if (k == NULL) {
		parse_error(ps, "unknown key '%s'", p);
		return -1;
	}
	if ((arg != NULL) != takes_arg(k)) {
		parse_error(ps, arg != NULL ? "key '%s' takes no argument before '='" :
			    k->type == KEY_FAULT ?
			    "key '%s' needs a protocol and a command before '='" :
			    "key '%s' needs a domain before '='", k->name);
		return -1;
	}
	value = eq + 1;
	while (is_blank(*value))
		value++;
	if (arg != NULL) {
		while (is_blank(*arg))
			arg++;
		return add_item(ps, cfg, k, arg, value);
	}
	if (ps->key_line[idx] != 0) {
		parse_error(ps, "duplicate key '%s' (first set on line %u)",
			    k->name, ps->key_line[idx]);
		return -1;
	}
	ps->key_line[idx] = ps->line;
	return set_value(ps, cfg, k, value);
}

/* Two enabled services cannot share a port. */
static int check_ports(struct parse_state *ps, const struct config *cfg)
{
	for (int a = 0; a < SVC_COUNT; a++) {
		for (int b = a + 1; b < SVC_COUNT; b++) {
			if (cfg->port[a] == 0 || cfg->port[a] != cfg->port[b])
				continue;
			ps->line = 0;
			for (size_t i = 0; i < N_KEYS; i++) {
				if (keys[i].type == KEY_PORT &&
				    (keys[i].svc == a || keys[i].svc == b) &&
				    ps->key_line[i] > ps->line)
					ps->line = ps->key_line[i];
			}
			parse_error(ps, "port %d is used by both %s and %s",
				    cfg->port[a], service_names[a],
				    service_names[b]);
			return -1;
		}
	}
	return 0;
}

int config_parse(struct config *cfg, const char *name, const char *text,
		 char *err_r, size_t errlen)
{
	struct parse_state ps = {
		.name = name, .err_r = err_r, .errlen = errlen,
	};
	size_t ports_idx = 0;
	struct config work;
	char *copy = xstrdup(text), *line = copy;
	int ret = 0;

	config_copy(&work, cfg);
	while (line != NULL && ret == 0) {
		char *nl = strchr(line, '\n');

		if (nl != NULL)
			*nl++ = '\0';
		ps.line++;
		ret = parse_line(&ps, &work, line);
		line = nl;
	}
	free(copy);
	if (ret == 0) {
		find_key("ports", 5, &ports_idx);
		if (ps.key_line[ports_idx] != 0)
			default_ports(&work, true, &ps);
		ret = check_ports(&ps, &work);
	}
	if (ret < 0) {
		config_free(&work);
		return -1;
	}
	config_free(cfg);
	*cfg = work;
	return 0;
}

/* The file into out, and its mode into *mode_r. */
static int read_file(const char *path, struct buf *out, mode_t *mode_r,
		     char *err_r, size_t errlen)
{
	char chunk[8192];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err_r, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*mode_r = st.st_mode;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err_r, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (memchr(chunk, '\0', (size_t)n) != NULL) {
			snprintf(err_r, errlen, "%s: contains a NUL byte", path);
			close(fd);
			return -1;
		}
		if (buf_append(out, chunk, (size_t)n) < 0) {
			snprintf(err_r, errlen, "%s: larger than %d bytes", path,
				 CONFIG_MAX_FILE);
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

int config_load(struct config *cfg, const char *dir, char *err_r, size_t errlen)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	struct buf text = BUF_INIT(CONFIG_MAX_FILE);
	mode_t mode = 0;
	int ret = 0;

	config_defaults(cfg, dir);
	buf_printf(&path, "%s/maillab.conf", dir);
	if (access(buf_cstr(&path), F_OK) < 0 && errno == ENOENT)
		goto out;
	if (read_file(buf_cstr(&path), &text, &mode, err_r, errlen) < 0 ||
	    config_parse(cfg, buf_cstr(&path), buf_cstr(&text), err_r,
			 errlen) < 0 ||
	    config_route_check_secrecy(cfg, buf_cstr(&path), mode, err_r,
				       errlen) < 0)
		ret = -1;
out:
	buf_free(&path);
	buf_free(&text);
	return ret;
}

static void template_key(struct buf *b, const struct key *k,
			 const char *hostname, const char *domain)
{
	if (k->section != NULL)
		buf_printf(b, "\n## %s\n", k->section);
	buf_printf(b, "\n# %s\n", k->doc);
	if (k->type == KEY_HOST)
		buf_printf(b, "%s = %s\n", k->name, hostname);
	else if (k->type == KEY_DOMAINS)
		buf_printf(b, "%s = %s\n", k->name, domain);
	else if (k->type == KEY_ROUTE)
		buf_printf(b, "#%s example.org = 192.0.2.1:25\n", k->name);
	else if (k->type == KEY_FAULT)
		buf_printf(b, "#%s smtp RCPT = greylist2\n", k->name);
	else if (k->type == KEY_DNS)
		buf_printf(b, "#%s b.test = MX 10 mx.b.test\n"
			   "#%s mx.b.test = A 127.0.0.1\n", k->name, k->name);
	else if (k->type == KEY_PORT)
		buf_printf(b, "#%s = %d\n", k->name,
			   standard_port[k->svc] + UNPRIVILEGED_OFFSET);
	else if (k->def[0] == '\0')
		buf_printf(b, "#%s =\n", k->name);
	else
		buf_printf(b, "#%s = %s\n", k->name, k->def);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int config_write_template(const char *path, const char *hostname,
			  const char *domain)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	char *host = hostname != NULL ? xstrdup(hostname) : default_hostname();
	int fd, ret, saved;

	buf_puts(&b,
		 "# maillab.conf: `key = value` lines; '#' starts a comment.\n"
		 "# Every key is listed below at its default value, commented out:\n"
		 "# remove the '#' before a key to change it.  Relative paths are\n"
		 "# relative to this directory.  Sizes take K, M or G (x1024);\n"
		 "# booleans are yes/no, on/off or true/false.\n");
	for (size_t i = 0; i < N_KEYS; i++)
		template_key(&b, &keys[i], host,
			     domain != NULL ? domain : "lab.test");
	free(host);

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		buf_free(&b);
		return -1;
	}
	ret = write_all(fd, b.data, b.len);
	if (ret == 0)
		ret = fsync(fd);
	saved = errno;
	if (close(fd) < 0 && ret == 0) {
		ret = -1;
		saved = errno;
	}
	buf_free(&b);
	if (ret < 0) {
		unlink(path);
		errno = saved;
	}
	return ret;
}

bool config_is_local_domain(const struct config *cfg, const char *domain)
{
	size_t len = strlen(domain);

	/* A trailing dot names the same (fully qualified) domain. */
	if (len > 0 && domain[len - 1] == '.')
		len--;
	for (size_t i = 0; i < cfg->n_domains; i++) {
		if (strlen(cfg->domains[i]) == len &&
		    strncasecmp(cfg->domains[i], domain, len) == 0)
			return true;
	}
	return false;
}

unsigned int config_command_deadline(const struct config *cfg,
				     enum service_id svc)
{
	switch (svc) {
	case SVC_POP3:
	case SVC_POP3S:
		return cfg->command_deadline_pop3;
	case SVC_IMAP:
	case SVC_IMAPS:
		return cfg->command_deadline_imap;
	default:
		return cfg->command_deadline_smtp;
	}
}
