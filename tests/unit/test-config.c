#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "common/config.h"
#include "tests/unit/unit.h"

#define DIR "/srv/ml"

static char err[512];

/* Parses `text` over the defaults; the config is freed by the caller. */
static int parse(struct config *cfg, const char *text)
{
	config_defaults(cfg, DIR);
	err[0] = '\0';
	return config_parse(cfg, "maillab.conf", text, err, sizeof(err));
}

/* Expects `text` to fail with exactly `msg` as error. */
static void expect_error(const char *text, const char *msg)
{
	struct config cfg;

	ck_assert_msg(parse(&cfg, text) == -1, "accepted: %s", text);
	ck_assert_str_eq(err, msg);
	config_free(&cfg);
}

START_TEST(test_defaults)
{
	static const int ports[SVC_COUNT] = {
		10025, 10587, 10465, 10110, 10995, 10143, 10993
	};
	struct config cfg;

	config_defaults(&cfg, DIR);
	ck_assert_str_eq(cfg.dir, DIR);
	ck_assert_ptr_nonnull(cfg.hostname);
	ck_assert_int_gt((int)strlen(cfg.hostname), 0);
	ck_assert_uint_eq(cfg.n_domains, 1);
	ck_assert_str_eq(cfg.domains[0], "lab.test");
	ck_assert_uint_eq(cfg.n_listen, 1);
	ck_assert_str_eq(cfg.listen[0], "127.0.0.1");
	ck_assert(!cfg.standard_ports);
	for (int i = 0; i < SVC_COUNT; i++)
		ck_assert_int_eq(cfg.port[i], ports[i]);
	ck_assert_str_eq(cfg.run_as, "maillab");
	ck_assert_str_eq(cfg.tls_cert, DIR "/tls/cert.pem");
	ck_assert_str_eq(cfg.tls_key, DIR "/tls/key.pem");
	ck_assert(!cfg.allow_plaintext_auth);
	ck_assert_uint_eq(cfg.max_command_line, 512);
	ck_assert_uint_eq(cfg.max_text_line, 1000);
	ck_assert(cfg.reject_long_text_lines);
	ck_assert_uint_eq(cfg.max_message_size, 25 * 1024 * 1024);
	ck_assert_uint_eq(cfg.max_recipients, 100);
	ck_assert_uint_eq(cfg.max_pop3_line, 255);
	ck_assert_uint_eq(cfg.max_imap_line, 65536);
	ck_assert_uint_eq(cfg.max_literal_size, 25 * 1024 * 1024);
	ck_assert_uint_eq(cfg.max_connections, 1000);
	ck_assert_uint_eq(cfg.max_connections_per_ip, 50);
	ck_assert_uint_eq(cfg.max_output_buffer, 1024 * 1024);
	ck_assert_uint_eq(cfg.max_errors, 10);
	ck_assert_uint_eq(cfg.auth_max_failures, 3);
	ck_assert_uint_eq(cfg.auth_fail_delay_ms, 1000);
	ck_assert_uint_eq(cfg.timeout_smtp, 300);
	ck_assert_uint_eq(cfg.timeout_smtp_data, 180);
	ck_assert_uint_eq(cfg.timeout_pop3, 600);
	ck_assert_uint_eq(cfg.timeout_imap_preauth, 60);
	ck_assert_uint_eq(cfg.timeout_imap, 1800);
	ck_assert_uint_eq(cfg.timeout_imap_idle, 1800);
	ck_assert_uint_eq(cfg.shutdown_grace, 5);
	ck_assert_uint_eq(cfg.workers, 16);
	ck_assert(cfg.trace);
	ck_assert(!cfg.strict);
	ck_assert_str_eq(cfg.log_file, DIR "/log/maillab.log");
	config_free(&cfg);
	ck_assert_ptr_null(cfg.hostname);
	ck_assert_ptr_null(cfg.dir);
}
END_TEST

