#ifndef COMMON_CONFIG_H
#define COMMON_CONFIG_H
#include <stdbool.h>
#include <stddef.h>

/* DIR/maillab.conf: `key = value` lines, '#' comments.  Every key has a
 * default (see the table in config-keys.c, from which config.c also writes
 * the commented file that `maillab init` creates).  Later issues add keys by
 * adding a row there and a field here. */

#define CONFIG_MAX_LIST 16
#define CONFIG_MAX_DNS 256	/* lab DNS records (`dns NAME = ...`) */

enum service_id {
	SVC_SMTP,		/* MX, incoming */
	SVC_SUBMISSION,		/* 587, STARTTLS + AUTH */
	SVC_SUBMISSIONS,	/* 465, implicit TLS */
	SVC_POP3,
	SVC_POP3S,
	SVC_IMAP,
	SVC_IMAPS,
	SVC_COUNT
};

struct config {
	char *dir;			/* the instance directory (not a key) */
	char *hostname;			/* default: common/hostname.h */
	char *domains[CONFIG_MAX_LIST];	/* local domains; domains[0] is primary */
	size_t n_domains;
	char *listen[CONFIG_MAX_LIST];	/* listen addresses; default 127.0.0.1 */
	size_t n_listen;
	bool standard_ports;		/* ports = standard | unprivileged */
	int port[SVC_COUNT];		/* 0 = disabled; defaults from `ports` */
	char *run_as;			/* user to drop to after binding (root only) */
	char *tls_cert;			/* default DIR/tls/cert.pem */
	char *tls_key;			/* default DIR/tls/key.pem */
	bool allow_plaintext_auth;	/* lab setting: AUTH without TLS off loopback */

	/* limits (DESIGN.md "Bad input") */
	size_t max_command_line;	/* SMTP command line incl. CRLF: 512 */
	size_t max_text_line;		/* DATA text line incl. CRLF: 1000 */
	bool reject_long_text_lines;	/* 500 5.5.2 (yes) or accept (no) */
	size_t max_message_size;	/* 25 MiB, advertised with SIZE */
	size_t max_recipients;		/* per message: 100 */
	size_t max_pop3_line;		/* 255 per RFC 2449 (+ CRLF) */
	size_t max_imap_line;		/* outside literals: 65536 */
	size_t max_literal_size;	/* IMAP literal: 25 MiB */
	size_t max_connections;		/* total: 1000 */
	size_t max_connections_per_ip;	/* per client address: 50 */
	size_t max_output_buffer;	/* per connection before reading stops */
	unsigned int max_errors;	/* protocol errors before disconnect: 10 */
	unsigned int auth_max_failures;	/* then disconnect: 3 */
	unsigned int auth_fail_delay_ms;	/* first delay, doubling: 1000 */
	unsigned int auth_max_failures_per_ip;	/* across sessions: 10 */
	unsigned int auth_max_failures_per_user;	/* across sessions: 20 */
	unsigned int auth_lockout_seconds;	/* window and lock: 300 */

	/* idle timeouts, seconds */
	unsigned int timeout_smtp;	/* RFC 5321 4.5.3.2: 300 */
	unsigned int timeout_smtp_data;	/* between DATA chunks: 180 */
	unsigned int timeout_pop3;	/* RFC 1939 3: at least 600 */
	unsigned int timeout_imap_preauth;	/* before login: 60 */
	unsigned int timeout_imap;	/* RFC 3501 5.4: at least 1800 */
	unsigned int timeout_imap_idle;	/* in IDLE (RFC 2177): 1800 */
	unsigned int shutdown_grace;	/* seconds sessions get on SIGTERM: 5 */
	/* deadlines for a unit of input once it has begun, seconds */
	unsigned int command_deadline_smtp;	/* a command line: 60 */
	unsigned int command_deadline_pop3;	/* 60 */
	unsigned int command_deadline_imap;	/* 120 */
	unsigned int min_data_rate;	/* bytes/s for DATA, BDAT, literals: 500 */

	/* SMTP (smtpd/settings.h says what each does) */
	char *smtp_postmaster_user;	/* "": the first user by name */
	bool smtp_vrfy;
	bool smtp_expn;
	bool smtp_subaddress_folders;
	char *smtp_subaddress_separator;	/* "" turns sub-addressing off */
	bool smtp_sender_must_match;
	bool smtp_from_must_match;
	bool smtp_received_auth_user;
	bool smtp_reject_bare_lf;

	/* POP3 (pop3d/) */
	unsigned int pop3_login_delay;	/* seconds between logins; 0: off */
	bool pop3_apop;			/* APOP offered, secrets stored */

