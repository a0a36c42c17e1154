import EngineIO
import Metrics

/// Why a Socket.IO connection was refused; the raw value is the exact `connect_error` message the
/// reference sends (contract §2.3), which clients match on.
public enum ConnectionRefusal: String, Error, Sendable, CaseIterable {
    case originNotAllowed = "Origin not allowed"
    case authenticationRequired = "Authentication required"
    case invalidCredentials = "Invalid credentials"
    case authenticationFailed = "Authentication failed"

    /// The `result` label of `msab_auth_attempts_total` (the reference's flylive_auth_attempts_total).
    var metricResult: String {
        switch self {
        case .originNotAllowed: "origin_blocked"
        case .authenticationRequired: "no_token"
        case .invalidCredentials: "invalid_token"
        case .authenticationFailed: "error"
        }
    }
}

/// What the handshake's `auth.token` held. JavaScript truthiness decides whether the reference
/// falls back to the `Authorization` header, so falsy values (`""`, `0`, `false`, `null`) count as
/// missing; a truthy non-string is refused as invalid instead of crashing (contract §11 quirk 10).
public enum HandshakeToken: Sendable, Equatable {
    case missing
    case string(String)
    case notAString
}

/// The connection middleware of contract §2.3, in its order: origin, token presence, Bearer
/// stripping, validation.
public struct ConnectionGate: Sendable {
    /// Allowed `Origin` values; `["*"]` allows any.
    public var allowedOrigins: [String]
    public var authenticator: any UserAuthenticator

    public init(allowedOrigins: [String], authenticator: any UserAuthenticator) {
        self.allowedOrigins = allowedOrigins
        self.authenticator = authenticator
    }

    /// Whether `origin` may connect: listed, `*` listed, or the server's own origin (the page msab
    /// serves at `/`, whatever `CORS_ORIGINS` says) for the handshake's `Host`.
    public func allows(origin: String, host: String?) -> Bool {
        allowedOrigins.contains("*") || allowedOrigins.contains(origin) || SameOrigin.matches(origin: origin, host: host)
    }

    public func admit(origin: String?, host: String? = nil, token: HandshakeToken, authorizationHeader: String?) async -> Result<
        AuthenticatedUser, ConnectionRefusal
    > {
        let result = await decide(origin: origin, host: host, token: token, authorizationHeader: authorizationHeader)
        let label: String
        switch result {
        case .success: label = "success"
        case .failure(let refusal): label = refusal.metricResult
        }
        Counter(label: "msab_auth_attempts_total", dimensions: [("result", label)]).increment()
        return result
    }

    private func decide(origin: String?, host: String?, token: HandshakeToken, authorizationHeader: String?) async -> Result<
        AuthenticatedUser, ConnectionRefusal
    > {
        if let origin, !allows(origin: origin, host: host) {
            return .failure(.originNotAllowed)
        }
        let raw: String
        switch token {
        case .notAString:
            return .failure(.invalidCredentials)
        case .string(let value) where !value.isEmpty:
            raw = value
        case .string, .missing:
            guard let header = authorizationHeader, !header.isEmpty else { return .failure(.authenticationRequired) }
            raw = header
        }
        let clean = Self.stripBearer(raw)
        guard !clean.isEmpty else { return .failure(.invalidCredentials) }
        do {
            guard let user = try await authenticator.authenticate(token: clean) else { return .failure(.invalidCredentials) }
            return .success(user)
        } catch {
            return .failure(.authenticationFailed)
        }
    }

    /// The reference's `/^Bearer\s+/i` replacement.
    public static func stripBearer(_ value: String) -> String {
        let scalars = Array(value.unicodeScalars)
        guard scalars.count > 6,
            String(String.UnicodeScalarView(scalars[0..<6])).lowercased() == "bearer",
            scalars[6].properties.isWhitespace
        else { return value }
        var index = 6
        while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
        return String(String.UnicodeScalarView(scalars[index...]))
    }
}
