#ifndef JACO_OPENSSL_H
#define JACO_OPENSSL_H

#include <stddef.h>

/// SHA-256 of `length` bytes at `data` into `out` (32 bytes) with the system OpenSSL: the
/// algorithm fetched once per process (EVP_MD_fetch, so a configured FIPS provider serves it)
/// and one digest context per thread, reused. Returns 1 on success, 0 on failure.
int jaco_openssl_sha256(const void *data, size_t length, unsigned char *out);

/// The OpenSSL version text, e.g. "OpenSSL 3.0.19 27 Jan 2026".
const char *jaco_openssl_version(void);

/// The name of the provider that serves SHA-256 here ("default", "fips", …), or NULL.
const char *jaco_openssl_sha256_provider(void);

#endif
