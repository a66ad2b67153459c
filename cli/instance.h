#ifndef CLI_INSTANCE_H
#define CLI_INSTANCE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/config.h"
#include "common/users.h"

/* An instance directory (DESIGN.md "Instance directory"):
 *
 *   DIR/maillab.conf         every key documented, hostname and domains set
 *   DIR/tls/cert.pem key.pem self-signed (common/certgen.h), key 0600
 *   DIR/db/                  Berkeley DB environment (users, ...)
 *   DIR/mail/                one Maildir++ per user
 *   DIR/queue/               outbound spool
 *   DIR/log/ log/trace/      event log and per-session traces
 *   DIR/credentials.txt      demo users' passwords, 0600 (--demo only)
 */

/* Creates the instance.  DIR may exist only as an empty directory; a new
 * DIR is made with mode 0700 (missing parents 0755).  `domain` (NULL:
 * "lab.test"; several may be given comma-separated) and `hostname` (NULL: the
 * machine's FQDN, else "localhost") are written active into maillab.conf.
 * With `demo`, users alice and bob get random 16-character passwords, their
 * Maildirs, and a line each in DIR/credentials.txt.  Progress and the demo
 * credentials (printed this once) go to `report` (NULL: silent).
 *
 * maillab.conf is written last, so an instance with one is complete.  On
 * failure everything created is removed again and DIR is left as it was.
 * 0 on success; -1 with one line naming the file or argument in err_r
 * (an existing instance or a non-empty DIR is an error, never overwritten). */
int instance_init(const char *dir, const char *domain, const char *hostname,
		  bool demo, FILE *report, char *err_r, size_t errlen);

/* True when DIR holds a maillab.conf. */
bool instance_exists(const char *dir);

/* Prints where everything of the instance is and how to connect: each
 * enabled service with address:port and its kind of TLS, the users in
 * `users` (the instance's open user database: their number and the first
 * names), the credentials file when there is one, the log, and example
 * client commands.  Names the configured services; whether each is
 * listening is the server's business. */
void instance_print_info(const struct config *cfg, struct userdb *users, FILE *f);

/* The demo users instance_init(demo) creates. */
#define INSTANCE_DEMO_USERS { "alice", "bob" }
#define INSTANCE_PASSWORD_LEN 16

/* A random password of INSTANCE_PASSWORD_LEN characters (96 bits) into out
 * (room for INSTANCE_PASSWORD_LEN + 1), as the demo users get.  0, or -1
 * with err_r. */
int instance_random_password(char *out, char *err_r, size_t errlen);

#endif
