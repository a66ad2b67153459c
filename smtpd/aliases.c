/* The alias table in Berkeley DB and its expansion (fan-out, loops). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/dbenv.h"
#include "common/xalloc.h"
#include "smtpd/aliases.h"

#define ALIASES_FILE "aliases.db"

struct alias_db {
	DB_ENV *env;
	DB *db;
};

struct alias_db *alias_db_open(DB_ENV *env, char *err_r, size_t errlen)
{
	struct alias_db *a;
	DB *db;

	if ((db = dbenv_open_btree(env, ALIASES_FILE, err_r, errlen)) == NULL)
		return NULL;
	a = xcalloc(1, sizeof(*a));
	a->env = env;
	a->db = db;
	return a;
}

void alias_db_close(struct alias_db **dbp)
{
	struct alias_db *a = *dbp;

	if (a == NULL)
		return;
	a->db->close(a->db, 0);
	free(a);
	*dbp = NULL;
}

bool alias_name_valid(const char *name)
{
	size_t i;
	char c;

	if (name[0] == '\0' || name[0] == '.' || name[0] == '-')
		return false;
	for (i = 0; (c = name[i]) != '\0'; i++) {
		if (i >= 64)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '+'))
			return false;
	}
	return true;
}

/* name lowercased into out (of 65 bytes); false if invalid. */
static bool normalize(const char *name, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++) {
		if (i + 1 >= outlen)
			return false;
		out[i] = (char)tolower((unsigned char)name[i]);
	}
	out[i] = '\0';
	return alias_name_valid(out);
}

static void set_key(DBT *key, const char *name)
{
	memset(key, 0, sizeof(*key));
	key->data = (void *)name;
	key->size = (u_int32_t)strlen(name);
}

typedef int txn_fn(struct alias_db *a, DB_TXN *txn, void *ctx);

/* Runs fn in a transaction that never waits for a lock (as users.c does):
 * a lock left by a dead process cannot block the server's loop.  Returns
 * fn's or the commit's Berkeley DB code. */
static int with_txn(struct alias_db *a, txn_fn *fn, void *ctx)
{
	unsigned int attempt = 0;
	DB_TXN *txn;
	int ret;

	do {
		ret = a->env->txn_begin(a->env, NULL, &txn, DB_TXN_NOWAIT);
		if (ret != 0)
			return ret;
		ret = fn(a, txn, ctx);
		if (ret == 0)
			ret = txn->commit(txn, 0);
		else
			txn->abort(txn);
	} while (dbenv_retry(a->env, ret, &attempt));
	return ret;
}

struct rec {
	const char *name;
	const char *targets;	/* put */
	char *found;		/* get: malloc'd */
};

static int txn_get(struct alias_db *a, DB_TXN *txn, void *arg)
{
	struct rec *r = arg;
	DBT key, data;
	int ret;

	set_key(&key, r->name);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	ret = a->db->get(a->db, txn, &key, &data, 0);
	if (ret == 0) {
		free(r->found);
		r->found = xstrndup(data.data, data.size);
		free(data.data);
	}
	return ret;
}

static int txn_put(struct alias_db *a, DB_TXN *txn, void *arg)
{
	struct rec *r = arg;
	DBT key, data;

	set_key(&key, r->name);
	memset(&data, 0, sizeof(data));
	data.data = (void *)r->targets;
	data.size = (u_int32_t)strlen(r->targets);
	return a->db->put(a->db, txn, &key, &data, 0);
}

static int txn_del(struct alias_db *a, DB_TXN *txn, void *arg)
{
	struct rec *r = arg;
	DBT key;

	set_key(&key, r->name);
	return a->db->del(a->db, txn, &key, 0);
}

int alias_get(struct alias_db *a, const char *name, char **targets_r)
{
	char norm[65];
	struct rec r = { norm, NULL, NULL };
	int ret;

	if (!normalize(name, norm, sizeof(norm)))
		return 0;
	ret = with_txn(a, txn_get, &r);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0) {
		free(r.found);
		return -1;
	}
	*targets_r = r.found;
	return 1;
}

int alias_put(struct alias_db *a, const char *name, const char *targets,
	      char *err_r, size_t errlen)
{
	char norm[65];
	struct rec r = { norm, targets, NULL };
	int ret;

	if (!normalize(name, norm, sizeof(norm))) {
		snprintf(err_r, errlen, "invalid alias name: %s", name);
		return -1;
	}
	if (strlen(targets) > ALIAS_RECORD_MAX) {
		snprintf(err_r, errlen, "target list longer than %d bytes",
			 ALIAS_RECORD_MAX);
		return -1;
	}
	if ((ret = with_txn(a, txn_put, &r)) != 0) {
		snprintf(err_r, errlen, "aliases.db: put: %s", db_strerror(ret));
		return -1;
	}
	return 0;
}

int alias_del(struct alias_db *a, const char *name, char *err_r,
	      size_t errlen)
{
	char norm[65];
	struct rec r = { norm, NULL, NULL };
	int ret;

	if (!normalize(name, norm, sizeof(norm))) {
		snprintf(err_r, errlen, "no such alias: %s", name);
		return -1;
	}
	ret = with_txn(a, txn_del, &r);
	if (ret == DB_NOTFOUND) {
		snprintf(err_r, errlen, "no such alias: %s", name);
		return -1;
	}
	if (ret != 0) {
		snprintf(err_r, errlen, "aliases.db: del: %s", db_strerror(ret));
		return -1;
	}
	return 0;
}

