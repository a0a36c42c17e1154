import COpenSSL
import NIOCore

/// One-time OpenSSL setup for the DTLS module (mediasoup `DepOpenSSL::ClassInit`): library
/// init plus the process-wide `BIO_METHOD` that turns every record OpenSSL writes into one
/// outgoing datagram. Everything runs once, lazily and thread-safely, through `static let`.
enum LibOpenSSL {
    private struct Globals: @unchecked Sendable {
        /// `BIO_METHOD *` for the outgoing side, never freed (process lifetime).
        let datagramWriteMethod: OpaquePointer
    }

    private static let globals: Globals = {
        // OpenSSL 3 initialises itself on first use; calling it explicitly makes failures early and visible.
        _ = OPENSSL_init_ssl(0, nil)
        let type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK
        guard let method = BIO_meth_new(type, "msab-datagram-out") else {
            fatalError("BIO_meth_new failed: \(LibOpenSSL.drainErrors())")
        }
        BIO_meth_set_write(method, datagramBIOWrite)
        BIO_meth_set_ctrl(method, datagramBIOControl)
        BIO_meth_set_create(method, datagramBIOCreate)
        return Globals(datagramWriteMethod: method)
    }()

    /// Runs the one-time setup if it has not run yet.
    static func ensureInitialized() {
        _ = Self.globals
    }

    /// The `BIO_METHOD *` for ``DatagramOutbox``-backed write BIOs.
    static var datagramWriteMethod: OpaquePointer { Self.globals.datagramWriteMethod }

    /// Empties OpenSSL's thread-local error queue into one string for diagnostics.
    static func drainErrors() -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? "no OpenSSL error queued" : messages.joined(separator: "; ")
    }
}

/// Per-endpoint state the C callbacks reach through `BIO_get_data` / `SSL_get_ex_data(ssl, 0)`.
/// Owned by ``DTLSEndpoint`` (which keeps it alive longer than its `SSL *`).
final class DatagramOutbox {
    /// Datagrams OpenSSL wrote, oldest first; one element per `BIO_write` = one DTLS record
    /// (or, for OpenSSL's own packing, whatever it handed over in one write). RFC 6347 §4.1.1
    /// allows one record per datagram.
    var datagrams: [ByteBuffer] = []
    var head = 0
    /// Initial retransmission timeout in microseconds (DTLS_set_timer_cb); doubles per retry.
    var initialTimeoutMicroseconds: UInt32
    /// Upper bound for the doubling.
    var maximumTimeoutMicroseconds: UInt32
    /// The last alert the peer sent: (level, description) of RFC 5246 §7.2.
    var receivedAlert: (level: UInt8, description: UInt8)?
    let allocator = ByteBufferAllocator()

    init(initialTimeoutMicroseconds: UInt32, maximumTimeoutMicroseconds: UInt32) {
        self.initialTimeoutMicroseconds = initialTimeoutMicroseconds
        self.maximumTimeoutMicroseconds = maximumTimeoutMicroseconds
    }

    func push(_ bytes: UnsafeRawBufferPointer) {
        var buffer = self.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        self.datagrams.append(buffer)
    }

    func pop() -> ByteBuffer? {
        guard self.head < self.datagrams.count else { return nil }
        let datagram = self.datagrams[self.head]
        self.head += 1
        if self.head == self.datagrams.count {
            self.datagrams.removeAll(keepingCapacity: true)
            self.head = 0
        }
        return datagram
    }

    var isEmpty: Bool { self.head >= self.datagrams.count }

    static func from(_ pointer: UnsafeMutableRawPointer?) -> DatagramOutbox? {
        guard let pointer else { return nil }
        return Unmanaged<DatagramOutbox>.fromOpaque(pointer).takeUnretainedValue()
    }
}

// MARK: - C callbacks (no captures: context comes from BIO/SSL data pointers)

private let datagramBIOCreate: @convention(c) (OpaquePointer?) -> Int32 = { bio in
    BIO_set_init(bio, 1)
    return 1
}

private let datagramBIOWrite: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32) -> Int32 = { bio, data, length in
    guard let data, length > 0, let outbox = DatagramOutbox.from(BIO_get_data(bio)) else { return 0 }
    outbox.push(UnsafeRawBufferPointer(start: data, count: Int(length)))
    return length
}

private let datagramBIOControl: @convention(c) (OpaquePointer?, Int32, Int, UnsafeMutableRawPointer?) -> Int = {
    _, command, _, _ in
    switch command {
    case BIO_CTRL_FLUSH:
        return 1  // datagrams are queued as written; nothing buffered here
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
        // DTLS_set_link_mtu(1200) then means 1200 bytes of DTLS per datagram; IP/UDP headers
        // come on top, well inside any path MTU a WebRTC peer uses.
        return 0
    case BIO_CTRL_WPENDING, BIO_CTRL_PENDING:
        return 0
    default:
        return 0  // unsupported (QUERY_MTU is off via SSL_OP_NO_QUERY_MTU; peer-address ctrls do not apply)
    }
}

/// Retransmission timer schedule (OpenSSL calls it with 0 when a flight starts, then with the
/// previous value): initial timeout, doubling (RFC 6347 §4.2.4.1), capped.
let dtlsTimerCallback: @convention(c) (OpaquePointer?, UInt32) -> UInt32 = { ssl, previous in
    guard let outbox = DatagramOutbox.from(SSL_get_ex_data(ssl, 0)) else { return previous == 0 ? 1_000_000 : previous * 2 }
    if previous == 0 { return outbox.initialTimeoutMicroseconds }
    return min(previous.multipliedReportingOverflow(by: 2).partialValue, outbox.maximumTimeoutMicroseconds)
}

/// Records alerts the peer sends (SSL_CB_READ | SSL_CB_ALERT); `value` is level << 8 | description.
let dtlsInfoCallback: @convention(c) (OpaquePointer?, Int32, Int32) -> Void = { ssl, type, value in
    guard type & SSL_CB_ALERT != 0, type & SSL_CB_READ != 0 else { return }
    guard let outbox = DatagramOutbox.from(SSL_get_ex_data(ssl, 0)) else { return }
    outbox.receivedAlert = (UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value))
}

/// Accepts any certificate chain during the handshake: WebRTC peers use self-signed
/// certificates, authenticated afterwards by the signalled fingerprint (RFC 8122 §5, RFC 5763 §5),
/// which ``DTLSEndpoint`` checks before it reports `connected`.
let dtlsVerifyCallback: @convention(c) (Int32, OpaquePointer?) -> Int32 = { _, _ in 1 }
