/* The sending counts kept across restarts (smtpd/ratelimit.h): one record
 * per user in DIR/db/ratelimit.db, "START MESSAGES RECIPIENTS" (decimal
 * text; START in seconds since the epoch), written by a thread of its own
 * so that the loop only queues a copy of the count it changed. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dbenv.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "smtpd/ratelimit.h"

#define RATE_FILE "ratelimit.db"

struct pending {
	struct pending *next;
	time_t start;
	unsigned int messages;
	size_t rcpts;
	char user[];
};

static struct {
	DB_ENV *env;
	DB *db;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct pending *head, **tail;	/* under lock */
	bool stop;			/* under lock */
	bool open;			/* loop thread only */
} store = { .lock = PTHREAD_MUTEX_INITIALIZER,
	    .wake = PTHREAD_COND_INITIALIZER };

static int put_one(DB_TXN *txn, const struct pending *p)
{
	char text[64];
	DBT key = { .data = (void *)p->user, .size = (u_int32_t)strlen(p->user) };
	DBT val = { .data = text };

	val.size = (u_int32_t)snprintf(text, sizeof(text), "%" PRId64 " %u %zu",
				       (int64_t)p->start, p->messages, p->rcpts);
	return store.db->put(store.db, txn, &key, &val, 0);
}

/* One transaction for every count queued meanwhile.  WRITE_NOSYNC: the
 * commit reaches the log file (a killed server loses nothing), not the
 * disk (a power cut may lose the last counts; a limit, not mail). */
static void write_batch(struct pending *list)
{
	unsigned int attempt = 0;
	DB_TXN *txn;
	int ret;

	do {
		txn = NULL;
		ret = store.env->txn_begin(store.env, NULL, &txn,
					   DB_TXN_WRITE_NOSYNC | DB_TXN_NOWAIT);
		for (const struct pending *p = list; ret == 0 && p != NULL; p = p->next)
			ret = put_one(txn, p);
		if (ret == 0)
			ret = txn->commit(txn, 0);
		else if (txn != NULL)
			txn->abort(txn);
	} while (ret != 0 && dbenv_retry(store.env, ret, &attempt));
	if (ret != 0)
		log_msg("smtp", NULL, "%s: cannot keep sending counts: %s",
			RATE_FILE, db_strerror(ret));
}

static void *writer_main(void *arg)
{
	struct pending *list;
	bool stop;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&store.lock);
		while (store.head == NULL && !store.stop)
			pthread_cond_wait(&store.wake, &store.lock);
		list = store.head;
		store.head = NULL;
		store.tail = &store.head;
		stop = store.stop;
		pthread_mutex_unlock(&store.lock);
		if (list != NULL)
			write_batch(list);
		while (list != NULL) {
			struct pending *p = list;

			list = p->next;
			free(p);
		}
		if (stop)
			return NULL;
	}
}

void rate_store_put(const char *user, time_t start, unsigned int messages,
		    size_t rcpts)
{
	size_t len = strlen(user);
	struct pending *p;

	if (!store.open)
		return;
	p = xmalloc(sizeof(*p) + len + 1);
	memcpy(p->user, user, len + 1);
	p->start = start;
	p->messages = messages;
	p->rcpts = rcpts;
	p->next = NULL;
	pthread_mutex_lock(&store.lock);
	*store.tail = p;
	store.tail = &p->next;
	pthread_cond_signal(&store.wake);
	pthread_mutex_unlock(&store.lock);
}

/* Parses a stored record; false for anything malformed. */
static bool parse_record(const DBT *val, time_t *start, unsigned int *messages,
			 size_t *rcpts)
{
	char text[64];
	long long s;
	unsigned long long r;

	if (val->size == 0 || val->size >= sizeof(text))
		return false;
	memcpy(text, val->data, val->size);
	text[val->size] = '\0';
	if (sscanf(text, "%lld %u %llu", &s, messages, &r) != 3 || s <= 0 ||
	    r > SIZE_MAX)
		return false;
	*start = (time_t)s;
	*rcpts = (size_t)r;
	return true;
}

/* Takes every count whose hour is still open at now into the table and
 * removes the others. */
static int load(time_t now, char *err_r, size_t errlen)
{
	DB_TXN *txn = NULL;
	DBC *cur = NULL;
	DBT key = { .flags = DB_DBT_REALLOC }, val = { .flags = DB_DBT_REALLOC };
	size_t loaded = 0, dropped = 0;
	int ret;

	ret = store.env->txn_begin(store.env, NULL, &txn, 0);
	if (ret == 0)
		ret = store.db->cursor(store.db, txn, &cur, 0);
	while (ret == 0 && (ret = cur->get(cur, &key, &val, DB_NEXT)) == 0) {
		char user[RATE_USER_MAX + 1];
		time_t start;
		unsigned int messages;
		size_t rcpts;

		if (key.size > 0 && key.size <= RATE_USER_MAX &&
		    parse_record(&val, &start, &messages, &rcpts) &&
		    start <= now && now - start < RATE_WINDOW) {
			memcpy(user, key.data, key.size);
			user[key.size] = '\0';
			rate_restore(user, start, messages, rcpts, now);
			loaded++;
		} else {
			ret = cur->del(cur, 0);
			dropped++;
		}
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
	if (cur != NULL)
		cur->close(cur);
	if (txn != NULL)
		ret = ret == 0 ? txn->commit(txn, 0) : (txn->abort(txn), ret);
	free(key.data);
	free(val.data);
	if (ret != 0) {
		snprintf(err_r, errlen, "%s: %s", RATE_FILE, db_strerror(ret));
		return -1;
	}
	if (loaded > 0 || dropped > 0)
		log_msg("smtp", NULL, "sending counts: %zu user(s) still in their "
			"hour, %zu expired record(s) removed", loaded, dropped);
	return 0;
}

int rate_store_open(const char *dir, time_t now, char *err_r, size_t errlen)
{
	if (store.open)
		return 0;
	if ((store.env = dbenv_open(dir, err_r, errlen)) == NULL)
		return -1;
	store.db = dbenv_open_btree(store.env, RATE_FILE, err_r, errlen);
	if (store.db == NULL || load(now, err_r, errlen) < 0)
		goto fail;
	store.head = NULL;
	store.tail = &store.head;
	store.stop = false;
	if (pthread_create(&store.thread, NULL, writer_main, NULL) != 0) {
		snprintf(err_r, errlen, "%s: cannot start its writer thread", RATE_FILE);
		goto fail;
	}
	store.open = true;
	return 0;
fail:
	if (store.db != NULL)
		store.db->close(store.db, 0);
	store.db = NULL;
	dbenv_close(&store.env);
	return -1;
}

void rate_store_close(void)
{
	if (!store.open)
		return;
	pthread_mutex_lock(&store.lock);
	store.stop = true;
	pthread_cond_signal(&store.wake);
	pthread_mutex_unlock(&store.lock);
	pthread_join(store.thread, NULL);
	store.open = false;
	store.db->close(store.db, 0);
	store.db = NULL;
	dbenv_close(&store.env);
}
