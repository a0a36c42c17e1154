#define _GNU_SOURCE
#include "udp_batch.h"

#include <stddef.h>
#include <sys/socket.h>

#if defined(__linux__)
_Static_assert(sizeof(struct msab_mmsghdr) == sizeof(struct mmsghdr), "msab_mmsghdr must match mmsghdr");
_Static_assert(offsetof(struct msab_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len), "msab_mmsghdr must match mmsghdr");

int msab_sendmmsg(int fd, struct msab_mmsghdr *messages, unsigned int count) {
    return sendmmsg(fd, (struct mmsghdr *)messages, count, MSG_DONTWAIT);
}
#else
#include <errno.h>
// Elsewhere: one sendmsg per datagram (the same result, one syscall each).
int msab_sendmmsg(int fd, struct msab_mmsghdr *messages, unsigned int count) {
    unsigned int sent = 0;
    for (; sent < count; sent++) {
        ssize_t n = sendmsg(fd, &messages[sent].msg_hdr, MSG_DONTWAIT);
        if (n < 0) return sent > 0 ? (int)sent : -1;
        messages[sent].msg_len = (unsigned int)n;
    }
    return (int)sent;
}
#endif
