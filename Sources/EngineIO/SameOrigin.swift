/// Whether a request's `Origin` is the server's own origin: a page that the server itself served
/// (msab's demo at `/`) talking back to it. Such a page is allowed whatever `CORS_ORIGINS` says
/// (issue 15), because the allow-list exists to keep *other* sites' pages out.
///
/// The server's origin is read from the request's `Host` header, so it holds for every name and
/// address the server is reached by (127.0.0.1, a LAN address from a phone, a DNS name) with no
/// configuration. A cross-site page cannot make a browser send its own origin with msab's host.
/// DNS rebinding can (the attacker's name resolves to msab), but it gains nothing an allowed
/// origin would not have: msab authenticates with a token in the handshake, never with ambient
/// cookies, so a rebound page still needs a token it cannot read from anywhere.
public enum SameOrigin {
    /// True when `origin` is `http://HOST` or `https://HOST` for the request's `Host` header
    /// (ASCII case-insensitive, as host names are; the port must match as written).
    public static func matches(origin: String, host: String?) -> Bool {
        guard let host, !host.isEmpty, host.utf8.count <= 1_024 else { return false }
        let lowerOrigin = origin.lowercased()
        let lowerHost = host.lowercased()
        return lowerOrigin == "http://" + lowerHost || lowerOrigin == "https://" + lowerHost
    }
}
