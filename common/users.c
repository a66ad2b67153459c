#include <crypt.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "common/dbenv.h"
#include "common/quota.h"
#include "common/users.h"
#include "common/verify-cache.h"
#include "common/xalloc.h"

#define USERS_FILE	"users.db"
#define RECORD_VERSION	"v=1"
#define HASH_FIELD	"hash="
#define HASH_PREFIX	"$y$"	/* yescrypt */
#define APOP_FIELD	"apop="		/* hex of the password (APOP) */
#define POP3_LOGIN_FIELD "pop3_login="	/* seconds since the epoch */
#define QUOTA_FIELD	"quota="	/* storage bytes,messages */
#define MD5_DIGEST_LEN	16
/* yescrypt hashes computed at once, at most (and at most one per
 * processor; see hash_gate_enter) */
#define HASH_PARALLEL_MAX 4

struct userdb {
	DB_ENV *env;
	DB *users;
	char *path;		/* DIR/db/users.db, for messages */
	/* a yescrypt setting with the cost of real hashes: unknown users
	 * are "verified" against it so they cost the same time */
	char dummy_setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct verify_cache *verified;	/* NULL: none */
};

bool user_name_valid(const char *name)
{
	size_t i;
	char c;

	if (name[0] == '\0' || name[0] == '.' || name[0] == '-')
		return false;
	for (i = 0; (c = name[i]) != '\0'; i++) {
		if (i >= USER_NAME_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* A fresh yescrypt setting ("$y$j9T$salt") with 16 bytes from the kernel's
 * RNG.  0 / -1. */
static int new_setting(char *out, size_t outlen)
{
	unsigned char rnd[16];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(rnd)) {
		n = getrandom(rnd + got, sizeof(rnd) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	if (crypt_gensalt_rn(HASH_PREFIX, 0, (const char *)rnd, sizeof(rnd),
			     out, (int)outlen) == NULL)
		return -1;
	return 0;
}

/* A yescrypt hash holds 16 MiB ($y$j9T: N = 4096, r = 32) for its whole
 * run and is bound by the processor, so hashes beyond one per processor
 * only add memory: 20 submission sessions logging in at once held 130 MB
 * for a moment (bench/relay.sh's VmHWM).  A caller waits here for a
 * turn. */
static pthread_mutex_t hash_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hash_turn = PTHREAD_COND_INITIALIZER;
static unsigned int hash_running;

static unsigned int hash_parallel(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > HASH_PARALLEL_MAX ? HASH_PARALLEL_MAX :
		(unsigned int)n;
}

static void hash_gate_enter(void)
{
	unsigned int max = hash_parallel();

	pthread_mutex_lock(&hash_lock);
	while (hash_running >= max)
		pthread_cond_wait(&hash_turn, &hash_lock);
	hash_running++;
	pthread_mutex_unlock(&hash_lock);
}

static void hash_gate_leave(void)
{
	pthread_mutex_lock(&hash_lock);
	hash_running--;
	pthread_cond_signal(&hash_turn);
	pthread_mutex_unlock(&hash_lock);
}

/* Hashes `password` with `setting` into out (CRYPT_OUTPUT_SIZE bytes).
 * 0 / -1 (bad setting, or a password libxcrypt refuses). */
static int hash_with(const char *password, const char *setting, char *out)
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *h;
	int ret = -1;

	h = crypt_rn(password, setting, cd, (int)sizeof(*cd));
	if (h != NULL && h[0] != '*') {
		snprintf(out, CRYPT_OUTPUT_SIZE, "%s", h);
		ret = 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ret;
}

static int check_password(const char *password, char *err_r, size_t errlen)
{
	size_t len = strlen(password);

	if (len == 0) {
		snprintf(err_r, errlen, "empty password");
		return -1;
	}
	if (len > USER_PASSWORD_MAX) {
		snprintf(err_r, errlen, "password longer than %d bytes",
			 USER_PASSWORD_MAX);
		return -1;
	}
	return 0;
}

static int new_hash(const char *password, char *out, char *err_r,
		    size_t errlen)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	int ret;

	if (check_password(password, err_r, errlen) < 0)
		return -1;
	if (new_setting(setting, sizeof(setting)) < 0)
		goto fail;
	hash_gate_enter();
	ret = hash_with(password, setting, out);
	hash_gate_leave();
	if (ret == 0)
		return 0;
fail:
	snprintf(err_r, errlen, "password hashing failed: %s", strerror(errno));
	return -1;
}

/* Equal strings, in time that depends on the lengths only. */
static bool equal_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	volatile unsigned char diff = la != lb;

	for (i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return diff == 0;
}

/* --- records --- */

/* The value of field `key` ("hash=") in a record, copied into out, or -1
 * when absent or too long. */
static int record_field(const char *rec, size_t len, const char *key,
			char *out, size_t outlen)
{
	size_t klen = strlen(key), i = 0, flen;

	while (i < len) {
		flen = strnlen(rec + i, len - i);
		if (flen > klen && memcmp(rec + i, key, klen) == 0) {
			if (flen - klen >= outlen)
				return -1;
			memcpy(out, rec + i + klen, flen - klen);
			out[flen - klen] = '\0';
			return 0;
		}
		i += flen + 1;
	}
	return -1;
}

/* Whether field f (flen bytes, not NUL-ended) is `key` ("hash=").  */
static bool field_is(const char *f, size_t flen, const char *key)
{
	size_t klen = strlen(key);

	return flen >= klen && memcmp(f, key, klen) == 0;
}

/* Appends every field of `old` (may be NULL) but the version, `key1` and
 * `key2` (either may be NULL). */
static void record_keep(struct buf *rec, const char *old, size_t oldlen,
			const char *key1, const char *key2)
{
	size_t i = 0, flen;

	while (old != NULL && i < oldlen) {
		flen = strnlen(old + i, oldlen - i);
		if (flen > 0 &&
		    !(flen == strlen(RECORD_VERSION) &&
		      memcmp(old + i, RECORD_VERSION, flen) == 0) &&
		    !(key1 != NULL && field_is(old + i, flen, key1)) &&
		    !(key2 != NULL && field_is(old + i, flen, key2))) {
			buf_append(rec, old + i, flen);
			buf_putc(rec, '\0');
		}
		i += flen + 1;
	}
}

/* A record with `hash`, keeping every other field of `old` (may be NULL)
 * except the APOP secret, which belongs to the old password. */
static void record_build(struct buf *rec, const char *hash, const char *old,
			 size_t oldlen)
{
	buf_append(rec, RECORD_VERSION, sizeof(RECORD_VERSION));
	buf_puts(rec, HASH_FIELD);
	buf_append(rec, hash, strlen(hash) + 1);
	record_keep(rec, old, oldlen, HASH_FIELD, APOP_FIELD);
}

static void set_key(DBT *key, const char *name)
{
	memset(key, 0, sizeof(*key));
	key->data = (void *)name;
	key->size = (u_int32_t)strlen(name);
}

/* --- transactions --- */

typedef int txn_fn(struct userdb *db, DB_TXN *txn, void *ctx);

/* Runs fn in a transaction that never waits for a lock: when one is taken,
 * the attempt is undone and retried a little later (dbenv_retry), so that a
 * lock left by a dead process cannot block us.  Returns fn's or the
 * commit's Berkeley DB code (0 committed). */
static int with_txn(struct userdb *db, txn_fn *fn, void *ctx)
{
	unsigned int attempt = 0;
	DB_TXN *txn;
	int ret;

	do {
		ret = db->env->txn_begin(db->env, NULL, &txn, DB_TXN_NOWAIT);
		if (ret != 0)
			return ret;
		ret = fn(db, txn, ctx);
		if (ret == 0)
			ret = txn->commit(txn, 0);
		else
			txn->abort(txn);
	} while (dbenv_retry(db->env, ret, &attempt));
	return ret;
}

struct put_ctx {
	const char *name;
	const char *hash;
};

static int txn_add(struct userdb *db, DB_TXN *txn, void *arg)
{
	struct put_ctx *ctx = arg;
	struct buf rec = BUF_INIT(BUF_UNLIMITED);
	DBT key, data;
	int ret;

	record_build(&rec, ctx->hash, NULL, 0);
	set_key(&key, ctx->name);
	memset(&data, 0, sizeof(data));
	data.data = rec.data;
	data.size = (u_int32_t)rec.len;
	ret = db->users->put(db->users, txn, &key, &data, DB_NOOVERWRITE);
	buf_free(&rec);
	return ret;
}

static int txn_passwd(struct userdb *db, DB_TXN *txn, void *arg)
{
	struct put_ctx *ctx = arg;
	struct buf rec = BUF_INIT(BUF_UNLIMITED);
	DBT key, data;
	int ret;

	set_key(&key, ctx->name);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	ret = db->users->get(db->users, txn, &key, &data, DB_RMW);
	if (ret != 0)
		return ret;
	record_build(&rec, ctx->hash, data.data, data.size);
	free(data.data);
	memset(&data, 0, sizeof(data));
	data.data = rec.data;
	data.size = (u_int32_t)rec.len;
	ret = db->users->put(db->users, txn, &key, &data, 0);
	buf_free(&rec);
	return ret;
}

static int txn_del(struct userdb *db, DB_TXN *txn, void *arg)
{
	DBT key;

	set_key(&key, arg);
	return db->users->del(db->users, txn, &key, 0);
}

/* --- the API --- */

struct userdb *userdb_open(const char *dir, char *err_r, size_t errlen)
{
	struct userdb *db = xcalloc(1, sizeof(*db));
	struct buf path = BUF_INIT(BUF_UNLIMITED);

	buf_printf(&path, "%s/db/%s", dir, USERS_FILE);
	db->path = buf_steal(&path);
	db->verified = verify_cache_new();
	if (new_setting(db->dummy_setting, sizeof(db->dummy_setting)) < 0) {
		snprintf(err_r, errlen, "crypt_gensalt(yescrypt): %s",
			 strerror(errno));
		goto fail;
	}
	if ((db->env = dbenv_open(dir, err_r, errlen)) == NULL)
		goto fail;
	if ((db->users = dbenv_open_btree(db->env, USERS_FILE, err_r,
					  errlen)) == NULL)
		goto fail;
	return db;
fail:
	userdb_close(&db);
	return NULL;
}

void userdb_close(struct userdb **dbp)
{
	struct userdb *db = *dbp;

	if (db == NULL)
		return;
	if (db->users != NULL)
		db->users->close(db->users, 0);
	dbenv_close(&db->env);
	verify_cache_free(&db->verified);
	free(db->path);
	free(db);
	*dbp = NULL;
}

DB_ENV *userdb_env(struct userdb *db)
{
	return db->env;
}

static void db_failed(struct userdb *db, const char *what, int ret,
		      char *err_r, size_t errlen)
{
	snprintf(err_r, errlen, "%s: %s: %s", db->path, what,
		 db_strerror(ret));
}

/* Hashes password and stores it for name with fn; `refused` is the code
 * with which fn declines (user exists / no such user), told with
 * refused_fmt and the name. */
static int put_hash(struct userdb *db, const char *name, const char *password,
		    txn_fn *fn, int refused, const char *refused_fmt,
		    char *err_r, size_t errlen)
{
	char hash[CRYPT_OUTPUT_SIZE];
	struct put_ctx ctx = { name, hash };
	int ret;

	if (new_hash(password, hash, err_r, errlen) < 0)
		return -1;
	ret = with_txn(db, fn, &ctx);
	if (ret == refused) {
		snprintf(err_r, errlen, refused_fmt, name);
		return -1;
	}
	if (ret != 0) {
		db_failed(db, "put", ret, err_r, errlen);
		return -1;
	}
	return 0;
}

int userdb_add(struct userdb *db, const char *name, const char *password,
	       char *err_r, size_t errlen)
{
	int ret;

	if (!user_name_valid(name)) {
		snprintf(err_r, errlen, "invalid user name (1-%d of a-z 0-9 "
			 ". _ -, not starting with . or -)", USER_NAME_MAX);
		return -1;
	}
	/* cheap check first, so a duplicate does not cost a hash */
	if ((ret = userdb_exists(db, name)) != 0) {
		if (ret > 0)
			snprintf(err_r, errlen, "user %s exists", name);
		else
			snprintf(err_r, errlen, "%s: read failed", db->path);
		return -1;
	}
	return put_hash(db, name, password, txn_add, DB_KEYEXIST,
			"user %s exists", err_r, errlen);
}

int userdb_passwd(struct userdb *db, const char *name, const char *password,
		  char *err_r, size_t errlen)
{
	if (!user_name_valid(name)) {
		snprintf(err_r, errlen, "no such user: %s", name);
		return -1;
	}
	return put_hash(db, name, password, txn_passwd, DB_NOTFOUND,
			"no such user: %s", err_r, errlen);
}

int userdb_del(struct userdb *db, const char *name, char *err_r,
	       size_t errlen)
{
	int ret;

	if (!user_name_valid(name)) {
		snprintf(err_r, errlen, "no such user: %s", name);
		return -1;
	}
	ret = with_txn(db, txn_del, (void *)name);
	if (ret == DB_NOTFOUND) {
		snprintf(err_r, errlen, "no such user: %s", name);
		return -1;
	}
	if (ret != 0) {
		db_failed(db, "del", ret, err_r, errlen);
		return -1;
	}
	return 0;
}

static int txn_exists(struct userdb *db, DB_TXN *txn, void *arg)
{
	DBT key;

	set_key(&key, arg);
	return db->users->exists(db->users, txn, &key, 0);
}

int userdb_exists(struct userdb *db, const char *name)
{
	int ret;

	if (!user_name_valid(name))
		return 0;
	ret = with_txn(db, txn_exists, (void *)name);
	if (ret == 0)
		return 1;
	return ret == DB_NOTFOUND ? 0 : -1;
}

struct get_ctx {
	const char *name;
	DBT data;		/* the record, malloc'd */
};

static int txn_get(struct userdb *db, DB_TXN *txn, void *arg)
{
	struct get_ctx *ctx = arg;
	DBT key;

	set_key(&key, ctx->name);
	free(ctx->data.data);
	memset(&ctx->data, 0, sizeof(ctx->data));
	ctx->data.flags = DB_DBT_MALLOC;
	return db->users->get(db->users, txn, &key, &ctx->data, 0);
}

/* The stored hash of `name` into out: 1 found, 0 no such user, -1 error. */
static int stored_hash(struct userdb *db, const char *name, char *out,
		       size_t outlen)
{
	struct get_ctx ctx;
	int ret, found;

	if (!user_name_valid(name))
		return 0;
	memset(&ctx, 0, sizeof(ctx));
	ctx.name = name;
	ret = with_txn(db, txn_get, &ctx);
	if (ret == 0)
		found = record_field(ctx.data.data, ctx.data.size, HASH_FIELD,
				     out, outlen) == 0 ? 1 : -1;
	else
		found = ret == DB_NOTFOUND ? 0 : -1;
	free(ctx.data.data);
	return found;
}

int userdb_verify(struct userdb *db, const char *name, const char *password)
{
	char stored[CRYPT_OUTPUT_SIZE], computed[CRYPT_OUTPUT_SIZE];
	const char *setting;
	bool cacheable;
	int found, ok, hashed;

	found = stored_hash(db, name, stored, sizeof(stored));
	setting = found == 1 ? stored : db->dummy_setting;
	/* An over-long password is hashed as "" so it costs the same. */
	cacheable = found == 1;
	if (strlen(password) > USER_PASSWORD_MAX) {
		password = "";
		cacheable = false;
	}
	if (cacheable && verify_cache_hit(db->verified, name, stored, password))
		return 1;
	hash_gate_enter();
	/* Sessions that log in at once with the same password (a client's
	 * parallel connections) wait for the first one's hash, then find it
	 * in the cache instead of hashing again. */
	if (cacheable && verify_cache_hit(db->verified, name, stored, password)) {
		hash_gate_leave();
		return 1;
	}
	hashed = hash_with(password, setting, computed);
	hash_gate_leave();
	if (hashed < 0)
		return found == 1 ? -1 : found;
	ok = equal_ct(computed, setting);
	explicit_bzero(computed, sizeof(computed));
	if (found != 1)
		return found;
	if (ok)
		verify_cache_add(db->verified, name, stored, password);
	return ok ? 1 : 0;
}

struct name_list {
	char **names;
	size_t n, cap;
};

static void name_list_free(struct name_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		free(list->names[i]);
	free(list->names);
	memset(list, 0, sizeof(*list));
}

static int txn_collect(struct userdb *db, DB_TXN *txn, void *arg)
{
	struct name_list *list = arg;
	DBC *cur;
	DBT key, data;
	int ret;

	name_list_free(list);	/* a retried transaction starts over */
	if ((ret = db->users->cursor(db->users, txn, &cur, 0)) != 0)
		return ret;
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	/* the data is not needed: read none of it */
	data.flags = DB_DBT_PARTIAL;
	while ((ret = cur->get(cur, &key, &data, DB_NEXT)) == 0) {
		if (list->n == list->cap) {
			list->cap = list->cap ? list->cap * 2 : 16;
			list->names = xreallocarray(list->names, list->cap,
						    sizeof(*list->names));
		}
		list->names[list->n++] = xstrndup(key.data, key.size);
	}
	cur->close(cur);
	return ret == DB_NOTFOUND ? 0 : ret;
}

int userdb_list(struct userdb *db, void (*each)(const char *name, void *arg),
		void *arg)
{
	struct name_list list = { NULL, 0, 0 };
	size_t i;

	if (with_txn(db, txn_collect, &list) != 0) {
		name_list_free(&list);
		return -1;
	}
	/* called outside the transaction, so `each` may use db */
	for (i = 0; i < list.n; i++)
		each(list.names[i], arg);
	name_list_free(&list);
	return 0;
}

/* --- extra fields: POP3 login time, APOP secret --- */

struct field_ctx {
	const char *name;
	const char *key;	/* "pop3_login=" */
	const char *value;	/* NUL-ended; NULL removes the field */
};

/* Replaces (or adds) one field of an existing record, keeping the rest. */
static int txn_set_field(struct userdb *db, DB_TXN *txn, void *arg)
{
	struct field_ctx *ctx = arg;
	struct buf rec = BUF_INIT(BUF_UNLIMITED);
	DBT key, data;
	int ret;

	set_key(&key, ctx->name);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	ret = db->users->get(db->users, txn, &key, &data, DB_RMW);
	if (ret != 0)
		return ret;
	buf_append(&rec, RECORD_VERSION, sizeof(RECORD_VERSION));
	record_keep(&rec, data.data, data.size, ctx->key, NULL);
	if (ctx->value != NULL) {	/* NULL: the field is removed */
		buf_puts(&rec, ctx->key);
		buf_append(&rec, ctx->value, strlen(ctx->value) + 1);
	}
	explicit_bzero(data.data, data.size);
	free(data.data);
	memset(&data, 0, sizeof(data));
	data.data = rec.data;
	data.size = (u_int32_t)rec.len;
	ret = db->users->put(db->users, txn, &key, &data, 0);
	explicit_bzero(rec.data, rec.cap);
	buf_free(&rec);
	return ret;
}

static int set_field(struct userdb *db, const char *name, const char *fkey,
		     const char *value, char *err_r, size_t errlen)
{
	struct field_ctx ctx = { name, fkey, value };
	int ret;

	if (!user_name_valid(name)) {
		snprintf(err_r, errlen, "no such user: %s", name);
		return -1;
	}
	ret = with_txn(db, txn_set_field, &ctx);
	if (ret == DB_NOTFOUND) {
		snprintf(err_r, errlen, "no such user: %s", name);
		return -1;
	}
	if (ret != 0) {
		db_failed(db, "put", ret, err_r, errlen);
		return -1;
	}
	return 0;
}

/* Field `fkey` of user `name` into out: 1 found, 0 no such user or no such
 * field, -1 database error or a value longer than outlen - 1. */
static int get_field(struct userdb *db, const char *name, const char *fkey,
		     char *out, size_t outlen)
{
	struct get_ctx ctx;
	int ret, found;

	if (!user_name_valid(name))
		return 0;
	memset(&ctx, 0, sizeof(ctx));
	ctx.name = name;
	ret = with_txn(db, txn_get, &ctx);
	if (ret == 0) {
		found = record_field(ctx.data.data, ctx.data.size, fkey, out,
				     outlen) == 0 ? 1 : 0;
		explicit_bzero(ctx.data.data, ctx.data.size);
	} else {
		found = ret == DB_NOTFOUND ? 0 : -1;
	}
	free(ctx.data.data);
	return found;
}

int userdb_pop3_last_login(struct userdb *db, const char *name,
			   int64_t *when_r)
{
	char value[32], *end;
	long long when;
	int found = get_field(db, name, POP3_LOGIN_FIELD, value,
			      sizeof(value));

	*when_r = 0;
	if (found <= 0)
		return found;
	errno = 0;
	when = strtoll(value, &end, 10);
	if (errno != 0 || *end != '\0' || end == value)
		return 0;	/* unreadable: as if never */
	*when_r = when;
	return 1;
}

int userdb_set_pop3_last_login(struct userdb *db, const char *name,
			       int64_t when, char *err_r, size_t errlen)
{
	char value[32];

	snprintf(value, sizeof(value), "%" PRId64, when);
	return set_field(db, name, POP3_LOGIN_FIELD, value, err_r, errlen);
}

int userdb_quota(struct userdb *db, const char *name, struct user_quota *q_r)
{
	char value[64], *end;
	unsigned long long storage, messages;
	int found;

	memset(q_r, 0, sizeof(*q_r));
	found = get_field(db, name, QUOTA_FIELD, value, sizeof(value));
	if (found == 0)
		return userdb_exists(db, name);
	if (found < 0)
		return -1;
	errno = 0;
	storage = strtoull(value, &end, 10);
	if (errno != 0 || *end != ',' || value[0] == '-')
		return 1;	/* unreadable: no limit */
	messages = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end[-1] == ',')
		return 1;
	q_r->storage = storage;
	q_r->messages = messages;
	return 1;
}

int userdb_set_quota(struct userdb *db, const char *name,
		     const struct user_quota *q, char *err_r, size_t errlen)
{
	char value[64];

	snprintf(value, sizeof(value), "%" PRIu64 ",%" PRIu64, q->storage,
		 q->messages);
	return set_field(db, name, QUOTA_FIELD,
			 q->storage == 0 && q->messages == 0 ? NULL : value,
			 err_r, errlen);
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes 2 * n hex digits (exactly) into out[n]: 0 / -1. */
static int from_hex(const char *hex, unsigned char *out, size_t n)
{
	if (strlen(hex) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int userdb_set_apop_secret(struct userdb *db, const char *name,
			   const char *password, char *err_r, size_t errlen)
{
	char hex[2 * USER_PASSWORD_MAX + 1];
	int ret;

	if (check_password(password, err_r, errlen) < 0)
		return -1;
	to_hex((const unsigned char *)password, strlen(password), hex);
	ret = set_field(db, name, APOP_FIELD, hex, err_r, errlen);
	explicit_bzero(hex, sizeof(hex));
	return ret;
}

int userdb_apop_verify(struct userdb *db, const char *name,
		       const char *timestamp, const char *digest_hex)
{
	char hex[2 * USER_PASSWORD_MAX + 1];
	unsigned char secret[USER_PASSWORD_MAX], want[EVP_MAX_MD_SIZE];
	unsigned char got[MD5_DIGEST_LEN];
	unsigned int want_len = 0;
	size_t slen;
	EVP_MD_CTX *md;
	int found, ok;

	found = get_field(db, name, APOP_FIELD, hex, sizeof(hex));
	if (found <= 0)
		return found;
	slen = strlen(hex) / 2;
	ok = from_hex(hex, secret, slen) == 0;
	explicit_bzero(hex, sizeof(hex));
	/* RFC 1939 7: MD5 of the timestamp (brackets included) followed by
	 * the secret. */
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1 ||
	    EVP_DigestUpdate(md, timestamp, strlen(timestamp)) != 1 ||
	    EVP_DigestUpdate(md, secret, slen) != 1 ||
	    EVP_DigestFinal_ex(md, want, &want_len) != 1 ||
	    want_len != MD5_DIGEST_LEN)
		ok = -1;
	EVP_MD_CTX_free(md);
	explicit_bzero(secret, sizeof(secret));
	if (ok < 0)
		return -1;
	if (from_hex(digest_hex, got, sizeof(got)) < 0)
		ok = 0;
	else if (CRYPTO_memcmp(got, want, sizeof(got)) != 0)
		ok = 0;
	explicit_bzero(want, sizeof(want));
	return ok ? 1 : 0;
}
