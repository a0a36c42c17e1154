// libopus from Debian's libopus-dev (used by tests and benchmarks to make and check real Opus audio).
// opus_encoder_ctl is variadic: wrap the requests we use.
#ifndef MSAB_COPUS_SHIM_H
#define MSAB_COPUS_SHIM_H
#include <opus/opus.h>
static inline int msab_opus_set_bitrate(OpusEncoder *enc, opus_int32 bitrate) { return opus_encoder_ctl(enc, OPUS_SET_BITRATE(bitrate)); }
#endif
