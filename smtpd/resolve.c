/* Recipient resolution: local domain, alias, user, sub-address, postmaster
 * (RFC 5321 4.5.1, RFC 2142 for abuse). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/users.h"
#include "common/xalloc.h"
#include "maildir/name.h"
#include "smtpd/aliases.h"
#include "smtpd/resolve.h"
#include "smtpd/session.h"

int smtp_user_owns(struct smtp_session *s, const struct smtp_path *p)
{
	struct resolved r;
	enum resolve_result res;
	int owned = 0;

	if (p->null)
		return 1;
	res = smtp_resolve(s, p, &r);
	if (res == RESOLVE_TEMPFAIL)
		return -1;
	for (size_t i = 0; res == RESOLVE_LOCAL && i < r.n; i++)
		if (strcmp(r.dests[i].user, s->user) == 0)
			owned = 1;
	smtp_resolved_free(&r);
	return owned;
}

void smtp_resolved_free(struct resolved *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->dests[i].user);
		free(r->dests[i].folder);
	}
	free(r->dests);
	r->dests = NULL;
	r->n = 0;
	for (size_t i = 0; i < r->n_remote; i++)
		free(r->remote[i]);
	free(r->remote);
	r->remote = NULL;
	r->n_remote = 0;
}

static void add_dest(struct resolved *r, const char *user, const char *folder)
{
	r->dests = xreallocarray(r->dests, r->n + 1, sizeof(*r->dests));
	r->dests[r->n].user = xstrdup(user);
	r->dests[r->n].folder = folder != NULL ? xstrdup(folder) : NULL;
	r->n++;
}

/* The alias table, opened at the first look-up; NULL when it cannot be. */
static struct alias_db *aliases(struct smtp_session *s)
{
	char err[256];

	if (s->aliases == NULL && s->io->users != NULL) {
		s->aliases = alias_db_open(userdb_env(s->io->users), err,
					   sizeof(err));
		if (s->aliases == NULL)
			log_msg("smtp", s->io->id, "aliases: %s", err);
	}
	return s->aliases;
}

static int res_user_exists(void *arg, const char *name)
{
	struct smtp_session *s = arg;

	return userdb_exists(s->io->users, name);
}

static bool res_is_local(void *arg, const char *domain)
{
	struct smtp_session *s = arg;

	return config_is_local_domain(s->io->cfg, domain);
}

static void take_first(const char *name, void *arg)
{
	char **first = arg;

	if (*first == NULL)
		*first = xstrdup(name);
}

/* The user behind postmaster and abuse: malloc'd, or NULL. */
static char *postmaster_user(struct smtp_session *s)
{
	char *first = NULL;

	if (s->set->postmaster_user[0] != '\0')
		return xstrdup(s->set->postmaster_user);
	if (userdb_list(s->io->users, take_first, &first) < 0)
		return NULL;
	return first;
}

/* The folder for sub-address `tag` of user, when it may be used and
 * exists: malloc'd, or NULL for the inbox. */
