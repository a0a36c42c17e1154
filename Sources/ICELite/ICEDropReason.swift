/// Why the ICE-lite responder did not accept a datagram as a valid connectivity check. Each
/// rejection has a name so the transport can count and log it (style R6; mediasoup `DropReason`).
public enum ICEDropReason: String, Sendable, Hashable, CaseIterable {
    /// Not parseable as STUN.
    case malformed
    /// A STUN method other than Binding.
    case notBindingMethod
    /// A Binding indication or response: a lite agent only answers requests (RFC 8445 §2.5).
    case notARequest
    /// FINGERPRINT present and wrong (RFC 8445 §7.3: discard).
    case badFingerprint
    /// Comprehension-required attributes we do not know (RFC 5389 §7.3.1): answered with 420.
    case unknownAttributes
    /// USERNAME or MESSAGE-INTEGRITY missing (RFC 5389 §10.1.2): answered with 400.
    case missingCredentials
    /// USERNAME is not `<local ufrag>:<remote ufrag>` (RFC 8445 §7.3, RFC 5389 §10.1.2): answered with 401.
    case badUsername
    /// MESSAGE-INTEGRITY does not verify with the local password: answered with 401.
    case badIntegrity
    /// PRIORITY missing (RFC 8445 §7.1.1 makes it mandatory): answered with 400.
    case missingPriority
    /// The peer claims ICE-CONTROLLED too; a lite agent is always controlled (RFC 8445 §6.1.1,
    /// §7.3.1.1): answered with 487.
    case roleConflict
    /// The agent is closed.
    case closed
}
