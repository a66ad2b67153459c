/* maillab lab list | start N [-d DIR] [--port-offset K] | check N [-d DIR]
 *
 * The labs of labs/: `start` makes a lab directory (./lab-N unless -d) with
 * the instance(s), users, settings and mail the lab needs and serves it in
 * the foreground; `check` reads the traces and the Maildirs and prints one
 * PASS/FAIL line per step (exit 0 only when every step passed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/lab.h"
#include "common/users.h"

#define USAGE \
	"usage: maillab lab list\n" \
	"       maillab lab start N [-d DIR] [--port-offset K]\n" \
	"       maillab lab check N [-d DIR] [--user NAME]\n" \
	"  DIR defaults to ./lab-N.  --port-offset K adds K to every port\n" \
	"  (for several labs or students on one machine).  --user NAME grades\n" \
	"  student NAME on a shared instance DIR (a user per student): NAME's\n" \
	"  sessions and mailbox instead of bob's.\n"

/* Lab 7: two instances (each routes the other's domain to it, see
 * cli/lab-start.c), with retries short enough to watch, and no idle
 * outbound connection: one kept open to south would still take the next
 * message while south shuts down (its sessions get shutdown_grace), and
 * the student stopping south would see no deferral. */
#define LAB7_QUEUE "queue_retry_base = 2s\nqueue_retry_max = 10s\n" \
	"queue_connection_idle = 0\n"

static const struct lab_seed lab2_seeds[] = {
	{ "Lab 2: keep me", "Leave this one on the server.\r\n" },
	{ "Lab 2: delete me", "Retrieve me, then delete me with DELE.\r\n" },
};
static const struct lab_seed lab3_seeds[] = {
	{ "Lab 3: first message", "The first message of lab 3.\r\n" },
	{ "Lab 3: second message", "Copy me into the folder Lab3.\r\n" },
};
static const struct lab_seed lab4_seeds[] = {
	{ "Lab 4: read me over IMAP", "Mark me \\Seen from IMAP.\r\n" },
	{ "Lab 4: delete me over POP3", "Delete me from POP3.\r\n" },
};

#define ONE_INSTANCE { { NULL, "lab.test", 0, "" } }, 1
/* Lab 6: strict mode names every rule the student's client breaks
 * (common/strict.h), and the check grades them. */
#define LAB6_INSTANCE { { NULL, "lab.test", 0, "strict = on\n" } }, 1
#define SEEDS(a) a, sizeof(a) / sizeof(a[0])

static const struct lab lab_table[] = {
	{ 1, "SMTP by hand", "01-smtp-by-hand.md",
	  "EHLO, MAIL, RCPT, DATA, dot-stuffing and reply codes with nc -C", 30,
	  ONE_INSTANCE, NULL, 0, lab1_check },
	{ 2, "POP3 by hand", "02-pop3-by-hand.md",
	  "USER/PASS, STAT, LIST, UIDL, RETR, DELE, QUIT and the Maildir after", 25,
	  ONE_INSTANCE, SEEDS(lab2_seeds), lab2_check },
	{ 3, "IMAP by hand", "03-imap-by-hand.md",
	  "tags, LOGIN, LIST, SELECT, FETCH, STORE, CREATE, COPY, SEARCH, IDLE", 40,
	  ONE_INSTANCE, SEEDS(lab3_seeds), lab3_check },
	{ 4, "POP3 vs IMAP side by side", "04-pop3-vs-imap.md",
	  "one mailbox, two protocols: flags, deletions, new/ -> cur/, :2,S", 25,
	  ONE_INSTANCE, SEEDS(lab4_seeds), lab4_check },
	{ 5, "Encryption", "05-encryption.md",
	  "what an eavesdropper sees: plaintext vs STARTTLS; AUTH PLAIN is base64", 30,
	  ONE_INSTANCE, NULL, 0, lab5_check },
	{ 6, "Write your own SMTP client", "06-smtp-client.md",
	  "the socket lab: a client in Python or C, graded from the trace", 60,
	  LAB6_INSTANCE, NULL, 0, lab6_check },
	{ 7, "Store and forward", "07-store-and-forward.md",
	  "two servers relaying: queue, retries while one is down, a bounce", 40,
	  { { "north", "north.test", 0, LAB7_QUEUE },
	    { "south", "south.test", 100, LAB7_QUEUE } }, 2,
	  NULL, 0, lab7_check },
	{ 8, "Real clients", "08-real-clients.md",
	  "mutt or Thunderbird over TLS, then the trace of what the client did", 30,
	  ONE_INSTANCE, NULL, 0, lab8_check },
};
#define N_LABS (sizeof(lab_table) / sizeof(lab_table[0]))

