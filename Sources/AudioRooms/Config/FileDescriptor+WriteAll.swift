import Foundation

/// write(2) until every byte is out, retrying EINTR and short writes. Returns 0, or the errno of
/// the write that failed. Shared by the secret files (`DataDirectory`) and the gift journals
/// (`JournalFile`), which each need "all of it or an error" on a raw descriptor.
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
    guard let base = bytes.baseAddress else { return 0 }
    var offset = 0
    while offset < bytes.count {
        let written = write(fd, base + offset, bytes.count - offset)
        if written < 0 {
            if errno == EINTR { continue }
            return errno
        }
        offset += written
    }
    return 0
}
