#if canImport(Glibc)
import Glibc
#endif

/// A media socket could not be made or bound (e.g. the port is taken).
struct MediaSocketError: Error, CustomStringConvertible {
    let operation: String
    let errno: Int32
    var description: String { "\(operation): \(String(cString: strerror(errno)))" }
}