/* Reads every record into `all` as name NUL targets NUL pairs. */
static int txn_collect(struct alias_db *a, DB_TXN *txn, void *arg)
{
	struct buf *all = arg;
	DBC *cur;
	DBT key, data;
	int ret;

	buf_clear(all);		/* a retried transaction starts over */
	if ((ret = a->db->cursor(a->db, txn, &cur, 0)) != 0)
		return ret;
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	while ((ret = cur->get(cur, &key, &data, DB_NEXT)) == 0) {
		buf_append(all, key.data, key.size);
		buf_putc(all, '\0');
		buf_append(all, data.data, data.size);
		buf_putc(all, '\0');
	}
	cur->close(cur);
	return ret == DB_NOTFOUND ? 0 : ret;
}

int alias_list(struct alias_db *a,
	       void (*each)(const char *name, const char *targets, void *arg),
	       void *arg)
{
	struct buf all = BUF_INIT(BUF_UNLIMITED);
	size_t pos = 0;

	if (with_txn(a, txn_collect, &all) != 0) {
		buf_free(&all);
		return -1;
	}
	while (pos < all.len) {
		const char *name = all.data + pos;
		const char *targets = name + strlen(name) + 1;

		each(name, targets, arg);
		pos = (size_t)(targets - all.data) + strlen(targets) + 1;
	}
	buf_free(&all);
	return 0;
}

/* --- expansion --- */

static bool list_has(char **list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(list[i], s) == 0)
			return true;
	}
	return false;
}

static void list_add(char ***list, size_t *n, size_t *cap, const char *s)
{
	if (list_has(*list, *n, s))
		return;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		*list = xreallocarray(*list, *cap, sizeof(**list));
	}
	(*list)[(*n)++] = xstrdup(s);
}

static void list_free(char ***list, size_t *n, size_t *cap)
{
	for (size_t i = 0; i < *n; i++)
		free((*list)[i]);
	free(*list);
	*list = NULL;
	*n = *cap = 0;
}

void alias_expansion_free(struct alias_expansion *exp)
{
	list_free(&exp->users, &exp->n_users, &exp->cap_users);
	list_free(&exp->remote, &exp->n_remote, &exp->cap_remote);
	list_free(&exp->missing, &exp->n_missing, &exp->cap_missing);
	exp->loop = exp->too_many = false;
}

struct expand_ctx {
	struct alias_db *db;
	const struct alias_resolver *res;
	struct alias_expansion *exp;
	const char *stack[ALIAS_MAX_DEPTH];	/* the aliases on this branch */
	size_t depth;
	bool failed;				/* a database error */
};

static void expand_name(struct expand_ctx *ctx, const char *name);

/* One target: a name, or an address. */
static void expand_target(struct expand_ctx *ctx, const char *target)
{
	struct alias_expansion *exp = ctx->exp;
	const char *at = strrchr(target, '@');
	char local[65];
	size_t len;

	if (at == NULL) {
		expand_name(ctx, target);
		return;
	}
	len = (size_t)(at - target);
	if (!ctx->res->is_local(ctx->res->arg, at + 1) || len == 0 ||
	    len >= sizeof(local)) {
		list_add(&exp->remote, &exp->n_remote, &exp->cap_remote, target);
		return;
	}
	memcpy(local, target, len);
	local[len] = '\0';
	expand_name(ctx, local);
}

static void expand_alias(struct expand_ctx *ctx, const char *name,
			 char *targets)
{
	char *p = targets, *comma;

	if (ctx->depth == ALIAS_MAX_DEPTH) {
		ctx->exp->too_many = true;
		return;
	}
	ctx->stack[ctx->depth++] = name;
	for (;;) {
		comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		if (*p != '\0')
			expand_target(ctx, p);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	ctx->depth--;
}

static void expand_name(struct expand_ctx *ctx, const char *name)
{
	struct alias_expansion *exp = ctx->exp;
	char norm[65], *targets = NULL;
	int ret;

	if (!normalize(name, norm, sizeof(norm))) {
		list_add(&exp->missing, &exp->n_missing, &exp->cap_missing, name);
		return;
	}
	for (size_t i = 0; i < ctx->depth; i++) {
		if (strcmp(ctx->stack[i], norm) == 0) {
			exp->loop = true;
			return;
		}
	}
	ret = alias_get(ctx->db, norm, &targets);
	if (ret < 0) {
		ctx->failed = true;
		return;
	}
	if (ret > 0) {
		expand_alias(ctx, norm, targets);
		free(targets);
		return;
	}
	ret = ctx->res->user_exists(ctx->res->arg, norm);
	if (ret < 0) {
		ctx->failed = true;
	} else if (ret == 0) {
		list_add(&exp->missing, &exp->n_missing, &exp->cap_missing, norm);
	} else if (exp->n_users >= ALIAS_MAX_USERS) {
		exp->too_many = true;
	} else {
		list_add(&exp->users, &exp->n_users, &exp->cap_users, norm);
	}
}

int alias_expand(struct alias_db *db, const struct alias_resolver *res,
		 const char *name, struct alias_expansion *exp)
{
	struct expand_ctx ctx;
	char norm[65], *targets = NULL;
	int ret;

	memset(exp, 0, sizeof(*exp));
	if (!normalize(name, norm, sizeof(norm)))
		return 0;
	ret = alias_get(db, norm, &targets);
	if (ret <= 0)
		return ret;
	memset(&ctx, 0, sizeof(ctx));
	ctx.db = db;
	ctx.res = res;
	ctx.exp = exp;
	expand_alias(&ctx, norm, targets);
	free(targets);
	if (ctx.failed) {
		alias_expansion_free(exp);
		return -1;
	}
	return 1;
}
