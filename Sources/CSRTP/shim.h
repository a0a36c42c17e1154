// libsrtp2 from Debian's libsrtp2-dev. The policy set-up is written in C because the policy
// struct's unions and the crypto-policy setters are awkward from Swift.
#ifndef MSAB_CSRTP_SHIM_H
#define MSAB_CSRTP_SHIM_H
#include <srtp2/srtp.h>
#include <string.h>

/// profile: 0 AEAD_AES_256_GCM, 1 AEAD_AES_128_GCM, 2 AES_CM_128_HMAC_SHA1_80, 3 AES_CM_128_HMAC_SHA1_32.
/// direction: 0 inbound, 1 outbound. Returns srtp_err_status_ok (0) on success.
static inline int msab_srtp_create(srtp_t *session, int profile, int direction, const unsigned char *key_and_salt) {
    srtp_policy_t policy;
    memset(&policy, 0, sizeof policy);
    switch (profile) {
    case 0:
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtcp);
        break;
    case 1:
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
        break;
    case 2:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
        break;
    case 3:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
        // RFC 5764 §4.1.2: SRTCP keeps the 80-bit tag with the _32 profile.
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
        break;
    default:
        return -1;
    }
    policy.ssrc.type = direction == 0 ? ssrc_any_inbound : ssrc_any_outbound;
    policy.ssrc.value = 0;
    policy.key = (unsigned char *)key_and_salt;
    policy.window_size = 1024;
    policy.allow_repeat_tx = 1;
    policy.next = NULL;
    return (int)srtp_create(session, &policy);
}
#endif
