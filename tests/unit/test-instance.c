#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cli/cli.h"
#include "cli/instance.h"
#include "common/buf.h"
#include "common/certgen.h"
#include "common/config.h"
#include "common/users.h"
#include "tests/unit/unit.h"

static char err[1024];

static char *path_in(const char *dir, const char *name)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	buf_printf(&b, "%s/%s", dir, name);
	return buf_steal(&b);
}

static mode_t mode_of(const char *dir, const char *name)
{
	char *path = path_in(dir, name);
	struct stat st;

	ck_assert_msg(lstat(path, &st) == 0, "%s missing", path);
	free(path);
	return st.st_mode;
}

static mode_t current_umask(void)
{
	mode_t m = umask(022);

	umask(m);
	return m;
}

START_TEST(test_layout)
{
	static const char *const dirs[] = {
		"tls", "db", "mail", "queue", "log", "log/trace",
	};
	char *base = unit_tmpdir();
	char *dir = path_in(base, "parent/inst");
	struct config cfg;

	ck_assert(!instance_exists(dir));
	ck_assert_msg(instance_init(dir, "example.test, other.test",
				    "mx.example.test", false, NULL, err,
				    sizeof(err)) == 0, "%s", err);
	ck_assert(instance_exists(dir));
	ck_assert_uint_eq(mode_of(base, "parent/inst") & 07777, 0700);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		ck_assert(S_ISDIR(mode_of(dir, dirs[i])));
	ck_assert(S_ISREG(mode_of(dir, "maillab.conf")));
	ck_assert_uint_eq(mode_of(dir, "tls/key.pem") & 07777, 0600);
	ck_assert_uint_eq(mode_of(dir, "tls/cert.pem") & 07777,
			  0644 & ~current_umask());
	/* No demo: no credentials, no temporary file left. */
	{
		char *cred = path_in(dir, "credentials.txt");

		ck_assert_int_eq(access(cred, F_OK), -1);
		free(cred);
	}

	ck_assert_msg(config_load(&cfg, dir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(cfg.hostname, "mx.example.test");
	ck_assert_uint_eq(cfg.n_domains, 2);
	ck_assert_str_eq(cfg.domains[0], "example.test");
	ck_assert_str_eq(cfg.domains[1], "other.test");
	ck_assert_int_eq(cfg.port[SVC_IMAPS], 10993);
	config_free(&cfg);

	/* A trailing slash names the same directory. */
	free(dir);
	dir = path_in(base, "other/inst2//");
	ck_assert_msg(instance_init(dir, NULL, NULL, false, NULL, err,
				    sizeof(err)) == 0, "%s", err);
	ck_assert(instance_exists(dir));

	unit_rmtree(base);
	free(dir);
	free(base);
}
END_TEST

static bool san_has(GENERAL_NAMES *names, int type, const void *data,
		    int len)
{
	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		ASN1_STRING *s;

		if (gn->type != type)
			continue;
		s = type == GEN_DNS ? gn->d.dNSName : gn->d.iPAddress;
		if (ASN1_STRING_length(s) == len &&
		    memcmp(ASN1_STRING_get0_data(s), data, (size_t)len) == 0)
			return true;
	}
	return false;
}

static X509 *load_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	ck_assert_ptr_nonnull(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(x);
	return x;
}

static EVP_PKEY *load_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	ck_assert_ptr_nonnull(f);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(k);
	return k;
}

