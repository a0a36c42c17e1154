// AES-NI + PCLMULQDQ AES-GCM / AES-CM for SRTP (see include/srtp_crypto.h for why). The key
// expansion and GHASH multiplication follow Intel's white papers (Gueron: "Intel Advanced
// Encryption Standard (AES) New Instructions Set", key expansion figures; Gueron & Kounavis:
// "Intel Carry-Less Multiplication Instruction and its Usage for Computing the GCM Mode",
// algorithm 1 with the shift-left-by-one reduction, on byte-reflected operands).
#include "srtp_crypto.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define MSAB_TARGET __attribute__((target("aes,pclmul,ssse3,sse4.1")))

struct msab_srtp_aes {
    __m128i rk[15];
    /// H, H², H³, H⁴ (H = E(K, 0^128)), byte-reflected for the multiplication: GHASH takes four
    /// blocks per reduction (X·H⁴ ⊕ B1·H³ ⊕ B2·H² ⊕ B3·H).
    __m128i h[4];
    /// The session salt (12 bytes for GCM, 14 for AES-CM), zero-padded.
    uint8_t salt[15];
    /// 10 (AES-128) or 14 (AES-256). With the salt it fills one 16-byte slot: the key is 320
    /// bytes, five cache lines.
    uint8_t rounds;
};

int msab_aesni_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("ssse3")
        && __builtin_cpu_supports("sse4.1");
}

_Static_assert(sizeof(struct msab_srtp_aes) == 320, "five cache lines");

// MARK: key expansion

MSAB_TARGET static inline __m128i expand_step(__m128i key, __m128i assist) {
    __m128i shifted = _mm_slli_si128(key, 4);
    key = _mm_xor_si128(key, shifted);
    shifted = _mm_slli_si128(shifted, 4);
    key = _mm_xor_si128(key, shifted);
    shifted = _mm_slli_si128(shifted, 4);
    key = _mm_xor_si128(key, shifted);
    return _mm_xor_si128(key, assist);
}

#define AES128_ROUND(i, rcon) rk[i] = expand_step(rk[i - 1], _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk[i - 1], rcon), 0xff))

MSAB_TARGET static void expand128(__m128i *rk, const uint8_t *key) {
    rk[0] = _mm_loadu_si128((const __m128i *)key);
    AES128_ROUND(1, 0x01);
    AES128_ROUND(2, 0x02);
    AES128_ROUND(3, 0x04);
    AES128_ROUND(4, 0x08);
    AES128_ROUND(5, 0x10);
    AES128_ROUND(6, 0x20);
    AES128_ROUND(7, 0x40);
    AES128_ROUND(8, 0x80);
    AES128_ROUND(9, 0x1b);
    AES128_ROUND(10, 0x36);
}

// AES-256: even round keys from the previous even one (RotWord+SubWord, rcon), odd ones from
// the previous odd one (SubWord only).
#define AES256_EVEN(i, rcon) rk[i] = expand_step(rk[i - 2], _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk[i - 1], rcon), 0xff))
#define AES256_ODD(i) rk[i] = expand_step(rk[i - 2], _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk[i - 1], 0x00), 0xaa))

MSAB_TARGET static void expand256(__m128i *rk, const uint8_t *key) {
    rk[0] = _mm_loadu_si128((const __m128i *)key);
    rk[1] = _mm_loadu_si128((const __m128i *)(key + 16));
    AES256_EVEN(2, 0x01);
    AES256_ODD(3);
    AES256_EVEN(4, 0x02);
    AES256_ODD(5);
    AES256_EVEN(6, 0x04);
    AES256_ODD(7);
    AES256_EVEN(8, 0x08);
    AES256_ODD(9);
    AES256_EVEN(10, 0x10);
    AES256_ODD(11);
    AES256_EVEN(12, 0x20);
    AES256_ODD(13);
    AES256_EVEN(14, 0x40);
}

// MARK: block cipher

MSAB_TARGET static inline __m128i encrypt1(const struct msab_srtp_aes *aes, __m128i block) {
    block = _mm_xor_si128(block, aes->rk[0]);
    for (int round = 1; round < aes->rounds; round++) block = _mm_aesenc_si128(block, aes->rk[round]);
    return _mm_aesenclast_si128(block, aes->rk[aes->rounds]);
}