const struct lab *lab_find(int n)
{
	for (size_t i = 0; i < N_LABS; i++)
		if (lab_table[i].number == n)
			return &lab_table[i];
	return NULL;
}

static int usage(void)
{
	fputs(USAGE, stderr);
	return 2;
}

static int cmd_list(void)
{
	printf("%-3s %-28s %-7s %s\n", "N", "LAB", "MINUTES", "WHAT IT TEACHES");
	for (size_t i = 0; i < N_LABS; i++)
		printf("%-3d %-28s %-7d %s\n", lab_table[i].number, lab_table[i].title,
		       lab_table[i].minutes, lab_table[i].teaches);
	printf("\nGuides: labs/NN-*.md.  Start one with: maillab lab start N\n");
	return ferror(stdout) ? 1 : 0;
}

static int cmd_check(const struct lab *lab, const char *dir,
		     const char *student)
{
	struct lab_check c = { .dir = dir, .student = student,
			       .bob = student != NULL ? student : "bob" };
	struct stat st;

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "maillab lab: %s: %s (start the lab with: maillab lab start %d -d %s)\n",
			dir, errno ? strerror(errno) : "not a directory",
			lab->number, dir);
		return 1;
	}
	if (student != NULL && lab->n_instances > 1) {
		fprintf(stderr, "maillab lab: lab %d runs %zu instances of its own: --user is for one shared instance\n",
			lab->number, lab->n_instances);
		return 2;
	}
	if (student != NULL)
		printf("Lab %d: %s (%s, student %s)\n", lab->number, lab->title,
		       dir, student);
	else
		printf("Lab %d: %s (%s)\n", lab->number, lab->title, dir);
	lab->check(&c);
	printf("%d of %d steps passed\n", c.step - c.failed, c.step);
	return c.failed == 0 && c.step > 0 ? 0 : 1;
}

static int parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

int maillab_lab(int argc, char **argv)
{
	const char *dir = NULL, *student = NULL;
	const struct lab *lab;
	char default_dir[32];
	int number, offset = 0;

	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return cmd_list();
	if (argc < 3 || parse_int(argv[2], 1, 99, &number) < 0)
		return usage();
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0 && i + 1 < argc && dir == NULL)
			dir = argv[++i];
		else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc &&
			 strcmp(argv[1], "check") == 0 && student == NULL &&
			 user_name_valid(argv[i + 1]))
			student = argv[++i];
		else if (strcmp(argv[i], "--port-offset") == 0 && i + 1 < argc &&
			 strcmp(argv[1], "start") == 0 &&
			 parse_int(argv[++i], 0, 50000, &offset) == 0)
			continue;
		else
			return usage();
	}
	lab = lab_find(number);
	if (lab == NULL) {
		fprintf(stderr, "maillab lab: there is no lab %d (see: maillab lab list)\n",
			number);
		return 2;
	}
	snprintf(default_dir, sizeof(default_dir), "./lab-%d", number);
	if (dir == NULL)
		dir = default_dir;
	if (strcmp(argv[1], "start") == 0)
		return lab_start(lab, dir, offset);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(lab, dir, student);
	return usage();
}
