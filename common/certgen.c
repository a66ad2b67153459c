/* The self-signed certificate `maillab init` makes, with the OpenSSL 3 API. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/certgen.h"

#define CERT_DAYS 3653		/* ten years, leap days included */
#define SERIAL_BITS 159		/* RFC 5280 4.1.2.2: positive, at most 20 octets */

static void ssl_error(char *err_r, size_t errlen, const char *what)
{
	char detail[256];
	unsigned long e = ERR_get_error();

	if (e != 0)
		ERR_error_string_n(e, detail, sizeof(detail));
	else
		snprintf(detail, sizeof(detail), "unknown error");
	ERR_clear_error();
	snprintf(err_r, errlen, "%s failed: %s", what, detail);
}

/* The name goes into a subjectAltName string, so nothing but a DNS name may
 * pass (a comma would add names). */
static int check_hostname(const char *h)
{
	if (*h == '\0' || strlen(h) > 253)
		return -1;
	for (; *h != '\0'; h++) {
		if (!isalnum((unsigned char)*h) && *h != '-' && *h != '.')
			return -1;
	}
	return 0;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok;

	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int set_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	int ok;

	/* Top bit set: never zero, always SERIAL_BITS long. */
	ok = bn != NULL &&
	     BN_rand(bn, SERIAL_BITS, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) &&
	     BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

static int set_extensions(X509 *x, const char *hostname)
{
	struct buf san = BUF_INIT(BUF_UNLIMITED);
	X509V3_CTX ctx;
	int ret;

	buf_printf(&san, "DNS:%s,", hostname);
	if (strcasecmp(hostname, "localhost") != 0)
		buf_puts(&san, "DNS:localhost,");
	buf_puts(&san, "IP:127.0.0.1,IP:::1");

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ret = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
	if (ret == 0)
		ret = add_ext(x, &ctx, NID_key_usage,
			      "critical,digitalSignature");
	if (ret == 0)
		ret = add_ext(x, &ctx, NID_ext_key_usage, "serverAuth");
	if (ret == 0)
		ret = add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	/* RFC 5280 4.2.1.1: with the key identifier OpenSSL tells apart two
	 * trust anchors of one subject (every lab instance is localhost). */
	if (ret == 0)
		ret = add_ext(x, &ctx, NID_authority_key_identifier,
			      "keyid:always");
	if (ret == 0)
		ret = add_ext(x, &ctx, NID_subject_alt_name, buf_cstr(&san));
	buf_free(&san);
	return ret;
}

static X509 *make_cert(EVP_PKEY *key, const char *hostname, char *err_r,
		       size_t errlen)
{
	X509 *x = X509_new();
	X509_NAME *name;
	const char *cn = hostname;

	if (x == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    set_serial(x) < 0 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), CERT_DAYS, 0, NULL) == NULL ||
	    !X509_set_pubkey(x, key)) {
		ssl_error(err_r, errlen, "creating the certificate");
		goto fail;
	}
	/* RFC 5280 ub-common-name is 64; the SAN holds the full name anyway. */
	if (strlen(hostname) > 64)
		cn = "maillab";
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name)) {
		ssl_error(err_r, errlen, "setting the certificate name");
		goto fail;
	}
	if (set_extensions(x, hostname) < 0) {
		ssl_error(err_r, errlen, "adding certificate extensions");
		goto fail;
	}
	if (X509_sign(x, key, EVP_sha256()) == 0) {
		ssl_error(err_r, errlen, "signing the certificate");
		goto fail;
	}
	return x;
fail:
	X509_free(x);
	return NULL;
}

/* Creates `path` with `mode` (O_EXCL: never replaces a file) and writes the
 * PEM of `key` or `cert`.  On failure the file is removed. */
static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert,
		     char *err_r, size_t errlen)
{
	FILE *f;
	int fd, ok;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(err_r, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		snprintf(err_r, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if (key != NULL)
		ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	else
		ok = PEM_write_X509(f, cert);
	if (!ok) {
		ssl_error(err_r, errlen, "PEM write");
		fclose(f);
		unlink(path);
		return -1;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
		snprintf(err_r, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		unlink(path);
		return -1;
	}
	if (fclose(f) != 0) {
		snprintf(err_r, errlen, "%s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

int certgen_write(const char *cert_path, const char *key_path,
		  const char *hostname, char *err_r, size_t errlen)
{
	EVP_PKEY *key;
	X509 *cert;
	int ret = -1;

	if (check_hostname(hostname) < 0) {
		snprintf(err_r, errlen, "'%s' is not a valid host name for a certificate",
			 hostname);
		return -1;
	}
	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (key == NULL) {
		ssl_error(err_r, errlen, "EC P-256 key generation");
		return -1;
	}
	cert = make_cert(key, hostname, err_r, errlen);
	if (cert != NULL &&
	    write_pem(key_path, 0600, key, NULL, err_r, errlen) == 0) {
		if (write_pem(cert_path, 0644, NULL, cert, err_r, errlen) == 0)
			ret = 0;
		else
			unlink(key_path);
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	return ret;
}
