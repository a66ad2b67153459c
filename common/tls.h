#ifndef COMMON_TLS_H
#define COMMON_TLS_H
#include <openssl/ssl.h>
#include <stddef.h>

/* A server TLS context from PEM files: TLS 1.2 minimum, for TLS 1.2 only
 * ECDHE with AES-GCM or ChaCha20-Poly1305, the server's cipher preference,
 * no renegotiation, no compression.  NULL on failure with a
 * message naming the file in err_r. */
SSL_CTX *tls_server_ctx_new(const char *cert_path, const char *key_path,
			    char *err_r, size_t errlen);

#endif
