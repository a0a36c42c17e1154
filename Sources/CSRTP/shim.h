// libsrtp2 from Debian's libsrtp2-dev: test-only, the oracle the SRTP module is compared with
// packet for packet (the product does SRTP on OpenSSL; see Sources/SRTP/SRTPSession.swift).
#ifndef MSAB_CSRTP_SHIM_H
#define MSAB_CSRTP_SHIM_H
#include <srtp2/srtp.h>
#endif
