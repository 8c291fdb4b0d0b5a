#include "jaco_openssl.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <pthread.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t context_key;
static EVP_MD *sha256;

static void free_context(void *context) { EVP_MD_CTX_free(context); }

static void setup(void) {
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    pthread_key_create(&context_key, free_context);
}

int jaco_openssl_sha256(const void *data, size_t length, unsigned char *out) {
    pthread_once(&once, setup);
    if (sha256 == NULL) return 0;
    EVP_MD_CTX *context = pthread_getspecific(context_key);
    if (context == NULL) {
        context = EVP_MD_CTX_new();
        if (context == NULL || pthread_setspecific(context_key, context) != 0) {
            EVP_MD_CTX_free(context);
            return 0;
        }
    }
    unsigned int written = 0;
    return EVP_DigestInit_ex(context, sha256, NULL) && EVP_DigestUpdate(context, data, length)
        && EVP_DigestFinal_ex(context, out, &written) && written == 32;
}

const char *jaco_openssl_version(void) { return OpenSSL_version(OPENSSL_VERSION); }

const char *jaco_openssl_sha256_provider(void) {
    pthread_once(&once, setup);
    if (sha256 == NULL) return NULL;
    const OSSL_PROVIDER *provider = EVP_MD_get0_provider(sha256);
    return provider == NULL ? NULL : OSSL_PROVIDER_get0_name(provider);
}