START_TEST(test_every_type)
{
	struct config cfg;

	ck_assert_int_eq(parse(&cfg,
		"hostname = mx.example.org\n"
		"domains = example.org, Example.NET other.test\n"
		"listen = 0.0.0.0, ::1\n"
		"run_as = mail\n"
		"tls_cert = /etc/ssl/mx.pem\n"
		"tls_key = keys/mx.key\n"
		"allow_plaintext_auth = YES\n"
		"reject_long_text_lines = off\n"
		"trace = false\n"
		"max_message_size = 10M\n"
		"max_literal_size = 2g\n"
		"max_imap_line = 8k\n"
		"max_recipients = 500\n"
		"max_errors = 3\n"
		"timeout_imap = 31\n"
		"workers = 16\n"
		"log_file = /var/log/maillab.log\n"), 0);
	ck_assert_str_eq(cfg.hostname, "mx.example.org");
	ck_assert_uint_eq(cfg.n_domains, 3);
	ck_assert_str_eq(cfg.domains[0], "example.org");
	ck_assert_str_eq(cfg.domains[1], "Example.NET");
	ck_assert_str_eq(cfg.domains[2], "other.test");
	ck_assert_uint_eq(cfg.n_listen, 2);
	ck_assert_str_eq(cfg.listen[0], "0.0.0.0");
	ck_assert_str_eq(cfg.listen[1], "::1");
	ck_assert_str_eq(cfg.run_as, "mail");
	ck_assert_str_eq(cfg.tls_cert, "/etc/ssl/mx.pem");
	ck_assert_str_eq(cfg.tls_key, DIR "/keys/mx.key");
	ck_assert(cfg.allow_plaintext_auth);
	ck_assert(!cfg.reject_long_text_lines);
	ck_assert(!cfg.trace);
	ck_assert_uint_eq(cfg.max_message_size, 10 * 1024 * 1024);
	ck_assert_uint_eq(cfg.max_literal_size, 2ULL * 1024 * 1024 * 1024);
	ck_assert_uint_eq(cfg.max_imap_line, 8192);
	ck_assert_uint_eq(cfg.max_recipients, 500);
	ck_assert_uint_eq(cfg.max_errors, 3);
	ck_assert_uint_eq(cfg.timeout_imap, 31);
	ck_assert_uint_eq(cfg.workers, 16);
	ck_assert_str_eq(cfg.log_file, "/var/log/maillab.log");
	/* Keys not named keep their defaults. */
	ck_assert_uint_eq(cfg.max_command_line, 512);
	ck_assert_int_eq(cfg.port[SVC_IMAPS], 10993);
	config_free(&cfg);
}
END_TEST

START_TEST(test_booleans)
{
	static const char *const yes[] = { "yes", "on", "true", "Yes", "TRUE" };
	static const char *const no[] = { "no", "off", "false", "No", "OFF" };
	char line[64];
	struct config cfg;

	for (size_t i = 0; i < 5; i++) {
		snprintf(line, sizeof(line), "allow_plaintext_auth = %s", yes[i]);
		ck_assert_int_eq(parse(&cfg, line), 0);
		ck_assert(cfg.allow_plaintext_auth);
		config_free(&cfg);
		snprintf(line, sizeof(line), "trace = %s", no[i]);
		ck_assert_int_eq(parse(&cfg, line), 0);
		ck_assert(!cfg.trace);
		config_free(&cfg);
	}
}
END_TEST

START_TEST(test_comments_blank_whitespace)
{
	struct config cfg;

	ck_assert_int_eq(parse(&cfg,
		"# a comment\n"
		"\n"
		"   \t\n"
		"  # indented comment\n"
		"max_errors=7\n"
		"workers\t =\t 2   \n"
		"  timeout_smtp   =   42  # trailing comment\n"
		"hostname = a.example\r\n"
		"max_recipients = 9"), 0);
	ck_assert_uint_eq(cfg.max_errors, 7);
	ck_assert_uint_eq(cfg.workers, 2);
	ck_assert_uint_eq(cfg.timeout_smtp, 42);
	ck_assert_str_eq(cfg.hostname, "a.example");
	ck_assert_uint_eq(cfg.max_recipients, 9);
	config_free(&cfg);

	ck_assert_int_eq(parse(&cfg, ""), 0);
	ck_assert_uint_eq(cfg.workers, 16);
	config_free(&cfg);
}
END_TEST

START_TEST(test_ports)
{
	static const int standard[SVC_COUNT] = { 25, 587, 465, 110, 995, 143, 993 };
	struct config cfg;

	ck_assert_int_eq(parse(&cfg, "ports = standard\n"), 0);
	ck_assert(cfg.standard_ports);
	for (int i = 0; i < SVC_COUNT; i++)
		ck_assert_int_eq(cfg.port[i], standard[i]);
	config_free(&cfg);

	/* An override wins wherever it appears relative to `ports`. */
	ck_assert_int_eq(parse(&cfg,
		"port_imap = 1143\nports = standard\nport_pop3 = 0\n"), 0);
	ck_assert_int_eq(cfg.port[SVC_IMAP], 1143);
	ck_assert_int_eq(cfg.port[SVC_POP3], 0);
	ck_assert_int_eq(cfg.port[SVC_SMTP], 25);
	ck_assert_int_eq(cfg.port[SVC_IMAPS], 993);
	config_free(&cfg);

	ck_assert_int_eq(parse(&cfg,
		"ports = unprivileged\nport_smtp = 2525\nport_submissions = 0\n"
		"port_pop3s = 65535\n"), 0);
	ck_assert(!cfg.standard_ports);
	ck_assert_int_eq(cfg.port[SVC_SMTP], 2525);
	ck_assert_int_eq(cfg.port[SVC_SUBMISSION], 10587);
	ck_assert_int_eq(cfg.port[SVC_SUBMISSIONS], 0);
	ck_assert_int_eq(cfg.port[SVC_POP3S], 65535);
	config_free(&cfg);

	/* Two disabled services may both be 0. */
	ck_assert_int_eq(parse(&cfg, "port_pop3 = 0\nport_imap = 0\n"), 0);
	config_free(&cfg);
	expect_error("port_pop3 = 2000\n\nport_imap = 2000\n",
		     "maillab.conf:3: port 2000 is used by both pop3 and imap");
	expect_error("port_smtp = 10143\n",
		     "maillab.conf:1: port 10143 is used by both smtp and imap");
}
END_TEST