/// Four independent blocks at once (the AES unit pipelines them).
MSAB_TARGET static inline void encrypt4(const struct msab_srtp_aes *aes, __m128i *b) {
    __m128i k = aes->rk[0];
    b[0] = _mm_xor_si128(b[0], k);
    b[1] = _mm_xor_si128(b[1], k);
    b[2] = _mm_xor_si128(b[2], k);
    b[3] = _mm_xor_si128(b[3], k);
    for (int round = 1; round < aes->rounds; round++) {
        k = aes->rk[round];
        b[0] = _mm_aesenc_si128(b[0], k);
        b[1] = _mm_aesenc_si128(b[1], k);
        b[2] = _mm_aesenc_si128(b[2], k);
        b[3] = _mm_aesenc_si128(b[3], k);
    }
    k = aes->rk[aes->rounds];
    b[0] = _mm_aesenclast_si128(b[0], k);
    b[1] = _mm_aesenclast_si128(b[1], k);
    b[2] = _mm_aesenclast_si128(b[2], k);
    b[3] = _mm_aesenclast_si128(b[3], k);
}

MSAB_TARGET static inline __m128i byte_reverse(__m128i x) {
    return _mm_shuffle_epi8(x, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

// MARK: GHASH

/// The 256-bit carry-less product a · b as (lo, hi), not reduced: products are summed first and
/// reduced once (the reduction is linear).
MSAB_TARGET static inline void clmul(__m128i a, __m128i b, __m128i *lo, __m128i *hi) {
    __m128i low = _mm_clmulepi64_si128(a, b, 0x00);
    __m128i mid = _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x10), _mm_clmulepi64_si128(a, b, 0x01));
    __m128i high = _mm_clmulepi64_si128(a, b, 0x11);
    *lo = _mm_xor_si128(low, _mm_slli_si128(mid, 8));
    *hi = _mm_xor_si128(high, _mm_srli_si128(mid, 8));
}

/// (lo, hi) modulo x^128 + x^7 + x^2 + x + 1, for byte-reflected operands (Gueron & Kounavis,
/// algorithm 1, figure 5: shift left by one bit, then reduce).
MSAB_TARGET static inline __m128i reduce(__m128i lo, __m128i hi) {
    __m128i carryLo = _mm_srli_epi32(lo, 31);
    __m128i carryHi = _mm_srli_epi32(hi, 31);
    lo = _mm_slli_epi32(lo, 1);
    hi = _mm_slli_epi32(hi, 1);
    __m128i across = _mm_srli_si128(carryLo, 12);
    carryHi = _mm_slli_si128(carryHi, 4);
    carryLo = _mm_slli_si128(carryLo, 4);
    lo = _mm_or_si128(lo, carryLo);
    hi = _mm_or_si128(_mm_or_si128(hi, carryHi), across);
    __m128i a1 = _mm_xor_si128(_mm_xor_si128(_mm_slli_epi32(lo, 31), _mm_slli_epi32(lo, 30)), _mm_slli_epi32(lo, 25));
    __m128i a2 = _mm_srli_si128(a1, 4);
    a1 = _mm_slli_si128(a1, 12);
    lo = _mm_xor_si128(lo, a1);
    __m128i b1 = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi32(lo, 1), _mm_srli_epi32(lo, 2)), _mm_srli_epi32(lo, 7));
    b1 = _mm_xor_si128(b1, a2);
    lo = _mm_xor_si128(lo, b1);
    return _mm_xor_si128(hi, lo);
}

MSAB_TARGET static inline __m128i gfmul(__m128i a, __m128i b) {
    __m128i lo, hi;
    clmul(a, b, &lo, &hi);
    return reduce(lo, hi);
}

/// GHASH over a byte stream given in pieces (aad ‖ aad2 may split a block). Whole blocks wait
/// in `pending` (byte-reflected) until four can share one reduction.
typedef struct {
    __m128i x;
    __m128i pending[4];
    int count;
    size_t used;
    uint8_t partial[16];
} ghash_state;

