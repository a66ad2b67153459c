#include <openssl/err.h>
#include <stdio.h>

#include "common/tls.h"

/* TLS 1.2: forward secrecy and AEAD only, the Mozilla "intermediate"
 * profile without its DHE suites (no CBC, no SHA-1 MAC, no static RSA key
 * exchange; RFC 9325 4.2).  Both ECDSA and RSA certificates are served.
 * TLS 1.3 keeps OpenSSL's default suites, all of them AEAD. */
static const char tls12_ciphers[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

static void set_error(char *err_r, size_t errlen, const char *what,
		      const char *path)
{
	char ssl_err[256] = "unknown error";
	unsigned long e = ERR_get_error();

	if (e != 0)
		ERR_error_string_n(e, ssl_err, sizeof(ssl_err));
	snprintf(err_r, errlen, "%s %s: %s", what, path, ssl_err);
	ERR_clear_error();
}

SSL_CTX *tls_server_ctx_new(const char *cert_path, const char *key_path,
			    char *err_r, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		set_error(err_r, errlen, "TLS context for", cert_path);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE |
			    SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1) {
		set_error(err_r, errlen, "TLS 1.2 cipher list for", cert_path);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		set_error(err_r, errlen, "cannot load certificate", cert_path);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
		set_error(err_r, errlen, "cannot load key", key_path);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		set_error(err_r, errlen, "key does not match certificate", key_path);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}