START_TEST(test_errors)
{
	expect_error("# ok\nfoo = 1\n", "maillab.conf:2: unknown key 'foo'");
	expect_error("smtp_subaddress_separator = +-",
		     "maillab.conf:1: smtp_subaddress_separator: '+-' is longer than 1 characters");
	expect_error("trace = maybe",
		     "maillab.conf:1: trace: bad boolean 'maybe' (yes/no, on/off, true/false)");
	expect_error("max_message_size = lots",
		     "maillab.conf:1: max_message_size: bad size 'lots' (a number with optional K, M or G)");
	expect_error("max_message_size = 10T",
		     "maillab.conf:1: max_message_size: bad size '10T' (a number with optional K, M or G)");
	expect_error("max_message_size = 10 M",
		     "maillab.conf:1: max_message_size: bad size '10 M' (a number with optional K, M or G)");
	expect_error("max_message_size = 10MB",
		     "maillab.conf:1: max_message_size: bad size '10MB' (a number with optional K, M or G)");
	expect_error("max_message_size = 99999999999999999999999",
		     "maillab.conf:1: max_message_size: 99999999999999999999999 is out of range (1024 to 4294967295)");
	expect_error("max_message_size = 17179869184G",
		     "maillab.conf:1: max_message_size: 17179869184G is out of range (1024 to 4294967295)");
	expect_error("max_message_size = 5G",
		     "maillab.conf:1: max_message_size: 5G is out of range (1024 to 4294967295)");
	expect_error("max_errors = -1",
		     "maillab.conf:1: max_errors: negative values are not allowed");
	expect_error("workers = 4x",
		     "maillab.conf:1: workers: bad number '4x'");
	expect_error("workers = 1K",
		     "maillab.conf:1: workers: bad number '1K'");
	expect_error("workers = 0",
		     "maillab.conf:1: workers: 0 is out of range (1 to 256)");
	expect_error("max_command_line = 100",
		     "maillab.conf:1: max_command_line: 100 is out of range (512 to 1048576)");
	expect_error("\n\nhostname mail.example\n",
		     "maillab.conf:3: missing '=' (lines are `key = value`)");
	expect_error(" = 5", "maillab.conf:1: empty key before '='");
	expect_error("workers = 2\nworkers = 3\n",
		     "maillab.conf:2: duplicate key 'workers' (first set on line 1)");
	expect_error("domains = a.test b.test c.test d.test e.test f.test g.test "
		     "h.test i.test j.test k.test l.test m.test n.test o.test "
		     "p.test q.test",
		     "maillab.conf:1: domains: more than 16 items");
	expect_error("port_imap = 65536",
		     "maillab.conf:1: port_imap: 65536 is out of range (0 to 65535)");
	expect_error("port_imap = -143",
		     "maillab.conf:1: port_imap: negative values are not allowed");
	expect_error("ports = high",
		     "maillab.conf:1: ports: bad value 'high' (standard or unprivileged)");
	expect_error("hostname =", "maillab.conf:1: hostname: empty value");
	expect_error("hostname = bad_name.example",
		     "maillab.conf:1: hostname: 'bad_name.example' is not a valid host name");
	expect_error("domains = ok.test, -bad.test",
		     "maillab.conf:1: domains: '-bad.test' is not a valid domain name");
	expect_error("domains = , ,",
		     "maillab.conf:1: domains: needs at least one item");
	expect_error("listen = localhost",
		     "maillab.conf:1: listen: 'localhost' is not an IPv4 or IPv6 address");
	expect_error("tls_cert = ", "maillab.conf:1: tls_cert: empty value");
}
END_TEST

/* A failed parse leaves the configuration as it was. */
START_TEST(test_error_keeps_config)
{
	struct config cfg;

	ck_assert_int_eq(parse(&cfg, "workers = 8\ndomains = x.test"), 0);
	ck_assert_int_eq(config_parse(&cfg, "f", "workers = 2\ndomains = y.test\nbad",
				      err, sizeof(err)), -1);
	ck_assert_str_eq(err, "f:3: missing '=' (lines are `key = value`)");
	ck_assert_uint_eq(cfg.workers, 8);
	ck_assert_str_eq(cfg.domains[0], "x.test");
	config_free(&cfg);
}
END_TEST