/// X ← (X ⊕ B0)·H^n ⊕ B1·H^(n-1) ⊕ … ⊕ B(n-1)·H for the n pending blocks.
MSAB_TARGET static inline void ghash_flush(ghash_state *g, const __m128i *h) {
    if (g->count == 0) return;
    int n = g->count;
    __m128i lo, hi, l, m;
    clmul(_mm_xor_si128(g->x, g->pending[0]), h[n - 1], &lo, &hi);
    for (int k = 1; k < n; k++) {
        clmul(g->pending[k], h[n - 1 - k], &l, &m);
        lo = _mm_xor_si128(lo, l);
        hi = _mm_xor_si128(hi, m);
    }
    g->x = reduce(lo, hi);
    g->count = 0;
}

MSAB_TARGET static inline void ghash_block(ghash_state *g, const __m128i *h, __m128i block) {
    g->pending[g->count++] = byte_reverse(block);
    if (g->count == 4) ghash_flush(g, h);
}

MSAB_TARGET static void ghash_absorb(ghash_state *g, const __m128i *h, const uint8_t *p, size_t n) {
    if (g->used > 0) {
        size_t take = 16 - g->used < n ? 16 - g->used : n;
        memcpy(g->partial + g->used, p, take);
        g->used += take;
        p += take;
        n -= take;
        if (g->used < 16) return;
        ghash_block(g, h, _mm_loadu_si128((const __m128i *)g->partial));
        g->used = 0;
    }
    for (; n >= 16; p += 16, n -= 16) ghash_block(g, h, _mm_loadu_si128((const __m128i *)p));
    if (n > 0) {
        memcpy(g->partial, p, n);
        g->used = n;
    }
}

/// Ends a section (AAD or ciphertext): a partial block is zero-padded.
MSAB_TARGET static void ghash_pad(ghash_state *g, const __m128i *h) {
    if (g->used == 0) return;
    memset(g->partial + g->used, 0, 16 - g->used);
    ghash_block(g, h, _mm_loadu_si128((const __m128i *)g->partial));
    g->used = 0;
}

// MARK: counter mode

/// XORs the keystream of the counter blocks `base` with its last 32 bits (big-endian) set to
/// counter, counter + 1, … into `length` bytes at `data`. The 32-bit counter wraps only past
/// 2^32 blocks; SRTP packets are < 2^16 bytes.
MSAB_TARGET static void ctr_xor(const struct msab_srtp_aes *aes, __m128i base, uint32_t counter, uint8_t *data, size_t length) {
    __m128i b[4];
    while (length > 0) {
        for (int k = 0; k < 4; k++) b[k] = _mm_insert_epi32(base, (int)__builtin_bswap32(counter + (uint32_t)k), 3);
        counter += 4;
        encrypt4(aes, b);
        for (int k = 0; k < 4 && length > 0; k++) {
            if (length >= 16) {
                _mm_storeu_si128((__m128i *)data, _mm_xor_si128(_mm_loadu_si128((const __m128i *)data), b[k]));
                data += 16;
                length -= 16;
            } else {
                uint8_t stream[16];
                _mm_storeu_si128((__m128i *)stream, b[k]);
                for (size_t i = 0; i < length; i++) data[i] ^= stream[i];
                length = 0;
            }
        }
    }
}

// MARK: GCM

/// The RFC 7714 §8.1 IV: (00 00 ‖ SSRC ‖ 48-bit index) XOR salt, as the first 12 bytes of J0.
static inline void gcm_iv(const struct msab_srtp_aes *aes, uint32_t ssrc, uint64_t index, uint8_t *iv) {
    memcpy(iv, aes->salt, 12);
    iv[2] ^= (uint8_t)(ssrc >> 24);
    iv[3] ^= (uint8_t)(ssrc >> 16);
    iv[4] ^= (uint8_t)(ssrc >> 8);
    iv[5] ^= (uint8_t)ssrc;
    for (int k = 0; k < 6; k++) iv[6 + k] ^= (uint8_t)(index >> (40 - 8 * k));
    iv[12] = iv[13] = iv[14] = iv[15] = 0;
}

