// HMAC-SHA1 with the pad blocks hashed once per key (see include/srtp_crypto.h for why).
// SHA1_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, whose per-call overhead
// is what this avoids; they remain exported and run the same SHA-1 code (SHA-NI where present).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "srtp_crypto.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

struct msab_srtp_hmac {
    SHA_CTX inner;
    SHA_CTX outer;
};

msab_srtp_hmac *msab_srtp_hmac_new(const uint8_t *key, size_t key_length) {
    if (key_length > SHA_CBLOCK) return NULL;
    struct msab_srtp_hmac *hmac = malloc(sizeof *hmac);
    if (hmac == NULL) return NULL;
    uint8_t pad[SHA_CBLOCK];
    memset(pad, 0x36, sizeof pad);
    for (size_t i = 0; i < key_length; i++) pad[i] ^= key[i];
    int ok = SHA1_Init(&hmac->inner) && SHA1_Update(&hmac->inner, pad, sizeof pad);
    memset(pad, 0x5c, sizeof pad);
    for (size_t i = 0; i < key_length; i++) pad[i] ^= key[i];
    ok = ok && SHA1_Init(&hmac->outer) && SHA1_Update(&hmac->outer, pad, sizeof pad);
    OPENSSL_cleanse(pad, sizeof pad);
    if (!ok) {
        msab_srtp_hmac_free(hmac);
        return NULL;
    }
    return hmac;
}

void msab_srtp_hmac_free(msab_srtp_hmac *hmac) {
    if (hmac == NULL) return;
    OPENSSL_cleanse(hmac, sizeof *hmac);
    free(hmac);
}

void msab_srtp_hmac_digest(const msab_srtp_hmac *hmac, const uint8_t *a, size_t a_length, const uint8_t *b, size_t b_length,
                           uint8_t *out) {
    SHA_CTX context = hmac->inner;
    uint8_t inner[SHA_DIGEST_LENGTH];
    SHA1_Update(&context, a, a_length);
    if (b_length > 0) SHA1_Update(&context, b, b_length);
    SHA1_Final(inner, &context);
    context = hmac->outer;
    SHA1_Update(&context, inner, sizeof inner);
    SHA1_Final(out, &context);
}
