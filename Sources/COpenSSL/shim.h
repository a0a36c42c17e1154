// OpenSSL from Debian's libssl-dev. Function-like macros and variadic functions are not
// imported by Swift: wrap each one used as a static inline function here.
#ifndef MSAB_COPENSSL_SHIM_H
#define MSAB_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/x509.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/hmac.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

// SSL_OP_* are built with SSL_OP_BIT(n), which Swift does not import.
static inline uint64_t msab_SSL_OP_NO_QUERY_MTU(void) { return SSL_OP_NO_QUERY_MTU; }
static inline uint64_t msab_SSL_OP_NO_TICKET(void) { return SSL_OP_NO_TICKET; }
static inline uint64_t msab_SSL_OP_CIPHER_SERVER_PREFERENCE(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
static inline uint64_t msab_SSL_OP_SINGLE_ECDH_USE(void) { return SSL_OP_SINGLE_ECDH_USE; }
static inline uint64_t msab_SSL_OP_NO_RENEGOTIATION(void) { return SSL_OP_NO_RENEGOTIATION; }

static inline long msab_SSL_CTX_set_read_ahead(SSL_CTX *ctx, long yes) { return SSL_CTX_set_read_ahead(ctx, yes); }
static inline long msab_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}
static inline long msab_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long msab_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_max_proto_version(ctx, version);
}
static inline long msab_DTLS_set_link_mtu(SSL *ssl, long mtu) { return DTLS_set_link_mtu(ssl, mtu); }
// Remaining time of the DTLS retransmission timer, measured on OpenSSL's own clock.
// Returns 1 and fills *usec when a timer runs, 0 when none does.
static inline int msab_DTLSv1_get_timeout(SSL *ssl, long long *usec) {
    struct timeval tv = {0, 0};
    if (DTLSv1_get_timeout(ssl, &tv) != 1) return 0;
    *usec = (long long)tv.tv_sec * 1000000LL + (long long)tv.tv_usec;
    return 1;
}
static inline long msab_DTLSv1_handle_timeout(SSL *ssl) { return DTLSv1_handle_timeout(ssl); }

static inline long msab_BIO_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }
static inline long msab_BIO_set_mem_eof_return(BIO *bio, long value) { return BIO_set_mem_eof_return(bio, value); }
static inline int msab_BIO_reset(BIO *bio) { return BIO_reset(bio); }


// --- SRTP (the SRTP module's transforms) --------------------------------------------------------
// An HMAC-SHA1 context keyed once; msab_hmac_sha1 re-initialises it with the same key per packet
// (EVP_MAC_init with a NULL key reuses the key schedule) and MACs two spans.
static inline EVP_MAC_CTX *msab_hmac_sha1_new(const unsigned char *key, size_t key_length) {
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) return NULL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    if (ctx == NULL) return NULL;
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(ctx, key, key_length, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/// HMAC-SHA1 over a ‖ b into out (20 bytes). Returns 1 on success.
static inline int msab_hmac_sha1(EVP_MAC_CTX *ctx, const unsigned char *a, size_t a_length,
                                 const unsigned char *b, size_t b_length, unsigned char *out) {
    size_t written = 0;
    if (EVP_MAC_init(ctx, NULL, 0, NULL) != 1) return 0;
    if (EVP_MAC_update(ctx, a, a_length) != 1) return 0;
    if (b_length > 0 && EVP_MAC_update(ctx, b, b_length) != 1) return 0;
    return EVP_MAC_final(ctx, out, &written, 20) == 1 && written == 20;
}

static inline int msab_gcm_get_tag(EVP_CIPHER_CTX *ctx, unsigned char *tag, int length) {
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, length, tag);
}
static inline int msab_gcm_set_tag(EVP_CIPHER_CTX *ctx, unsigned char *tag, int length) {
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, length, tag);
}

#endif