/// The tag: GHASH(aad ‖ aad2, ciphertext) XOR E(K, J0).
MSAB_TARGET static __m128i gcm_tag(const struct msab_srtp_aes *aes, __m128i j0, const uint8_t *aad, size_t aad_length,
                                   const uint8_t *aad2, size_t aad2_length, const uint8_t *ciphertext, size_t length) {
    ghash_state g;
    g.x = _mm_setzero_si128();
    g.count = 0;
    g.used = 0;
    ghash_absorb(&g, aes->h, aad, aad_length);
    if (aad2_length > 0) ghash_absorb(&g, aes->h, aad2, aad2_length);
    ghash_pad(&g, aes->h);
    ghash_absorb(&g, aes->h, ciphertext, length);
    ghash_pad(&g, aes->h);
    // len(A) ‖ len(C) in bits; reflected, len(C) is the low half.
    __m128i lengths = _mm_set_epi64x((long long)((uint64_t)(aad_length + aad2_length) * 8), (long long)((uint64_t)length * 8));
    g.pending[g.count++] = lengths;
    ghash_flush(&g, aes->h);
    __m128i s = byte_reverse(g.x);
    return _mm_xor_si128(s, encrypt1(aes, j0));
}

MSAB_TARGET static void gcm_seal(const struct msab_srtp_aes *aes, uint32_t ssrc, uint64_t index, const uint8_t *aad, size_t aad_length,
                                 const uint8_t *aad2, size_t aad2_length, uint8_t *data, size_t length, uint8_t *tag) {
    uint8_t iv[16];
    gcm_iv(aes, ssrc, index, iv);
    __m128i base = _mm_loadu_si128((const __m128i *)iv);
    ctr_xor(aes, base, 2, data, length);
    __m128i j0 = _mm_insert_epi32(base, (int)__builtin_bswap32(1), 3);
    _mm_storeu_si128((__m128i *)tag, gcm_tag(aes, j0, aad, aad_length, aad2, aad2_length, data, length));
}

MSAB_TARGET static int gcm_open(const struct msab_srtp_aes *aes, uint32_t ssrc, uint64_t index, const uint8_t *aad, size_t aad_length,
                                const uint8_t *aad2, size_t aad2_length, uint8_t *data, size_t length, const uint8_t *tag) {
    uint8_t iv[16];
    gcm_iv(aes, ssrc, index, iv);
    __m128i base = _mm_loadu_si128((const __m128i *)iv);
    __m128i j0 = _mm_insert_epi32(base, (int)__builtin_bswap32(1), 3);
    __m128i expected = gcm_tag(aes, j0, aad, aad_length, aad2, aad2_length, data, length);
    // Constant time: one compare of all 16 bytes.
    __m128i difference = _mm_xor_si128(expected, _mm_loadu_si128((const __m128i *)tag));
    if (!_mm_testz_si128(difference, difference)) return 0;
    ctr_xor(aes, base, 2, data, length);
    return 1;
}

MSAB_TARGET static void cm_xor(const struct msab_srtp_aes *aes, uint32_t ssrc, uint64_t index, uint8_t *data, size_t length) {
    // RFC 3711 §4.1.1: IV = (salt · 2^16) XOR (SSRC · 2^64) XOR (index · 2^16); the block
    // counter runs in the low 16 bits (they start at 0).
    uint8_t iv[16] = {0};
    memcpy(iv, aes->salt, 14);
    iv[4] ^= (uint8_t)(ssrc >> 24);
    iv[5] ^= (uint8_t)(ssrc >> 16);
    iv[6] ^= (uint8_t)(ssrc >> 8);
    iv[7] ^= (uint8_t)ssrc;
    for (int k = 0; k < 6; k++) iv[8 + k] ^= (uint8_t)(index >> (40 - 8 * k));
    iv[14] = iv[15] = 0;
    uint32_t counter = (uint32_t)iv[12] << 24 | (uint32_t)iv[13] << 16;
    ctr_xor(aes, _mm_loadu_si128((const __m128i *)iv), counter, data, length);
}

MSAB_TARGET static void key_init(struct msab_srtp_aes *aes, const uint8_t *key, int key_length) {
    if (key_length == 32) {
        expand256(aes->rk, key);
        aes->rounds = 14;
    } else {
        expand128(aes->rk, key);
        aes->rounds = 10;
    }
    __m128i h = byte_reverse(encrypt1(aes, _mm_setzero_si128()));
    aes->h[0] = h;
    for (int k = 1; k < 4; k++) aes->h[k] = gfmul(aes->h[k - 1], h);
}