START_TEST(test_run_as_may_be_empty)
{
	struct config cfg;

	ck_assert_int_eq(parse(&cfg, "run_as = nobody"), 0);
	ck_assert_str_eq(cfg.run_as, "nobody");
	ck_assert_int_eq(config_parse(&cfg, "f", "run_as =", err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.run_as, "");
	config_free(&cfg);
}
END_TEST

START_TEST(test_local_domain)
{
	struct config cfg;

	ck_assert_int_eq(parse(&cfg, "domains = lab.test, Example.ORG"), 0);
	ck_assert(config_is_local_domain(&cfg, "lab.test"));
	ck_assert(config_is_local_domain(&cfg, "LAB.Test"));
	ck_assert(config_is_local_domain(&cfg, "example.org"));
	ck_assert(config_is_local_domain(&cfg, "example.org."));
	ck_assert(!config_is_local_domain(&cfg, "sub.lab.test"));
	ck_assert(!config_is_local_domain(&cfg, "lab.tes"));
	ck_assert(!config_is_local_domain(&cfg, ""));
	config_free(&cfg);
}
END_TEST

START_TEST(test_service_names)
{
	ck_assert_str_eq(service_name(SVC_SMTP), "smtp");
	ck_assert_str_eq(service_name(SVC_SUBMISSION), "submission");
	ck_assert_str_eq(service_name(SVC_SUBMISSIONS), "submissions");
	ck_assert_str_eq(service_name(SVC_POP3), "pop3");
	ck_assert_str_eq(service_name(SVC_POP3S), "pop3s");
	ck_assert_str_eq(service_name(SVC_IMAP), "imap");
	ck_assert_str_eq(service_name(SVC_IMAPS), "imaps");
	ck_assert_str_eq(service_name(SVC_COUNT), "unknown");
}
END_TEST

static void assert_same_config(const struct config *a, const struct config *b)
{
	ck_assert_str_eq(a->dir, b->dir);
	ck_assert_str_eq(a->hostname, b->hostname);
	ck_assert_uint_eq(a->n_domains, b->n_domains);
	for (size_t i = 0; i < a->n_domains; i++)
		ck_assert_str_eq(a->domains[i], b->domains[i]);
	ck_assert_uint_eq(a->n_listen, b->n_listen);
	for (size_t i = 0; i < a->n_listen; i++)
		ck_assert_str_eq(a->listen[i], b->listen[i]);
	ck_assert_str_eq(a->run_as, b->run_as);
	ck_assert_str_eq(a->tls_cert, b->tls_cert);
	ck_assert_str_eq(a->tls_key, b->tls_key);
	ck_assert_str_eq(a->log_file, b->log_file);
	ck_assert_int_eq(a->standard_ports, b->standard_ports);
	for (int i = 0; i < SVC_COUNT; i++)
		ck_assert_int_eq(a->port[i], b->port[i]);
	ck_assert_int_eq(a->allow_plaintext_auth, b->allow_plaintext_auth);
	ck_assert_uint_eq(a->max_command_line, b->max_command_line);
	ck_assert_uint_eq(a->max_text_line, b->max_text_line);
	ck_assert_int_eq(a->reject_long_text_lines, b->reject_long_text_lines);
	ck_assert_uint_eq(a->max_message_size, b->max_message_size);
	ck_assert_uint_eq(a->max_recipients, b->max_recipients);
	ck_assert_uint_eq(a->max_pop3_line, b->max_pop3_line);
	ck_assert_uint_eq(a->max_imap_line, b->max_imap_line);
	ck_assert_uint_eq(a->max_literal_size, b->max_literal_size);
	ck_assert_uint_eq(a->max_connections, b->max_connections);
	ck_assert_uint_eq(a->max_connections_per_ip, b->max_connections_per_ip);
	ck_assert_uint_eq(a->max_output_buffer, b->max_output_buffer);
	ck_assert_uint_eq(a->max_errors, b->max_errors);
	ck_assert_uint_eq(a->auth_max_failures, b->auth_max_failures);
	ck_assert_uint_eq(a->auth_fail_delay_ms, b->auth_fail_delay_ms);
	ck_assert_uint_eq(a->timeout_smtp, b->timeout_smtp);
	ck_assert_uint_eq(a->timeout_smtp_data, b->timeout_smtp_data);
	ck_assert_uint_eq(a->timeout_pop3, b->timeout_pop3);
	ck_assert_uint_eq(a->timeout_imap_preauth, b->timeout_imap_preauth);
	ck_assert_uint_eq(a->timeout_imap, b->timeout_imap);
	ck_assert_uint_eq(a->shutdown_grace, b->shutdown_grace);
	ck_assert_uint_eq(a->workers, b->workers);
	ck_assert_int_eq(a->trace, b->trace);
	ck_assert_int_eq(a->strict, b->strict);
}

/* Every key appears once, as `key = ` or `#key = `, right below a "# "
 * documentation line. */
static void assert_every_key_documented(const char *path)
{
	static const char *const names[] = {
		"hostname", "domains", "listen", "ports", "port_smtp",
		"port_submission", "port_submissions", "port_pop3",
		"port_pop3s", "port_imap", "port_imaps", "run_as", "tls_cert",
		"tls_key", "allow_plaintext_auth", "auth_max_failures",
		"auth_fail_delay_ms", "auth_max_failures_per_ip",
		"auth_max_failures_per_user", "auth_lockout_seconds",
		"max_command_line", "max_text_line",
		"reject_long_text_lines", "max_message_size", "max_recipients",
		"max_pop3_line", "max_imap_line", "max_literal_size",
		"max_connections", "max_connections_per_ip",
		"max_output_buffer", "max_errors", "timeout_smtp",
		"timeout_smtp_data", "timeout_pop3", "timeout_imap_preauth",
		"timeout_imap", "timeout_imap_idle", "shutdown_grace",
		"command_deadline_smtp", "command_deadline_pop3",
		"command_deadline_imap", "min_data_rate", "smtp_postmaster_user",
		"smtp_vrfy", "smtp_expn", "smtp_subaddress_folders",
		"smtp_subaddress_separator", "smtp_sender_must_match",
		"smtp_from_must_match", "smtp_received_auth_user",
		"smtp_reject_bare_lf", "pop3_login_delay", "pop3_apop",
		"dns_server", "relay_ca_file", "alias_remote_targets", "rate_messages_per_hour",
		"rate_recipients_per_hour", "relay_port",
		"queue_retry_base", "queue_retry_max", "queue_lifetime",
		"queue_delay_warning",
		"queue_max_connections", "queue_max_per_destination",
		"queue_connection_idle", "max_received_headers",
		"timeout_client", "timeout_client_data_end",
		"fault_injection",
		"workers", "trace", "strict", "log_file",
	};
	size_t n = sizeof(names) / sizeof(names[0]);
	int seen[sizeof(names) / sizeof(names[0])] = { 0 };
	char line[1024], prev[1024] = "";
	int keys = 0;
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *p = line[0] == '#' ? line + 1 : line;
		size_t len = strcspn(p, " =");

		if (p[len] == ' ' && p[len + 1] == '=' && *p != ' ') {
			bool known = false;

			keys++;
			for (size_t i = 0; i < n; i++) {
				if (strlen(names[i]) == len &&
				    strncmp(names[i], p, len) == 0) {
					seen[i]++;
					known = true;
				}
			}
			ck_assert_msg(known, "unexpected key line: %s", line);
			ck_assert_msg(strncmp(prev, "# ", 2) == 0 && strlen(prev) > 10,
				      "no documentation above %s", line);
		}
		memcpy(prev, line, sizeof(prev));
	}
	fclose(f);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(seen[i] == 1, "%s appears %d times", names[i], seen[i]);
	ck_assert_int_eq(keys, (int)n);
}

