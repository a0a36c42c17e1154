// libsrtp2 from Debian's libsrtp2-dev.
#ifndef MSAB_CSRTP_SHIM_H
#define MSAB_CSRTP_SHIM_H
#include <srtp2/srtp.h>
#endif
