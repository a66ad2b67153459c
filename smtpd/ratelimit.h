#ifndef SMTPD_RATELIMIT_H
#define SMTPD_RATELIMIT_H
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Sending limits per authenticated user (rate_messages_per_hour,
 * rate_recipients_per_hour), so that a stolen password cannot turn the
 * submission port into a spam cannon.  Counted in memory over a window
 * of an hour that opens with the user's first message, for the whole
 * server (every session of the user), on the loop thread only; lost on
 * restart.  The session's side is smtp_rate_* in this file's .c. */

#define RATE_WINDOW 3600	/* seconds */
#define RATE_MAX_USERS 65536	/* users counted at most; more are not limited */
#define RATE_USER_MAX 255	/* bytes of a user name kept in the store */

struct smtp_session;

/* MAIL: true (450 4.7.1 queued) when s's user has sent its messages for
 * this hour. */
bool smtp_rate_refuse_mail(struct smtp_session *s);
/* RCPT: true (452 4.5.3 queued) when one more recipient would pass the
 * user's recipients for this hour (with those of this transaction). */
bool smtp_rate_refuse_rcpt(struct smtp_session *s);
/* The message of s was accepted (250): counts it and its recipients. */
void smtp_rate_record(struct smtp_session *s);

/* The table behind them (pure, for tests): whether `user` may send one
 * more message / `more` more recipients at `now` under the limits (0: no
 * limit), and the recording of a message with n_rcpts recipients. */
bool rate_allows_message(const char *user, unsigned int limit, time_t now);
bool rate_allows_rcpts(const char *user, unsigned int limit, size_t more,
		       time_t now);
void rate_record(const char *user, size_t n_rcpts, time_t now);
/* Forgets every count (tests). */
void rate_reset(void);
/* Puts an hour's count read from the store back into the table (ignored
 * when the user already has one, or its hour is over at now). */
void rate_restore(const char *user, time_t start, unsigned int messages,
		  size_t rcpts, time_t now);

/* The store: opens (creating) DIR/db/ratelimit.db, takes the counts of
 * hours still open at `now` into the table, drops the others and starts
 * the writer thread.  0, or -1 with a message in err_r (the limits then
 * count in memory only).  Call once, after the server dropped root. */
int rate_store_open(const char *dir, time_t now, char *err_r, size_t errlen);
/* Queues a user's count for the writer (nothing when the store is not
 * open).  Loop thread. */
void rate_store_put(const char *user, time_t start, unsigned int messages,
		    size_t rcpts);
/* Writes what is queued, stops the writer, closes the database. */
void rate_store_close(void);

#endif