START_TEST(test_durations)
{
	struct config cfg;

	config_defaults(&cfg, DIR);
	ck_assert_uint_eq(cfg.queue_retry_base, 300);
	ck_assert_uint_eq(cfg.queue_retry_max, 3600);
	ck_assert_uint_eq(cfg.queue_lifetime, 5 * 86400);
	ck_assert_uint_eq(cfg.timeout_client, 300);
	ck_assert_uint_eq(cfg.timeout_client_data_end, 600);
	ck_assert_uint_eq(cfg.queue_connection_idle, 2);
	config_free(&cfg);
	ck_assert_int_eq(parse(&cfg, "queue_retry_base = 2s\nqueue_retry_max = 10\n"
			       "queue_lifetime = 2h\ntimeout_client = 1m\n"), 0);
	ck_assert_uint_eq(cfg.queue_retry_base, 2);
	ck_assert_uint_eq(cfg.queue_retry_max, 10);
	ck_assert_uint_eq(cfg.queue_lifetime, 7200);
	ck_assert_uint_eq(cfg.timeout_client, 60);
	config_free(&cfg);
	expect_error("queue_retry_base = 2x\n",
		     "maillab.conf:1: queue_retry_base: bad duration '2x' (a number with optional s, m, h or d)");
	expect_error("queue_retry_base = 0s\n",
		     "maillab.conf:1: queue_retry_base: 0s is out of range (1 to 86400)");
	/* a size suffix is no duration, and the reverse */
	expect_error("queue_lifetime = 1K\n",
		     "maillab.conf:1: queue_lifetime: bad duration '1K' (a number with optional s, m, h or d)");
	expect_error("max_message_size = 1d\n",
		     "maillab.conf:1: max_message_size: bad size '1d' (a number with optional K, M or G)");
}
END_TEST

