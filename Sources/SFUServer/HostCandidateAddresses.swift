import NIOCore

/// Which addresses the ICE host candidates of every transport carry (issue 15 item 6).
///
/// mediasoup announces one address per `listenInfo`. msab listens on one socket per worker, and
/// with the defaults that socket is bound to the wildcard address, so one announced address
/// (127.0.0.1 until now) hid every other way in: Firefox never pairs a loopback candidate with its
/// own non-loopback addresses, and a phone on the same network cannot reach 127.0.0.1. A wildcard
/// socket receives on every local address, so each of them is a valid host candidate; we list the
/// usable ones, non-loopback first (what a remote peer can reach), loopback last (what a browser
/// on this machine with `--allow-loopback-in-peer-connection` may still pick).
///
/// Pure: the interface addresses are an argument, so the order and the filters are testable.
public enum HostCandidateAddresses {
    /// A bound on the candidates per transport: every one is a line in each SDP and a candidate
    /// pair every browser checks; a machine with dozens of addresses (containers, VPNs) should not
    /// make each join heavier.
    public static let maximumCount = 8

    /// The addresses to announce, best first.
    ///
    /// - `announcedIP` set: only it (operators behind NAT name their public address).
    /// - `listenIP` a specific address: only it.
    /// - `0.0.0.0`: the IPv4 interface addresses; `::` (dual-stack on Linux): IPv4 and IPv6.
    ///   Link-local addresses are left out (IPv6 ones need a zone the browser cannot use;
    ///   169.254/16 is not routed), so are IPv4-mapped and unspecified ones.
    /// - nothing usable found: 127.0.0.1 (or ::1 on an IPv6-only wildcard), the old default.
    public static func select(listenIP: String, announcedIP: String?, interfaceAddresses: [String]) -> [String] {
        if let announcedIP, !announcedIP.isEmpty { return [announcedIP] }
        let wildcardV4 = listenIP == "0.0.0.0"
        let wildcardV6 = listenIP == "::"
        guard wildcardV4 || wildcardV6 else { return [listenIP] }
        var remote: [String] = []
        var remoteV6: [String] = []
        var loopback: [String] = []
        var seen = Set<String>()
        for raw in interfaceAddresses {
            // getifaddrs may give an IPv6 address with a zone ("fe80::1%eth0"); those are link-local anyway.
            guard !raw.contains("%"), seen.insert(raw).inserted, let kind = classify(raw) else { continue }
            switch kind {
            case .v4Loopback: loopback.append(raw)
            case .v6Loopback: if wildcardV6 { loopback.append(raw) }
            case .v4: remote.append(raw)
            case .v6: if wildcardV6 { remoteV6.append(raw) }
            case .unusable: break
            }
        }
        // 127.0.0.1 before other loopback addresses (the one everyone's tools expect).
        loopback.sort { lhs, rhs in lhs == "127.0.0.1" && rhs != "127.0.0.1" }
        let all = remote + remoteV6 + loopback
        if all.isEmpty { return [wildcardV4 ? "127.0.0.1" : "::1"] }
        return Array(all.prefix(maximumCount))
    }

    /// The IP addresses of this machine's network interfaces (`getifaddrs(3)` through NIO).
    public static func localInterfaceAddresses() -> [String] {
        guard let devices = try? System.enumerateDevices() else { return [] }
        return devices.compactMap { $0.address?.ipAddress }
    }

    enum Kind {
        case v4, v6, v4Loopback, v6Loopback, unusable
    }

    static func classify(_ address: String) -> Kind? {
        if address.contains(":") {
            let lower = address.lowercased()
            if lower == "::1" { return .v6Loopback }
            if lower == "::" || lower.hasPrefix("fe8") || lower.hasPrefix("fe9") || lower.hasPrefix("fea") || lower.hasPrefix("feb")
                || lower.hasPrefix("::ffff:") || lower.hasPrefix("ff")
            {
                return .unusable
            }
            return .v6
        }
        let octets = address.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else { return nil }
        if octets[0] == "127" { return .v4Loopback }
        if octets[0] == "0" || (octets[0] == "169" && octets[1] == "254") || (UInt8(octets[0]) ?? 0) >= 224 { return .unusable }
        return .v4
    }
}