	/* outbound queue and relay client (smtpd/queue.h, smtpd/client.h) */
	char *routes[CONFIG_MAX_LIST];	/* "domain host port" (config_route) */
	size_t n_routes;
	char *dns_server;		/* IPv4[:PORT] for MX look-ups; "": system */
	char *relay_ca_file;		/* CAs for routes with tls=require */
	char *dns[CONFIG_MAX_DNS];	/* lab DNS, "name TYPE data" */
	size_t n_dns;
	bool alias_remote_targets;	/* aliases may forward outside: no */
	unsigned int rate_messages_per_hour;	/* per auth. user; 0: off */
	unsigned int rate_recipients_per_hour;	/* per auth. user; 0: off */
	unsigned int relay_port;	/* port of MX hosts: 25 */
	unsigned int queue_retry_base;	/* seconds to the first retry: 5m */
	unsigned int queue_retry_max;	/* longest back-off: 1h */
	unsigned int queue_lifetime;	/* then give up: 5d */
	unsigned int queue_delay_warning;	/* then tell the sender: 4h */
	unsigned int queue_max_connections;	/* outbound, in total: 20 */
	unsigned int queue_max_per_destination;	/* to one next hop: 4 */
	unsigned int queue_connection_idle;	/* idle outbound kept open: 2 */
	unsigned int max_received_headers;	/* more: a mail loop (bounce): 50 */
	unsigned int timeout_client;	/* RFC 5321 4.5.3.2: 300 */
	unsigned int timeout_client_data_end;	/* after the final dot: 600 */

	/* fault injection, a lab setting (common/fault.h) */
	bool fault_injection;		/* off: no fault, no name suffix */
	char *faults[CONFIG_MAX_LIST];	/* "PROTO CMD ACTION" (config-fault.c) */
	size_t n_faults;

	unsigned int workers;		/* worker threads: 16 */
	bool trace;			/* per-session dialogue in DIR/log/trace */
	bool strict;			/* name broken protocol rules in the trace */
	char *log_file;			/* default DIR/log/maillab.log */
};

/* Fills `cfg` with every default for instance directory `dir`. */
void config_defaults(struct config *cfg, const char *dir);
/* Loads DIR/maillab.conf over the defaults.  A missing file is fine (all
 * defaults).  0 on success; -1 with "maillab.conf:LINE: message" (or
 * "PATH: strerror") in err_r, cfg then holds defaults only. */
int config_load(struct config *cfg, const char *dir, char *err_r, size_t errlen);
/* Parses one file's text (for tests).  `name` prefixes error messages. */
int config_parse(struct config *cfg, const char *name, const char *text,
		 char *err_r, size_t errlen);
/* Writes a maillab.conf with every key commented out at its default, each
 * with its documentation line.  0 / -1 with errno. */
int config_write_template(const char *path, const char *hostname,
			  const char *domain);
void config_free(struct config *cfg);
const char *service_name(enum service_id svc);	/* "smtp", "pop3s", ... */
bool config_is_local_domain(const struct config *cfg, const char *domain);
/* Seconds a client of `svc` has to complete a command line once begun
 * (command_deadline_smtp, _pop3 or _imap). */
unsigned int config_command_deadline(const struct config *cfg,
				     enum service_id svc);
/* The configured next hop for mail to `domain` (`route DOMAIN = HOST:PORT`):
 * true with host_r and *port_r filled (when host_r is not NULL), false when
 * there is no route for it. */
bool config_route(const struct config *cfg, const char *domain, char *host_r,
		  size_t hostlen, int *port_r);
/* The same with the smart host options (`tls=require`,
 * `auth=USER:PASSWORD`); domain "*" gives the catch-all route. */
struct config_route_info {
	char host[256];
	int port;
	bool require_tls;
	char user[256], pass[256];	/* "" without auth= */
};
bool config_route_get(const struct config *cfg, const char *domain,
		      struct config_route_info *out);

/* The lab DNS (`dns NAME = TYPE DATA`, common/config-dns.c), which answers
 * before the real DNS: the data of name's records of `type` ("MX", "A",
 * "AAAA", "TXT") into data_r[0..max) (pointers into cfg: "10 mx.b.test",
 * "127.0.0.1", the TXT text).  Returns how many (0: the lab knows the name
 * but has none of this type), CONFIG_DNS_NXDOMAIN for a name under a lab
 * name with no records of its own (it does not exist), or
 * CONFIG_DNS_NOT_LAB when the lab does not know the name (ask the DNS). */
#define CONFIG_DNS_NXDOMAIN (-1)
#define CONFIG_DNS_NOT_LAB (-2)
int config_dns_lookup(const struct config *cfg, const char *name,
		      const char *type, const char **data_r, size_t max);

#endif
