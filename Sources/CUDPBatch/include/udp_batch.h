// sendmmsg(2) for Swift. Glibc's module is built without _GNU_SOURCE, so neither `struct mmsghdr`
// nor `sendmmsg` reach Swift through it (swift-nio keeps the same wrapper in its internal
// CNIOLinux, which is not a product). Written by hand: no available package exports it.
#ifndef MSAB_UDP_BATCH_H
#define MSAB_UDP_BATCH_H

#include <sys/socket.h>

/// Layout-identical to Linux `struct mmsghdr` (checked in udp_batch.c).
struct msab_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

/// sendmmsg(fd, messages, count, MSG_DONTWAIT): the number of datagrams sent, or -1 with errno.
int msab_sendmmsg(int fd, struct msab_mmsghdr *messages, unsigned int count);

#endif