START_TEST(test_routes)
{
	struct config cfg, copy;
	char host[256];
	int port = 0;

	ck_assert_int_eq(parse(&cfg, "route B.test = 127.0.0.1:20025\n"
			       "route c.test = [::1]:2525\n"
			       "route\td.test\t=\tmx.example.org\n"), 0);
	ck_assert_uint_eq(cfg.n_routes, 3);
	ck_assert(config_route(&cfg, "b.TEST", host, sizeof(host), &port));
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_int_eq(port, 20025);
	ck_assert(config_route(&cfg, "c.test.", host, sizeof(host), &port));
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(port, 2525);
	ck_assert(config_route(&cfg, "d.test", host, sizeof(host), &port));
	ck_assert_str_eq(host, "mx.example.org");
	ck_assert_int_eq(port, 25);
	ck_assert(!config_route(&cfg, "e.test", NULL, 0, NULL));
	ck_assert(!config_route(&cfg, "test", NULL, 0, NULL));
	/* a reload keeps them (the parse works on a copy) */
	config_defaults(&copy, DIR);
	ck_assert_int_eq(config_parse(&copy, "x", "route b.test = 10.0.0.1\n", err,
				      sizeof(err)), 0);
	ck_assert_int_eq(config_parse(&copy, "x", "route b.test = 10.0.0.2\n", err,
				      sizeof(err)), -1);
	ck_assert(config_route(&copy, "b.test", host, sizeof(host), &port));
	ck_assert_str_eq(host, "10.0.0.1");
	config_free(&copy);
	config_free(&cfg);
	expect_error("route b.test = 127.0.0.1:20025\nroute B.TEST = 127.0.0.1:1\n",
		     "maillab.conf:2: route B.TEST: set twice");
	expect_error("route = 127.0.0.1\n",
		     "maillab.conf:1: key 'route' needs a domain before '='");
	expect_error("workers x = 3\n",
		     "maillab.conf:1: key 'workers' takes no argument before '='");
	expect_error("route b..test = 127.0.0.1\n",
		     "maillab.conf:1: route: 'b..test' is not a valid domain name");
	expect_error("route b.test = 127.0.0.1:0\n",
		     "maillab.conf:1: route b.test: '127.0.0.1:0' is not HOST[:PORT]");
	expect_error("route b.test = [::1\n",
		     "maillab.conf:1: route b.test: '[::1' is not HOST[:PORT]");
	expect_error("route b.test = bad_host:25\n",
		     "maillab.conf:1: route b.test: 'bad_host:25' is not HOST[:PORT]");
}
END_TEST

START_TEST(test_lab_dns)
{
	struct config cfg;
	const char *data[8];

	ck_assert_int_eq(parse(&cfg, "dns B.test = MX 20 backup.b.test\n"
			       "dns b.test = mx   10\tmx.b.test\n"
			       "dns mx.b.test = A 127.0.0.1\n"
			       "dns mx.b.test. = AAAA ::1\n"
			       "dns b.test = TXT \"v=spf1 \\\"x\\\" -all\"\n"
			       "dns c.test = TXT bare text\n"
			       "dns nomail.test = MX 0 .\n"), 0);
	ck_assert_uint_eq(cfg.n_dns, 7);
	ck_assert_int_eq(config_dns_lookup(&cfg, "b.TEST.", "MX", data, 8), 2);
	ck_assert_str_eq(data[0], "20 backup.b.test");
	ck_assert_str_eq(data[1], "10 mx.b.test");
	ck_assert_int_eq(config_dns_lookup(&cfg, "b.test", "MX", data, 1), 1);
	ck_assert_int_eq(config_dns_lookup(&cfg, "mx.b.test", "A", data, 8), 1);
	ck_assert_str_eq(data[0], "127.0.0.1");
	ck_assert_int_eq(config_dns_lookup(&cfg, "mx.b.test", "AAAA", data, 8), 1);
	ck_assert_str_eq(data[0], "::1");
	ck_assert_int_eq(config_dns_lookup(&cfg, "b.test", "TXT", data, 8), 1);
	ck_assert_str_eq(data[0], "v=spf1 \"x\" -all");
	ck_assert_int_eq(config_dns_lookup(&cfg, "c.test", "TXT", data, 8), 1);
	ck_assert_str_eq(data[0], "bare text");
	ck_assert_int_eq(config_dns_lookup(&cfg, "nomail.test", "MX", data, 8), 1);
	ck_assert_str_eq(data[0], "0 .");
	/* known name, other type: none (NODATA) */
	ck_assert_int_eq(config_dns_lookup(&cfg, "b.test", "A", data, 8), 0);
	/* under a lab name, no records: does not exist */
	ck_assert_int_eq(config_dns_lookup(&cfg, "nosuch.b.test", "MX", data, 8),
			 CONFIG_DNS_NXDOMAIN);
	/* not the lab's: the real DNS answers */
	ck_assert_int_eq(config_dns_lookup(&cfg, "d.test", "MX", data, 8),
			 CONFIG_DNS_NOT_LAB);
	ck_assert_int_eq(config_dns_lookup(&cfg, "xb.test", "MX", data, 8),
			 CONFIG_DNS_NOT_LAB);
	ck_assert_int_eq(config_dns_lookup(&cfg, "test", "MX", data, 8),
			 CONFIG_DNS_NOT_LAB);
	config_free(&cfg);

	expect_error("dns = MX 10 a.test\n",
		     "maillab.conf:1: key 'dns' needs a domain before '='");
	expect_error("dns b..test = A 127.0.0.1\n",
		     "maillab.conf:1: dns: 'b..test' is not a valid domain name");
	expect_error("dns b.test = CNAME a.test\n",
		     "maillab.conf:1: dns b.test: 'CNAME a.test' is not MX, A, AAAA or TXT followed by its data");
	expect_error("dns b.test = MX\n",
		     "maillab.conf:1: dns b.test: bad MX data '' (PREFERENCE HOST)");
	expect_error("dns b.test = MX 70000 mx.b.test\n",
		     "maillab.conf:1: dns b.test: bad MX data '70000 mx.b.test' (PREFERENCE HOST)");
	expect_error("dns b.test = MX ten mx.b.test\n",
		     "maillab.conf:1: dns b.test: bad MX data 'ten mx.b.test' (PREFERENCE HOST)");
	expect_error("dns b.test = MX 10 bad_host\n",
		     "maillab.conf:1: dns b.test: bad MX data '10 bad_host' (PREFERENCE HOST)");
	expect_error("dns b.test = A ::1\n",
		     "maillab.conf:1: dns b.test: bad A data '::1' (an IPv4 address)");
	expect_error("dns b.test = AAAA 127.0.0.1\n",
		     "maillab.conf:1: dns b.test: bad AAAA data '127.0.0.1' (an IPv6 address)");
	expect_error("dns b.test = TXT \"open\n",
		     "maillab.conf:1: dns b.test: bad TXT data '\"open' (text, or one \"quoted string\", of at most 1024 bytes)");
	expect_error("dns b.test = TXT\n",
		     "maillab.conf:1: dns b.test: bad TXT data '' (text, or one \"quoted string\", of at most 1024 bytes)");
	expect_error("dns b.test = MX 0 .\ndns b.test = MX 10 mx.b.test\n",
		     "maillab.conf:2: dns b.test: a null MX (MX 0 .) must be the name's only MX record (RFC 7505 3)");
	expect_error("dns b.test = MX 10 mx.b.test\ndns b.test = MX 0 .\n",
		     "maillab.conf:2: dns b.test: a null MX (MX 0 .) must be the name's only MX record (RFC 7505 3)");
	expect_error("dns b.test = A 127.0.0.1\ndns B.TEST = A 127.0.0.1\n",
		     "maillab.conf:2: dns B.TEST: the same record twice");
}
END_TEST

