// SRTP's per-packet crypto in C.
//
// AES-GCM (RFC 7714) and AES-CM (RFC 3711 §4.1.1) for SRTP packets on the CPU's AES-NI and
// PCLMULQDQ instructions. Written by hand: OpenSSL 3's EVP calls cost about 230 ns per small
// packet in call overhead alone (an IV re-init, two updates, a final and a tag ctrl, each going
// through the provider layer), and its per-key state is spread over several allocations (the
// EVP context, the provider's GCM context with its 256-byte GHASH table): a fan-out touches one
// key per consumer, so every cache line of key state is a miss per forwarded packet. Here one
// 64-byte aligned block of five cache lines holds the round keys, the hash key powers and the salt.
// No package on the machine exports AES-NI (libcrypto keeps its aesni_* symbols hidden).
//
// Checked against OpenSSL and libsrtp by the SRTP module's tests (RFC 3711/7714 vectors, the
// libsrtp differential tests, and random packets through both ciphers).
#ifndef MSAB_SRTP_CRYPTO_H
#define MSAB_SRTP_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/// One SRTP/SRTCP session key: AES round keys, GHASH key, session salt (opaque to Swift).
typedef struct msab_srtp_aes msab_srtp_aes;

/// 1 when this CPU has AES-NI, PCLMULQDQ and SSSE3 (the only path here), else 0.
int msab_aesni_available(void);

/// A key for `key_length` (16 or 32) bytes of session key and `salt_length` (≤ 14) bytes of
/// session salt; NULL when AES-NI is missing or the lengths are wrong. Free with msab_srtp_aes_free.
msab_srtp_aes *msab_srtp_aes_new(const uint8_t *key, int key_length, const uint8_t *salt, int salt_length);
void msab_srtp_aes_free(msab_srtp_aes *aes);

/// Asks for the key's cache lines ahead of use.
void msab_srtp_aes_prefetch(const msab_srtp_aes *aes);

/// AES-GCM with the RFC 7714 §8.1 IV from (ssrc, index): encrypts `length` bytes at `data` in
/// place, authenticating aad ‖ aad2 too; writes the 16-byte tag at `tag`.
void msab_srtp_gcm_seal(const msab_srtp_aes *aes, uint32_t ssrc, uint64_t index, const uint8_t *aad, size_t aad_length,
                        const uint8_t *aad2, size_t aad2_length, uint8_t *data, size_t length, uint8_t *tag);

/// AES-GCM decryption in place; 1 when the 16-byte `tag` verifies (constant time), else 0 (the
/// data is then left encrypted).
int msab_srtp_gcm_open(const msab_srtp_aes *aes, uint32_t ssrc, uint64_t index, const uint8_t *aad, size_t aad_length,
                       const uint8_t *aad2, size_t aad2_length, uint8_t *data, size_t length, const uint8_t *tag);

/// AES-CM: XORs the keystream of the RFC 3711 §4.1.1 IV from (ssrc, index) into `length` bytes.
void msab_srtp_ctr(const msab_srtp_aes *aes, uint32_t ssrc, uint64_t index, uint8_t *data, size_t length);

// HMAC-SHA1 (RFC 2104) for the AES-CM profiles' tags, on OpenSSL's SHA1 with the inner and
// outer pad blocks hashed once per key: a packet then costs the SHA-1 of its own bytes and of
// the inner digest, ~100 ns for 100 bytes against ~200 ns through EVP_MAC (whose per-call
// re-init copies three digest contexts spread over separate allocations).

/// One HMAC-SHA1 key: the SHA-1 states after the inner and the outer pad block.
typedef struct msab_srtp_hmac msab_srtp_hmac;

/// A key of `key_length` ≤ 64 bytes (SRTP uses 20); NULL on a bad length or no memory.
msab_srtp_hmac *msab_srtp_hmac_new(const uint8_t *key, size_t key_length);
void msab_srtp_hmac_free(msab_srtp_hmac *hmac);

/// HMAC-SHA1(key, a ‖ b) into the 20 bytes at `out`.
void msab_srtp_hmac_digest(const msab_srtp_hmac *hmac, const uint8_t *a, size_t a_length, const uint8_t *b, size_t b_length,
                           uint8_t *out);

#endif