START_TEST(test_certificate)
{
	static const unsigned char v4[4] = { 127, 0, 0, 1 };
	static const unsigned char v6[16] = { [15] = 1 };
	char *dir = unit_tmpdir();
	char *cert_path = path_in(dir, "tls/cert.pem");
	char *key_path = path_in(dir, "tls/key.pem");
	X509 *x, *other_x;
	EVP_PKEY *key;
	GENERAL_NAMES *san;
	char cn[256];
	time_t nine_years = time(NULL) + 9L * 365 * 86400;
	const ASN1_INTEGER *serial;
	char *base2, *dir2;

	ck_assert_msg(instance_init(dir, NULL, "mx.example.test", false, NULL,
				    err, sizeof(err)) == 0, "%s", err);
	x = load_cert(cert_path);
	key = load_key(key_path);
	ck_assert_int_eq(X509_check_private_key(x, key), 1);
	ck_assert_int_eq(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);

	san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	ck_assert_ptr_nonnull(san);
	ck_assert_int_eq(sk_GENERAL_NAME_num(san), 4);
	ck_assert(san_has(san, GEN_DNS, "mx.example.test", 15));
	ck_assert(san_has(san, GEN_DNS, "localhost", 9));
	ck_assert(san_has(san, GEN_IPADD, v4, 4));
	ck_assert(san_has(san, GEN_IPADD, v6, 16));
	GENERAL_NAMES_free(san);
	ck_assert_int_eq(X509_check_host(x, "mx.example.test", 0, 0, NULL), 1);
	ck_assert_int_eq(X509_check_ip_asc(x, "::1", 0), 1);

	ck_assert_int_gt(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
						   NID_commonName, cn,
						   sizeof(cn)), 0);
	ck_assert_str_eq(cn, "mx.example.test");
	ck_assert_int_eq(X509_self_signed(x, 1), 1);
	ck_assert_int_eq(X509_get_version(x), X509_VERSION_3);
	ck_assert_int_lt(X509_cmp_time(X509_get0_notBefore(x), NULL), 1);
	ck_assert_int_eq(X509_cmp_time(X509_get0_notAfter(x), &nine_years), 1);
	ck_assert_int_eq(X509_check_ca(x), 0);
	ck_assert(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
	ck_assert(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
	ck_assert_int_eq(X509_verify(x, key), 1);
	serial = X509_get0_serialNumber(x);
	ck_assert_int_eq(ASN1_STRING_type(serial), V_ASN1_INTEGER); /* positive */
	ck_assert_int_ge(ASN1_STRING_length(serial), 16);

	/* A second instance gets a different key and serial. */
	base2 = unit_tmpdir();
	dir2 = path_in(base2, "i");
	ck_assert_int_eq(instance_init(dir2, NULL, "mx.example.test", false,
				       NULL, err, sizeof(err)), 0);
	free(cert_path);
	cert_path = path_in(dir2, "tls/cert.pem");
	other_x = load_cert(cert_path);
	ck_assert_int_ne(X509_check_private_key(other_x, key), 1);
	ck_assert_int_ne(ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(other_x)), 0);
	X509_free(other_x);
	unit_rmtree(base2);
	free(base2);
	free(dir2);

	X509_free(x);
	EVP_PKEY_free(key);
	free(cert_path);
	free(key_path);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

/* Verifies `leaf` against a store holding both self-signed certificates. */
static int verifies_in_shared_store(X509 *leaf, X509 *a, X509 *b)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok;

	ck_assert_int_eq(X509_STORE_add_cert(store, a), 1);
	ck_assert_int_eq(X509_STORE_add_cert(store, b), 1);
	ck_assert_int_eq(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
	ok = X509_verify_cert(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

/* Two instances on one host both call themselves localhost; a lab that puts
 * both certificates in one CA file must be able to verify each of them. */
START_TEST(test_certgen_two_instances_one_ca_file)
{
	char *dir = unit_tmpdir();
	char *c1 = path_in(dir, "c1.pem"), *k1 = path_in(dir, "k1.pem");
	char *c2 = path_in(dir, "c2.pem"), *k2 = path_in(dir, "k2.pem");
	X509 *x1, *x2;

	ck_assert_int_eq(certgen_write(c1, k1, "localhost", err, sizeof(err)), 0);
	ck_assert_int_eq(certgen_write(c2, k2, "localhost", err, sizeof(err)), 0);
	x1 = load_cert(c1);
	x2 = load_cert(c2);
	ck_assert_int_eq(verifies_in_shared_store(x1, x1, x2), 1);
	ck_assert_int_eq(verifies_in_shared_store(x2, x1, x2), 1);
	X509_free(x1);
	X509_free(x2);
	free(c1);
	free(k1);
	free(c2);
	free(k2);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_certgen_refuses_overwrite)
{
	char *dir = unit_tmpdir();
	char *cert = path_in(dir, "c.pem"), *key = path_in(dir, "k.pem");
	FILE *f;

	ck_assert_int_eq(certgen_write(cert, key, "localhost", err, sizeof(err)), 0);
	/* localhost is named once. */
	{
		X509 *x = load_cert(cert);
		GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name,
						      NULL, NULL);

		ck_assert_int_eq(sk_GENERAL_NAME_num(san), 3);
		GENERAL_NAMES_free(san);
		X509_free(x);
	}
	ck_assert_int_eq(certgen_write(cert, key, "localhost", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "k.pem"));
	ck_assert_int_eq(certgen_write(cert, key, "a,DNS:evil.test", err,
				       sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a valid host name"));

	/* A name too long for a CN still goes into the SAN. */
	{
		char *cert2 = path_in(dir, "c2.pem"), *key2 = path_in(dir, "k2.pem");
		const char *longname = "a-rather-long-host-name-for-a-test."
			"with-more-than-sixty-four-characters.example";
		X509 *x;

		ck_assert_msg(certgen_write(cert2, key2, longname, err,
					    sizeof(err)) == 0, "%s", err);
		x = load_cert(cert2);
		ck_assert_int_eq(X509_check_host(x, longname, 0, 0, NULL), 1);
		X509_free(x);
		free(cert2);
		free(key2);
	}

	/* A failure on the certificate leaves no key behind. */
	unlink(key);
	f = fopen(cert, "r");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(certgen_write(cert, key, "localhost", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "c.pem"));
	ck_assert_int_eq(access(key, F_OK), -1);
	free(cert);
	free(key);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_refuses_existing)
{
	char *base = unit_tmpdir();
	char *dir = path_in(base, "inst");
	char *file = path_in(base, "file");
	char *full = path_in(base, "full");
	char *junk = path_in(full, "junk");
	FILE *f;

	ck_assert_int_eq(instance_init(dir, NULL, "h.test", false, NULL, err,
				       sizeof(err)), 0);
	ck_assert_int_eq(instance_init(dir, NULL, "h.test", false, NULL, err,
				       sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "an instance already exists"));
	ck_assert_ptr_nonnull(strstr(err, dir));
	ck_assert(instance_exists(dir));

	f = fopen(file, "w");
	fclose(f);
	ck_assert_int_eq(instance_init(file, NULL, "h.test", false, NULL, err,
				       sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a directory"));

	mkdir(full, 0755);
	f = fopen(junk, "w");
	fclose(f);
	ck_assert_int_eq(instance_init(full, NULL, "h.test", false, NULL, err,
				       sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not empty"));
	ck_assert(!instance_exists(full));

	/* An existing empty directory is fine, and keeps its mode. */
	unlink(junk);
	chmod(full, 0750);
	ck_assert_int_eq(instance_init(full, NULL, "h.test", false, NULL, err,
				       sizeof(err)), 0);
	ck_assert_uint_eq(mode_of(full, ".") & 07777, 0750);

	unit_rmtree(base);
	free(dir);
	free(file);
	free(full);
	free(junk);
	free(base);
}
END_TEST

START_TEST(test_bad_arguments)
{
	char *base = unit_tmpdir();
	char *dir = path_in(base, "inst");

	ck_assert_int_eq(instance_init(dir, "-bad.test", NULL, false, NULL, err,
				       sizeof(err)), -1);
	ck_assert_str_eq(err, "--domain: domains: '-bad.test' is not a valid domain name");
	ck_assert_int_eq(instance_init(dir, NULL, "a b", false, NULL, err,
				       sizeof(err)), -1);
	ck_assert_str_eq(err, "--hostname: hostname: 'a b' is not a valid host name");
	ck_assert_int_eq(instance_init(dir, "x.test\nallow_plaintext_auth = yes",
				       NULL, false, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "--domain"));
	ck_assert_int_eq(instance_init(dir, "x.test # c", NULL, false, NULL,
				       err, sizeof(err)), -1);
	/* Nothing was created. */
	ck_assert_int_eq(access(dir, F_OK), -1);
	unit_rmtree(base);
	free(dir);
	free(base);
}
END_TEST

/* Runs instance_init(dir) in a child whose files may not grow past 100
 * bytes, so that writing the key fails after the subdirectories were made.
 * (A child, because Check's own message file must not hit the limit.)
 * Returns 0 when init failed naming the key file. */
static int init_with_small_fsize(const char *dir)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct rlimit small;

		getrlimit(RLIMIT_FSIZE, &small);
		small.rlim_cur = 100;
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &small) < 0)
			_exit(3);
		if (instance_init(dir, NULL, "h.test", false, NULL, err,
				  sizeof(err)) == 0)
			_exit(2);
		_exit(strstr(err, "tls/key.pem: File too large") != NULL ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* A failure half-way leaves the directory as it was. */
START_TEST(test_failure_cleans_up)
{
	char *base = unit_tmpdir();
	char *dir = path_in(base, "inst");
	char *empty = path_in(base, "empty");

	/* A directory init made is removed again ... */
	ck_assert_int_eq(init_with_small_fsize(dir), 0);
	ck_assert_int_eq(access(dir, F_OK), -1);
	/* ... an empty one given to it is emptied again. */
	ck_assert_int_eq(mkdir(empty, 0700), 0);
	ck_assert_int_eq(init_with_small_fsize(empty), 0);
	ck_assert_int_eq(access(empty, F_OK), 0);
	ck_assert_int_eq(rmdir(empty), 0);	/* fails unless empty */

	unit_rmtree(base);
	free(dir);
	free(empty);
	free(base);
}
END_TEST

/* URL-safe, and without '-' so that no password looks like an option */
static const char url_safe[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";

START_TEST(test_demo_users)
{
	char *dir = unit_tmpdir();
	char *cred = path_in(dir, "credentials.txt");
	char *report = NULL;
	size_t report_len = 0;
	FILE *out = open_memstream(&report, &report_len);
	char names[2][32], pws[2][64];
	struct userdb *db;
	FILE *f;

	ck_assert_msg(instance_init(dir, NULL, "h.test", true, out, err,
				    sizeof(err)) == 0, "%s", err);
	fclose(out);
	ck_assert_uint_eq(mode_of(dir, "credentials.txt") & 07777, 0600);
	f = fopen(cred, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%31s %63s\n%31s %63s\n", names[0], pws[0],
				names[1], pws[1]), 4);
	ck_assert_int_eq(fgetc(f), EOF);
	fclose(f);
	ck_assert_str_eq(names[0], "alice");
	ck_assert_str_eq(names[1], "bob");
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(strlen(pws[i]), INSTANCE_PASSWORD_LEN);
		ck_assert_uint_eq(strspn(pws[i], url_safe), INSTANCE_PASSWORD_LEN);
		/* Printed once, in the report. */
		ck_assert_ptr_nonnull(strstr(report, pws[i]));
	}
	ck_assert_str_ne(pws[0], pws[1]);
	ck_assert(S_ISDIR(mode_of(dir, "mail/alice/new")));
	ck_assert(S_ISDIR(mode_of(dir, "mail/bob/cur")));

	db = userdb_open(dir, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_int_eq(userdb_verify(db, "alice", pws[0]), 1);
	ck_assert_int_eq(userdb_verify(db, "bob", pws[1]), 1);
	ck_assert_int_eq(userdb_verify(db, "alice", pws[1]), 0);
	userdb_close(&db);

	free(report);
	free(cred);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

static char *info_of(const char *dir, const char *extra_conf)
{
	struct config cfg;
	struct userdb *users;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_int_eq(config_load(&cfg, dir, err, sizeof(err)), 0);
	if (extra_conf != NULL)
		ck_assert_int_eq(config_parse(&cfg, "extra", extra_conf, err,
					      sizeof(err)), 0);
	users = userdb_open(dir, err, sizeof(err));
	ck_assert_msg(users != NULL, "%s", err);
	instance_print_info(&cfg, users, f);
	userdb_close(&users);
	fclose(f);
	config_free(&cfg);
	return text;
}

START_TEST(test_print_info)
{
	char *dir = unit_tmpdir();
	char *text, *expect;

	ck_assert_int_eq(instance_init(dir, NULL, "h.test", true, NULL, err,
				       sizeof(err)), 0);
	text = info_of(dir, NULL);
	ck_assert_ptr_nonnull(strstr(text, "127.0.0.1:10025"));
	ck_assert_ptr_nonnull(strstr(text, "127.0.0.1:10587"));
	ck_assert_ptr_nonnull(strstr(text, "127.0.0.1:10465"));
	ck_assert_ptr_nonnull(strstr(text, "127.0.0.1:10110"));
	ck_assert_ptr_nonnull(strstr(text, "127.0.0.1:10995"));
	ck_assert_ptr_nonnull(strstr(text, "127.0.0.1:10143"));
	ck_assert_ptr_nonnull(strstr(text, "127.0.0.1:10993"));
	ck_assert_ptr_nonnull(strstr(text, "openssl s_client -connect 127.0.0.1:10993"));
	ck_assert_ptr_nonnull(strstr(text, "curl -k imaps://127.0.0.1:10993/INBOX -u alice:PASSWORD"));
	ck_assert_ptr_nonnull(strstr(text, "curl -k pop3s://127.0.0.1:10995/"));
	ck_assert_ptr_nonnull(strstr(text, "curl -k smtps://127.0.0.1:10465"));
	expect = path_in(dir, "credentials.txt");
	ck_assert_ptr_nonnull(strstr(text, expect));
	free(expect);
	expect = path_in(dir, "log/maillab.log");
	ck_assert_ptr_nonnull(strstr(text, expect));
	free(expect);
	/* Passwords are never in the info. */
	{
		char *cred = path_in(dir, "credentials.txt");
		char name[32], pw[64];
		FILE *f = fopen(cred, "r");

		ck_assert_int_eq(fscanf(f, "%31s %63s", name, pw), 2);
		fclose(f);
		ck_assert_ptr_null(strstr(text, pw));
		free(cred);
	}
	free(text);

	text = info_of(dir, "listen = ::\nport_imaps = 0\nport_submissions = 0\n"
		       "ports = standard\n");
	ck_assert_ptr_nonnull(strstr(text, "[::1]:25 "));
	ck_assert_ptr_nonnull(strstr(text, "disabled (port_imaps = 0)"));
	ck_assert_ptr_null(strstr(text, "imaps://"));
	ck_assert_ptr_nonnull(strstr(text, "curl -k --ssl-reqd smtp://[::1]:587"));
	ck_assert_ptr_nonnull(strstr(text, "nc -C ::1 25"));
	free(text);

	unit_rmtree(dir);
	free(dir);
}
END_TEST

/* The users line counts what `maillab user list` reads, with or without a
 * credentials file. */
START_TEST(test_print_info_users)
{
	char *dir = unit_tmpdir();
	char *cred = path_in(dir, "credentials.txt");
	static const char *const names[] = { "u1", "u2", "u3", "u4", "u5", "u6" };
	struct userdb *db;
	char *text;

	ck_assert_int_eq(instance_init(dir, NULL, "h.test", false, NULL, err,
				       sizeof(err)), 0);
	text = info_of(dir, NULL);
	ck_assert_ptr_nonnull(strstr(text, "users          none; add one with: "
				     "maillab user add -d "));
	free(text);

	db = userdb_open(dir, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_int_eq(userdb_add(db, "carol", "carol password", err,
				    sizeof(err)), 0);
	userdb_close(&db);
	ck_assert_int_eq(access(cred, F_OK), -1);
	text = info_of(dir, NULL);
	ck_assert_ptr_null(strstr(text, "none"));
	ck_assert_ptr_nonnull(strstr(text, "users          1: carol\n"));
	free(text);

	db = userdb_open(dir, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_int_eq(userdb_add(db, names[i], "a password", err,
					    sizeof(err)), 0);
	userdb_close(&db);
	text = info_of(dir, NULL);
	ck_assert_ptr_nonnull(strstr(text, "users          7: carol, u1, u2, u3, "
				     "u4, ... (maillab user list shows all)\n"));
	free(text);

	unit_rmtree(dir);
	free(cred);
	free(dir);
}
END_TEST

/* Runs maillab_init with stdout and stderr silenced; returns its status. */
static int run_init(int argc, const char **args)
{
	char *argv[8];
	int saved_out = dup(1), saved_err = dup(2);
	int null = open("/dev/null", O_WRONLY);
	int ret;

	for (int i = 0; i < argc; i++)
		argv[i] = (char *)args[i];
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	dup2(null, 1);
	dup2(null, 2);
	ret = maillab_init(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	close(null);
	return ret;
}

START_TEST(test_cmd_init)
{
	char *base = unit_tmpdir();
	char *dir = path_in(base, "inst");
	struct config cfg;

	ck_assert_int_eq(run_init(1, (const char *[]){ "init" }), 2);
	ck_assert_int_eq(run_init(3, (const char *[]){ "init", dir, "--bogus" }), 2);
	ck_assert_int_eq(run_init(3, (const char *[]){ "init", dir, "other" }), 2);
	ck_assert_int_eq(run_init(3, (const char *[]){ "init", dir, "--domain" }), 2);
	ck_assert_int_eq(run_init(3, (const char *[]){ "init", dir, "--domain=" }), 2);
	ck_assert_int_eq(run_init(5, (const char *[]){ "init", "--domain", "a.test",
						       "--domain", "b.test" }), 2);
	ck_assert_int_eq(access(dir, F_OK), -1);
	ck_assert_int_eq(run_init(3, (const char *[]){ "init", dir,
						       "--hostname=bad host" }), 1);
	ck_assert_int_eq(run_init(6, (const char *[]){ "init", "--domain", "d.test",
						       dir, "--hostname",
						       "mx.d.test" }), 0);
	ck_assert_int_eq(config_load(&cfg, dir, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.domains[0], "d.test");
	ck_assert_str_eq(cfg.hostname, "mx.d.test");
	config_free(&cfg);
	ck_assert_int_eq(run_init(2, (const char *[]){ "init", dir }), 1);
	unit_rmtree(base);
	free(dir);
	free(base);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("instance");
	TCase *tc = tcase_create("instance");

	/* Key generation and yescrypt hashing under valgrind are slow. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_certificate);
	tcase_add_test(tc, test_certgen_refuses_overwrite);
	tcase_add_test(tc, test_certgen_two_instances_one_ca_file);
	tcase_add_test(tc, test_refuses_existing);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_failure_cleans_up);
	tcase_add_test(tc, test_demo_users);
	tcase_add_test(tc, test_print_info);
	tcase_add_test(tc, test_print_info_users);
	tcase_add_test(tc, test_cmd_init);
	suite_add_tcase(s, tc);
	return s;
}