START_TEST(test_smarthost_routes)
{
	struct config cfg;
	struct config_route_info ri;

	ck_assert_int_eq(parse(&cfg, "route * = smtp.example.org:587 tls=require auth=me@x:p:w\n"
			       "route b.test = 127.0.0.1:2525 tls=require\n"
			       "route c.test = 127.0.0.1\n"), 0);
	ck_assert(config_route_get(&cfg, "*", &ri));
	ck_assert_str_eq(ri.host, "smtp.example.org");
	ck_assert_int_eq(ri.port, 587);
	ck_assert(ri.require_tls);
	ck_assert_str_eq(ri.user, "me@x");
	ck_assert_str_eq(ri.pass, "p:w");
	ck_assert(config_route_get(&cfg, "B.test", &ri));
	ck_assert(ri.require_tls);
	ck_assert_str_eq(ri.user, "");
	ck_assert(config_route_get(&cfg, "c.test", &ri));
	ck_assert(!ri.require_tls);
	ck_assert_int_eq(ri.port, 25);
	ck_assert(!config_route_get(&cfg, "d.test", &ri));
	config_free(&cfg);
	expect_error("route b.test = 127.0.0.1 tls=maybe\n",
		     "maillab.conf:1: route b.test: 'tls=maybe' is not tls=require or auth=USER:PASSWORD");
	expect_error("route b.test = 127.0.0.1 auth=nopassword\n",
		     "maillab.conf:1: route b.test: 'auth=nopassword' is not tls=require or auth=USER:PASSWORD");
	expect_error("route b.test = 127.0.0.1 tls=require tls=require\n",
		     "maillab.conf:1: route b.test: 'tls=require' is not tls=require or auth=USER:PASSWORD");
	expect_error("route ** = 127.0.0.1\n",
		     "maillab.conf:1: route: '**' is not a valid domain name");
}
END_TEST

