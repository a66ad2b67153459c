/* maillab serve [-d DIR]: create a demo instance if there is none, then run
 * every service in the foreground until SIGINT/SIGTERM.  Started as root, it
 * hands the instance to the run_as user and becomes that user after
 * binding (cli/run-as.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/instance.h"
#include "cli/run-as.h"
#include "common/config.h"
#include "common/log.h"
#include "common/server.h"
#include "imapd/imap.h"
#include "pop3d/pop3.h"
#include "smtpd/ratelimit.h"
#include "smtpd/runner.h"
#include "smtpd/smtp.h"

/* Which server speaks on which service. */
static const struct protocol *const maillab_protocols[SVC_COUNT] = {
	[SVC_SMTP] = &smtp_protocol,
	[SVC_SUBMISSION] = &smtp_protocol,
	[SVC_SUBMISSIONS] = &smtp_protocol,
	[SVC_POP3] = &pop3_protocol,
	[SVC_POP3S] = &pop3_protocol,
	[SVC_IMAP] = &imap_protocol,
	[SVC_IMAPS] = &imap_protocol,
};

static int usage(void)
{
	fprintf(stderr, "usage: maillab serve [-d DIR]\n");
	return 2;
}

int maillab_serve(int argc, char **argv)
{
	const char *dir = cli_take_dir(&argc, argv);
	struct config cfg;
	struct server srv;
	struct queue_runner *runner;
	char err[1024];
	int ret;

	if (argc != 1)
		return usage();
	if (!instance_exists(dir)) {
		printf("No instance in %s: creating a demo instance.\n", dir);
		if (instance_init(dir, NULL, NULL, true, stdout, err, sizeof(err)) < 0) {
			fprintf(stderr, "maillab: %s\n", err);
			return 1;
		}
	}
	if (config_load(&cfg, dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	if (run_as_hand_over(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	if (server_init(&srv, &cfg, maillab_protocols, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s\n", err);
		server_free(&srv);
		return 1;
	}
	/* Opened by the user the server runs as, never by root: maillab.conf
	 * (which names the file) belongs to that user. */
	if (log_open(srv.cfg->cfg.log_file, true) < 0) {
		fprintf(stderr, "maillab: cannot open %s: %m\n", srv.cfg->cfg.log_file);
		server_free(&srv);
		return 1;
	}
	/* After the drop to run_as, so that the file belongs to it. */
	if (rate_store_open(srv.cfg->cfg.dir, time(NULL), err, sizeof(err)) < 0)
		log_msg("smtp", NULL, "sending limits count from zero: %s", err);
	runner = queue_runner_start(&srv, err, sizeof(err));
	if (runner == NULL) {
		fprintf(stderr, "maillab: %s\n", err);
		server_free(&srv);
		rate_store_close();
		log_close();
		return 1;
	}
	instance_print_info(&srv.cfg->cfg, srv.users, stdout);
	server_print_listeners(&srv, stdout);
	if (srv.cfg->cfg.fault_injection) {
		/* a lab setting that must not go unnoticed (labs/faults.md) */
		printf("FAULT INJECTION IS ON: %zu fault line(s) in maillab.conf, "
		       "and names ending in +fault. inject faults (labs/faults.md)\n",
		       srv.cfg->cfg.n_faults);
		log_msg("server", NULL, "fault injection is on (%zu fault lines)",
			srv.cfg->cfg.n_faults);
	}
	fflush(stdout);
	ret = server_run(&srv);
	/* The runner's connections and timers go before the loop; its jobs
	 * still on the worker pool finish in server_free. */
	queue_runner_stop(runner);
	server_free(&srv);
	queue_runner_free(&runner);
	/* last: the workers' last replies may still have counted */
	rate_store_close();
	log_close();
	return ret;
}
