#ifndef COMMON_CERTGEN_H
#define COMMON_CERTGEN_H
#include <stddef.h>

/* Self-signed certificate for a new instance, made with the OpenSSL 3 API.
 *
 * Key: EC P-256.  Certificate: X.509 v3, subject and issuer CN=`hostname`
 * (CN=maillab when the name is over 64 characters, the limit for a CN),
 * subjectAltName DNS:hostname, DNS:localhost, IP:127.0.0.1, IP:::1, valid
 * for ten years from now, random 159-bit serial, basicConstraints CA:FALSE,
 * keyUsage digitalSignature, extendedKeyUsage serverAuth, SHA-256 signature.
 *
 * Both files are written as PEM and created with O_EXCL (an existing file is
 * an error, never overwritten): the key with mode 0600 from the start, the
 * certificate with 0644 (both less the umask).  `hostname` must be a DNS
 * name.  0 on success; -1 with a message naming the file in err_r, and
 * neither file left behind. */
int certgen_write(const char *cert_path, const char *key_path,
		  const char *hostname, char *err_r, size_t errlen);

#endif
