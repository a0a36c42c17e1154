// A cache prefetch hint for Swift, which has no intrinsic for it. Written by hand: no available
// package exports one. The fan-out touches each consumer's state (consumer, transport, SRTP
// session and cipher) once per packet; with thousands of consumers that state is out of cache,
// so the loop asks for the next consumers' lines while it works on the current one.
#ifndef MSAB_PREFETCH_H
#define MSAB_PREFETCH_H

static inline void msab_prefetch(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// The first `lines` cache lines (64 bytes each) from `address`.
static inline void msab_prefetch_lines(const void *address, int lines) {
    const char *p = (const char *)address;
    for (int i = 0; i < lines; i++) __builtin_prefetch(p + 64 * i, 1, 3);
}

#endif