static char *tag_folder(struct smtp_session *s, const char *user,
			const char *tag)
{
	struct buf dir = BUF_INIT(BUF_UNLIMITED), path = BUF_INIT(BUF_UNLIMITED);
	char err[128], *folder = NULL;
	struct stat st;
	size_t i;

	if (!s->set->subaddress_folders || tag == NULL || tag[0] == '\0')
		return NULL;
	/* A plain word only: no hierarchy, no mUTF-7 escapes, no INBOX. */
	for (i = 0; tag[i] != '\0'; i++) {
		char c = tag[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return NULL;
	}
	if (maildir_folder_is_inbox(tag) ||
	    maildir_folder_dir(tag, &dir, err, sizeof(err)) < 0) {
		buf_free(&dir);
		return NULL;
	}
	buf_printf(&path, "%s/%s/%s", smtp_mail_root(s), user, buf_cstr(&dir));
	if (lstat(buf_cstr(&path), &st) == 0 && S_ISDIR(st.st_mode))
		folder = xstrdup(tag);
	buf_free(&path);
	buf_free(&dir);
	return folder;
}

static enum resolve_result from_alias(struct smtp_session *s,
				      struct alias_db *db, const char *name,
				      struct resolved *out, bool *is_alias)
{
	struct alias_resolver res = { res_user_exists, res_is_local, s };
	struct alias_expansion exp;
	enum resolve_result r = RESOLVE_LOCAL;
	int ret;

	*is_alias = false;
	ret = alias_expand(db, &res, name, &exp);
	if (ret < 0)
		return RESOLVE_TEMPFAIL;
	if (ret == 0)
		return RESOLVE_UNKNOWN;
	*is_alias = true;
	if (exp.loop)
		r = RESOLVE_LOOP;
	else if (exp.too_many)
		r = RESOLVE_TOO_MANY;
	else if (exp.n_remote > 0 && !s->set->alias_remote)
		r = RESOLVE_ALIAS_REMOTE;
	else if (exp.n_users == 0 && exp.n_remote == 0)
		r = RESOLVE_UNKNOWN;
	else {
		for (size_t i = 0; i < exp.n_users; i++)
			add_dest(out, exp.users[i], NULL);
		out->remote = xcalloc(exp.n_remote + 1, sizeof(*out->remote));
		for (size_t i = 0; i < exp.n_remote; i++)
			out->remote[out->n_remote++] = xstrdup(exp.remote[i]);
	}
	if (exp.n_missing > 0)
		log_msg("smtp", s->io->id, "alias %s: %zu unknown target(s), first %s",
			name, exp.n_missing, exp.missing[0]);
	alias_expansion_free(&exp);
	return r;
}

/* A lowercase local name (no separator handling). */
static enum resolve_result resolve_name(struct smtp_session *s,
					const char *name, const char *tag,
					struct resolved *out)
{
	struct alias_db *db = aliases(s);
	enum resolve_result r;
	bool is_alias;
	char *folder, *pm;
	int ret;

	if (db == NULL)
		return RESOLVE_TEMPFAIL;
	r = from_alias(s, db, name, out, &is_alias);
	if (is_alias || r == RESOLVE_TEMPFAIL)
		return r;
	ret = userdb_exists(s->io->users, name);
	if (ret < 0)
		return RESOLVE_TEMPFAIL;
	if (ret > 0) {
		folder = tag_folder(s, name, tag);
		add_dest(out, name, folder);
		free(folder);
		return RESOLVE_LOCAL;
	}
	if (strcmp(name, "postmaster") == 0 || strcmp(name, "abuse") == 0) {
		if ((pm = postmaster_user(s)) == NULL)
			return RESOLVE_TEMPFAIL;
		ret = userdb_exists(s->io->users, pm);
		if (ret > 0)
			add_dest(out, pm, NULL);
		else
			log_msg("smtp", s->io->id, "postmaster user %s does not exist", pm);
		free(pm);
		return ret > 0 ? RESOLVE_LOCAL : RESOLVE_TEMPFAIL;
	}
	return RESOLVE_UNKNOWN;
}

enum resolve_result smtp_resolve(struct smtp_session *s,
				 const struct smtp_path *p,
				 struct resolved *out)
{
	char name[SMTP_LOCAL_MAX + 1], *sep;
	enum resolve_result r;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (s->io->users == NULL)
		return RESOLVE_TEMPFAIL;
	if (p->postmaster) {
		snprintf(name, sizeof(name), "postmaster");
	} else {
		if (p->literal || !config_is_local_domain(s->io->cfg, p->domain))
			return RESOLVE_REMOTE;
		/* User names are ASCII: a UTF-8 local part is nobody here. */
		if (p->utf8)
			return RESOLVE_UNKNOWN;
		for (i = 0; p->local[i] != '\0'; i++) {
			char c = p->local[i];

			name[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
		}
		name[i] = '\0';
	}
	r = resolve_name(s, name, NULL, out);
	if (r != RESOLVE_UNKNOWN || s->set->subaddress_separator == '\0')
		return r;
	/* user+tag: the tag keeps its case (it may name a folder). */
	sep = strchr(name, s->set->subaddress_separator);
	if (sep == NULL || sep == name)
		return r;
	*sep = '\0';
	return resolve_name(s, name, p->local + (sep - name) + 1, out);
}

int smtp_alias_targets(struct smtp_session *s, const char *name,
		       char **targets_r)
{
	struct alias_db *db = aliases(s);

	if (db == NULL)
		return -1;
	return alias_get(db, name, targets_r);
}
