// sendmmsg(2) for Swift. Glibc's module is built without _GNU_SOURCE, so neither `struct mmsghdr`
// nor `sendmmsg` reach Swift through it (swift-nio keeps the same wrapper in its internal
// CNIOLinux, which is not a product). Written by hand: no available package exports it.
#ifndef MSAB_UDP_BATCH_H
#define MSAB_UDP_BATCH_H

#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

/// Layout-identical to Linux `struct mmsghdr` (checked in udp_batch.c).
struct msab_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

/// sendmmsg(fd, messages, count, MSG_DONTWAIT): the number of datagrams sent, or -1 with errno.
int msab_sendmmsg(int fd, struct msab_mmsghdr *messages, unsigned int count);

/// Writes an IPv4 (`is_ipv4` != 0: `ipv4`, host order) or IPv6 (`ipv6_high`‖`ipv6_low`, host
/// order) address and `port` (host order) into `storage`; returns the sockaddr's length. In C
/// because Swift release builds resolve `sockaddr_in`'s members through whichever clang module
/// imported <netinet/in.h> first (NIO's internal CNIOLinux), which Swift 6's member-import
/// visibility then refuses.
socklen_t msab_fill_sockaddr(struct sockaddr_in6 *storage, int is_ipv4, uint32_t ipv4, uint64_t ipv6_high,
                             uint64_t ipv6_low, uint16_t port);

/// An all-zero `sockaddr_in6`, for the same reason.
struct sockaddr_in6 msab_sockaddr_in6_zero(void);

#endif
