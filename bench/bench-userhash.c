/* Prints the password hash maillab stores for one user (the "hash=" field
 * of its record in DIR/db/users.db, see common/users.c), so that the
 * comparative benchmarks can give Dovecot's passdb the same yescrypt hash
 * ({CRYPT} scheme) and both servers pay the same cost per LOGIN.
 *
 *   bench-userhash DIR USER
 *
 * Exit 0 and one line with the hash, or 1 with a message on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dbenv.h"

#define USERS_FILE	"users.db"
#define HASH_FIELD	"hash="

/* Writes the value of field HASH_FIELD of the NUL-separated record. */
static int print_hash(const char *rec, size_t len)
{
	size_t klen = strlen(HASH_FIELD), i = 0, flen;

	while (i < len) {
		flen = strnlen(rec + i, len - i);
		if (flen > klen && memcmp(rec + i, HASH_FIELD, klen) == 0) {
			printf("%.*s\n", (int)(flen - klen), rec + i + klen);
			return 0;
		}
		i += flen + 1;
	}
	return -1;
}

int main(int argc, char **argv)
{
	char err[512];
	DB_ENV *env;
	DB *users;
	DBT key, data;
	int ret, status = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: bench-userhash DIR USER\n");
		return 2;
	}
	if ((env = dbenv_open(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench-userhash: %s\n", err);
		return 1;
	}
	users = dbenv_open_btree(env, USERS_FILE, err, sizeof(err));
	if (users == NULL) {
		fprintf(stderr, "bench-userhash: %s\n", err);
		dbenv_close(&env);
		return 1;
	}
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;	/* the environment is DB_THREAD */
	key.data = argv[2];
	key.size = (u_int32_t)strlen(argv[2]);
	ret = users->get(users, NULL, &key, &data, 0);
	if (ret != 0)
		fprintf(stderr, "bench-userhash: %s: %s\n", argv[2],
			db_strerror(ret));
	else if (print_hash(data.data, data.size) < 0)
		fprintf(stderr, "bench-userhash: %s: no hash field\n", argv[2]);
	else
		status = 0;
	free(data.data);
	users->close(users, 0);
	dbenv_close(&env);
	return status;
}
