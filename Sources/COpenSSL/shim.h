// OpenSSL from Debian's libssl-dev. Function-like macros and variadic functions are not
// imported by Swift: wrap each one used as a static inline function here.
#ifndef MSAB_COPENSSL_SHIM_H
#define MSAB_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/bio.h>
#include <openssl/rand.h>
#endif
