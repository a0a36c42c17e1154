import CSRTP

/// One-time libsrtp initialisation (mediasoup `DepLibSRTP::ClassInit`).
///
/// `srtp_init()` registers the cipher and auth types in libsrtp's global crypto kernel and
/// must run once before any `srtp_create`. A `static let` gives exactly-once, thread-safe
/// lazy initialisation; every ``SRTPSession`` init goes through ``ensureInitialized()``.
/// We never call `srtp_shutdown()`: sessions may live until process exit.
public enum LibSRTP {
    private static let initStatus: Int32 = Int32(bitPattern: srtp_init().rawValue)

    /// Initialises libsrtp if that has not happened yet; throws if `srtp_init()` failed.
    public static func ensureInitialized() throws(SRTPError) {
        let status = Self.initStatus
        guard status == 0 else { throw SRTPError(type: .initFail, status: status) }
    }

    /// libsrtp's version string, e.g. "libsrtp2 2.5.0".
    public static var version: String { String(cString: srtp_get_version_string()) }
}