START_TEST(test_template_round_trip)
{
	char *dir = unit_tmpdir();
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	struct config want, got;
	struct stat st;
	FILE *f;
	char line[1024];
	int active = 0, documented = 0;

	buf_printf(&path, "%s/maillab.conf", dir);
	ck_assert_int_eq(config_write_template(buf_cstr(&path), "mx.lab.test",
					       "lab.test"), 0);
	/* O_EXCL: never overwrites. */
	ck_assert_int_eq(config_write_template(buf_cstr(&path), "x", "y"), -1);
	ck_assert_int_eq(stat(buf_cstr(&path), &st), 0);

	config_defaults(&want, dir);
	ck_assert_int_eq(config_parse(&want, "want", "hostname = mx.lab.test",
				      err, sizeof(err)), 0);
	ck_assert_msg(config_load(&got, dir, err, sizeof(err)) == 0, "%s", err);
	assert_same_config(&want, &got);
	config_free(&want);
	config_free(&got);

	/* Only hostname and domains are active; every other key is present,
	 * commented, with a documentation line above. */
	f = fopen(buf_cstr(&path), "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] != '#' && strchr(line, '=') != NULL)
			active++;
		if (strncmp(line, "#max_message_size = 25M\n", 24) == 0 ||
		    strncmp(line, "#port_imaps = 10993\n", 20) == 0 ||
		    strncmp(line, "#tls_key = tls/key.pem\n", 23) == 0)
			documented++;
	}
	fclose(f);
	ck_assert_int_eq(active, 2);
	ck_assert_int_eq(documented, 3);
	assert_every_key_documented(buf_cstr(&path));

	/* Uncommenting every key gives the defaults too. */
	{
		struct buf text = BUF_INIT(BUF_UNLIMITED);
		struct config all;

		f = fopen(buf_cstr(&path), "r");
		while (fgets(line, sizeof(line), f) != NULL) {
			if (line[0] == '#' && line[1] != ' ' && line[1] != '#' &&
			    strchr(line, '=') != NULL)
				buf_puts(&text, line + 1);
			else
				buf_puts(&text, line);
		}
		fclose(f);
		config_defaults(&want, dir);
		ck_assert_int_eq(config_parse(&want, "w", "hostname = mx.lab.test",
					      err, sizeof(err)), 0);
		config_defaults(&all, dir);
		ck_assert_msg(config_parse(&all, "all", buf_cstr(&text), err,
					   sizeof(err)) == 0, "%s", err);
		assert_same_config(&want, &all);
		config_free(&want);
		config_free(&all);
		buf_free(&text);
	}
	buf_free(&path);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_load)
{
	char *dir = unit_tmpdir();
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	struct config cfg;
	FILE *f;

	/* No file: all defaults. */
	ck_assert_int_eq(config_load(&cfg, dir, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.workers, 16);
	config_free(&cfg);

	buf_printf(&path, "%s/maillab.conf", dir);
	f = fopen(buf_cstr(&path), "w");
	fputs("workers = 2\nnonsense = 1\n", f);
	fclose(f);
	ck_assert_int_eq(config_load(&cfg, dir, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "maillab.conf:2: unknown key 'nonsense'"));
	ck_assert_uint_eq(cfg.workers, 16);
	config_free(&cfg);

	f = fopen(buf_cstr(&path), "w");
	fputs("workers = 2\n", f);
	fputc('\0', f);
	fclose(f);
	ck_assert_int_eq(config_load(&cfg, dir, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "NUL byte"));
	config_free(&cfg);

	chmod(buf_cstr(&path), 0);
	if (access(buf_cstr(&path), R_OK) < 0) {	/* not when run as root */
		ck_assert_int_eq(config_load(&cfg, dir, err, sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, "Permission denied"));
		config_free(&cfg);
	}
	buf_free(&path);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_cli_take_dir)
{
	char a0[] = "serve", a1[] = "-d", a2[] = "/x", a3[] = "add", a4[] = "bob";
	char *argv1[] = { a0, a3, a1, a2, a4, NULL };
	int argc = 5;
	char b0[] = "user", b1[] = "--dir", b2[] = "/y", b3[] = "-d/z";
	char *argv2[] = { b0, b1, b2, b3, NULL };
	char c0[] = "serve", c1[] = "-d";
	char *argv3[] = { c0, c1, NULL };
	char d0[] = "serve";
	char *argv4[] = { d0, NULL };

	ck_assert_str_eq(cli_take_dir(&argc, argv1), "/x");
	ck_assert_int_eq(argc, 3);
	ck_assert_str_eq(argv1[1], "add");
	ck_assert_str_eq(argv1[2], "bob");
	ck_assert_ptr_null(argv1[3]);

	argc = 4;
	ck_assert_str_eq(cli_take_dir(&argc, argv2), "/z");	/* last wins */
	ck_assert_int_eq(argc, 1);
	ck_assert_ptr_null(argv2[1]);

	argc = 2;	/* "-d" without a value stays for the usage error */
	ck_assert_str_eq(cli_take_dir(&argc, argv3), DEFAULT_INSTANCE_DIR);
	ck_assert_int_eq(argc, 2);

	argc = 1;
	ck_assert_str_eq(cli_take_dir(&argc, argv4), DEFAULT_INSTANCE_DIR);
	ck_assert_int_eq(argc, 1);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_every_type);
	tcase_add_test(tc, test_booleans);
	tcase_add_test(tc, test_comments_blank_whitespace);
	tcase_add_test(tc, test_ports);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_error_keeps_config);
	tcase_add_test(tc, test_run_as_may_be_empty);
	tcase_add_test(tc, test_local_domain);
	tcase_add_test(tc, test_service_names);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_routes);
	tcase_add_test(tc, test_lab_dns);
	tcase_add_test(tc, test_smarthost_routes);
	tcase_add_test(tc, test_template_round_trip);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_cli_take_dir);
	suite_add_tcase(s, tc);
	return s;
}
