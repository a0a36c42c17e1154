#define _GNU_SOURCE
#include "udp_batch.h"

#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

socklen_t msab_fill_sockaddr(struct sockaddr_in6 *storage, int is_ipv4, uint32_t ipv4, uint64_t ipv6_high,
                             uint64_t ipv6_low, uint16_t port) {
    memset(storage, 0, sizeof *storage);
    if (is_ipv4) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)storage;
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        v4->sin_addr.s_addr = htonl(ipv4);
        return (socklen_t)sizeof(struct sockaddr_in);
    }
    storage->sin6_family = AF_INET6;
    storage->sin6_port = htons(port);
    for (int i = 0; i < 8; i++) {
        storage->sin6_addr.s6_addr[i] = (uint8_t)(ipv6_high >> (56 - 8 * i));
        storage->sin6_addr.s6_addr[8 + i] = (uint8_t)(ipv6_low >> (56 - 8 * i));
    }
    return (socklen_t)sizeof(struct sockaddr_in6);
}

struct sockaddr_in6 msab_sockaddr_in6_zero(void) {
    struct sockaddr_in6 zero;
    memset(&zero, 0, sizeof zero);
    return zero;
}

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