// MARK: API

msab_srtp_aes *msab_srtp_aes_new(const uint8_t *key, int key_length, const uint8_t *salt, int salt_length) {
    if ((key_length != 16 && key_length != 32) || salt_length < 0 || salt_length > 14 || !msab_aesni_available()) return NULL;
    size_t size = (sizeof(struct msab_srtp_aes) + 63) / 64 * 64;
    struct msab_srtp_aes *aes = aligned_alloc(64, size);
    if (aes == NULL) return NULL;
    memset(aes, 0, size);
    key_init(aes, key, key_length);
    memcpy(aes->salt, salt, (size_t)salt_length);
    return aes;
}

void msab_srtp_aes_free(msab_srtp_aes *aes) {
    if (aes == NULL) return;
    // The key schedule is key material: clear it before the memory is reused.
    size_t size = (sizeof(struct msab_srtp_aes) + 63) / 64 * 64;
    volatile uint8_t *bytes = (volatile uint8_t *)aes;
    for (size_t i = 0; i < size; i++) bytes[i] = 0;
    free(aes);
}

void msab_srtp_aes_prefetch(const msab_srtp_aes *aes) {
    const char *p = (const char *)aes;
    for (size_t i = 0; i < sizeof(struct msab_srtp_aes); i += 64) __builtin_prefetch(p + i, 0, 3);
}

void msab_srtp_gcm_seal(const msab_srtp_aes *aes, uint32_t ssrc, uint64_t index, const uint8_t *aad, size_t aad_length,
                        const uint8_t *aad2, size_t aad2_length, uint8_t *data, size_t length, uint8_t *tag) {
    gcm_seal(aes, ssrc, index, aad, aad_length, aad2, aad2_length, data, length, tag);
}

int msab_srtp_gcm_open(const msab_srtp_aes *aes, uint32_t ssrc, uint64_t index, const uint8_t *aad, size_t aad_length,
                       const uint8_t *aad2, size_t aad2_length, uint8_t *data, size_t length, const uint8_t *tag) {
    return gcm_open(aes, ssrc, index, aad, aad_length, aad2, aad2_length, data, length, tag);
}

void msab_srtp_ctr(const msab_srtp_aes *aes, uint32_t ssrc, uint64_t index, uint8_t *data, size_t length) {
    cm_xor(aes, ssrc, index, data, length);
}

#else  // no AES-NI on this architecture: SRTPCipher keeps to OpenSSL.

struct msab_srtp_aes {
    int unused;
};

int msab_aesni_available(void) { return 0; }
msab_srtp_aes *msab_srtp_aes_new(const uint8_t *key, int key_length, const uint8_t *salt, int salt_length) {
    (void)key, (void)key_length, (void)salt, (void)salt_length;
    return NULL;
}
void msab_srtp_aes_free(msab_srtp_aes *aes) { (void)aes; }
void msab_srtp_aes_prefetch(const msab_srtp_aes *aes) { (void)aes; }
void msab_srtp_gcm_seal(const msab_srtp_aes *aes, uint32_t ssrc, uint64_t index, const uint8_t *aad, size_t aad_length,
                        const uint8_t *aad2, size_t aad2_length, uint8_t *data, size_t length, uint8_t *tag) {
    (void)aes, (void)ssrc, (void)index, (void)aad, (void)aad_length, (void)aad2, (void)aad2_length, (void)data, (void)length, (void)tag;
}
int msab_srtp_gcm_open(const msab_srtp_aes *aes, uint32_t ssrc, uint64_t index, const uint8_t *aad, size_t aad_length,
                       const uint8_t *aad2, size_t aad2_length, uint8_t *data, size_t length, const uint8_t *tag) {
    (void)aes, (void)ssrc, (void)index, (void)aad, (void)aad_length, (void)aad2, (void)aad2_length, (void)data, (void)length, (void)tag;
    return 0;
}
void msab_srtp_ctr(const msab_srtp_aes *aes, uint32_t ssrc, uint64_t index, uint8_t *data, size_t length) {
    (void)aes, (void)ssrc, (void)index, (void)data, (void)length;
}

#endif
