// OpenSSL 3.0 from Debian's libssl-dev. Swift cannot import function-like macros or call
// variadic functions, so each one msab needs is wrapped here as a static inline function; the
// datagram BIO below keeps DTLS datagram boundaries on the write side (OpenSSL 3.0 has no
// BIO_s_dgram_pair). Only the DTLS module sees these.
#ifndef MSAB_COPENSSL_SHIM_H
#define MSAB_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/x509.h>
#include <openssl/bio.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

/// A fresh ECDSA P-256 key.
static inline EVP_PKEY *msab_generate_p256(void) {
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
    if (ctx == NULL) return NULL;
    if (EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) <= 0 ||
        EVP_PKEY_keygen(ctx, &pkey) <= 0) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/// A self-signed certificate for `pkey`, valid from yesterday for `days` days.
static inline X509 *msab_self_signed(EVP_PKEY *pkey, long days) {
    X509 *x = X509_new();
    if (x == NULL) return NULL;
    unsigned char serial[8];
    RAND_bytes(serial, sizeof serial);
    long s = 0;
    memcpy(&s, serial, sizeof s);
    ASN1_INTEGER_set(X509_get_serialNumber(x), s & 0x7fffffffL);
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), days * 86400);
    X509_set_pubkey(x, pkey);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"msab", -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (X509_sign(x, pkey, EVP_sha256()) <= 0) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static inline long msab_dtls_timeout_ms(SSL *ssl) {
    struct timeval tv;
    if (DTLSv1_get_timeout(ssl, &tv) == 1) return (long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    return -1;
}

static inline long msab_dtls_handle_timeout(SSL *ssl) { return DTLSv1_handle_timeout(ssl); }
static inline void msab_ctx_min_dtls12(SSL_CTX *ctx) { SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION); }
static inline void msab_ctx_read_ahead(SSL_CTX *ctx, int on) { SSL_CTX_set_read_ahead(ctx, on); }
static inline void msab_ssl_set_mtu(SSL *ssl, long mtu) {
    SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
    DTLS_set_link_mtu(ssl, mtu);
}
static inline void msab_mem_eof_retry(BIO *b) { BIO_set_mem_eof_return(b, -1); }
static inline int msab_accept_any_certificate(int preverify, X509_STORE_CTX *ctx) { (void)preverify; (void)ctx; return 1; }
static inline void msab_ctx_verify_peer(SSL_CTX *ctx) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, msab_accept_any_certificate);
}
static inline void msab_ctx_ecdh_auto(SSL_CTX *ctx) { SSL_CTX_set1_groups_list(ctx, "P-256:X25519:P-384"); }

// --- a write BIO that keeps each datagram separate --------------------------------------------
#define MSAB_DGRAM_SLOTS 32
typedef struct {
    unsigned char *data[MSAB_DGRAM_SLOTS];
    int length[MSAB_DGRAM_SLOTS];
    int count;
} msab_dgram_queue;

static inline int msab_dgram_write(BIO *b, const char *in, int inl) {
    msab_dgram_queue *q = (msab_dgram_queue *)BIO_get_data(b);
    if (q == NULL || inl <= 0 || q->count >= MSAB_DGRAM_SLOTS) return -1;
    unsigned char *copy = (unsigned char *)malloc((size_t)inl);
    if (copy == NULL) return -1;
    memcpy(copy, in, (size_t)inl);
    q->data[q->count] = copy;
    q->length[q->count] = inl;
    q->count++;
    return inl;
}

static inline long msab_dgram_ctrl(BIO *b, int cmd, long num, void *ptr) {
    (void)b; (void)num; (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU: return 1200;
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU: return 1200;
    case BIO_CTRL_WPENDING: return 0;
    case BIO_CTRL_PENDING: return 0;
    default: return 0;
    }
}

static inline int msab_dgram_create(BIO *b) {
    msab_dgram_queue *q = (msab_dgram_queue *)calloc(1, sizeof(msab_dgram_queue));
    if (q == NULL) return 0;
    BIO_set_data(b, q);
    BIO_set_init(b, 1);
    return 1;
}

static inline int msab_dgram_destroy(BIO *b) {
    msab_dgram_queue *q = (msab_dgram_queue *)BIO_get_data(b);
    if (q != NULL) {
        for (int i = 0; i < q->count; i++) free(q->data[i]);
        free(q);
    }
    BIO_set_data(b, NULL);
    return 1;
}

static inline BIO *msab_dgram_bio_new(void) {
    static BIO_METHOD *method = NULL;
    if (method == NULL) {
        BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "msab-dgram");
        BIO_meth_set_write(m, msab_dgram_write);
        BIO_meth_set_ctrl(m, msab_dgram_ctrl);
        BIO_meth_set_create(m, msab_dgram_create);
        BIO_meth_set_destroy(m, msab_dgram_destroy);
        method = m;
    }
    return BIO_new(method);
}

/// Takes the oldest queued datagram: copies up to `capacity` bytes into `out`, returns its
/// length, 0 when none is queued.
static inline int msab_dgram_pop(BIO *b, unsigned char *out, int capacity) {
    msab_dgram_queue *q = (msab_dgram_queue *)BIO_get_data(b);
    if (q == NULL || q->count == 0) return 0;
    int n = q->length[0] < capacity ? q->length[0] : capacity;
    memcpy(out, q->data[0], (size_t)n);
    free(q->data[0]);
    for (int i = 1; i < q->count; i++) { q->data[i - 1] = q->data[i]; q->length[i - 1] = q->length[i]; }
    q->count--;
    return n;
}
#endif
