public import DTLS

/// The part of an SDP (RFC 8866, JSEP RFC 8829) that an audio-only, Opus-only WebRTC leg needs:
/// ICE credentials and candidates (RFC 8839), the DTLS fingerprint and setup role (RFC 8122,
/// RFC 5763), the m-line's mid, direction and the Opus payload type. It is what the load test
/// exchanges with Janus, whose API carries SDP where msab's carries mediasoup's JSON parameters.
///
/// Only the first audio m-section is read; a session-level attribute applies when the section
/// has none (ice-ufrag/pwd, fingerprint, setup may sit at either level, RFC 8839 §5.4).
/// Parsing is bounded (size, lines, candidates) because the text comes from the network.
public struct AudioSessionDescription: Sendable, Hashable {
    /// `a=setup:` (RFC 4145 §4 as used by RFC 5763 §5).
    public enum Setup: String, Sendable, Hashable {
        case active, passive, actpass, holdconn
    }

    /// `a=sendrecv` and the others (RFC 8866 §6.7).
    public enum Direction: String, Sendable, Hashable {
        case sendrecv, sendonly, recvonly, inactive
    }

    /// A UDP host/srflx/prflx/relay candidate's transport address (TCP candidates are skipped:
    /// the load test's legs are UDP).
    public struct Candidate: Sendable, Hashable {
        public var address: String
        public var port: Int
        public var priority: UInt32

        public init(address: String, port: Int, priority: UInt32) {
            self.address = address
            self.port = port
            self.priority = priority
        }
    }

    public var iceLite = false
    public var usernameFragment: String
    public var password: String
    public var fingerprints: [DTLSFingerprint]
    public var setup: Setup
    public var mid: String
    public var direction: Direction
    /// The payload type mapped to `opus/48000/2`.
    public var opusPayloadType: UInt8
    /// UDP candidates, highest priority first.
    public var candidates: [Candidate]
    /// `a=ssrc:` of the section, if any (the sender's SSRC).
    public var ssrc: UInt32?

    /// Bounds on what ``parse(_:)`` accepts.
    public static let maximumBytes = 64 * 1024
    public static let maximumLines = 2_000
    public static let maximumCandidates = 32

    public init(
        iceLite: Bool = false, usernameFragment: String, password: String, fingerprints: [DTLSFingerprint], setup: Setup, mid: String = "0",
        direction: Direction, opusPayloadType: UInt8 = 111, candidates: [Candidate], ssrc: UInt32? = nil
    ) {
        self.iceLite = iceLite
        self.usernameFragment = usernameFragment
        self.password = password
        self.fingerprints = fingerprints
        self.setup = setup
        self.mid = mid
        self.direction = direction
        self.opusPayloadType = opusPayloadType
        self.candidates = candidates
        self.ssrc = ssrc
    }

    // MARK: - Parse

    /// Why a description was not usable.
    public enum ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        case tooLarge
        case noAudioSection
        case missing(String)
        case noOpus

        public var description: String {
            switch self {
            case .tooLarge: "SDP too large"
            case .noAudioSection: "SDP has no audio m-section"
            case .missing(let what): "SDP lacks \(what)"
            case .noOpus: "SDP's audio section offers no opus/48000/2"
            }
        }
    }

    /// Reads the first audio m-section (and the session level above it).
    public static func parse(_ sdp: String) throws(ParseError) -> AudioSessionDescription {
        guard sdp.utf8.count <= maximumBytes else { throw .tooLarge }
        let lines = sdp.split(omittingEmptySubsequences: true) { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }
        guard lines.count <= maximumLines else { throw .tooLarge }

        var session = Attributes()
        var media = Attributes()
        var section = Section.session
        var payloadTypes: [UInt8] = []
        for line in lines {
            if line.hasPrefix("m=") {
                if section == .audio { break }  // only the first audio section
                let fields = line.dropFirst(2).split(separator: " ")
                if fields.first == "audio" {
                    section = .audio
                    payloadTypes = fields.dropFirst(3).compactMap { UInt8($0) }
                } else {
                    section = .other
                }
                continue
            }
            guard line.hasPrefix("a=") else { continue }
            switch section {
            case .session: session.read(line.dropFirst(2))
            case .audio: media.read(line.dropFirst(2))
            case .other: continue
            }
        }
        guard section == .audio else { throw .noAudioSection }
        guard let ufrag = media.ufrag ?? session.ufrag else { throw .missing("a=ice-ufrag") }
        guard let pwd = media.pwd ?? session.pwd else { throw .missing("a=ice-pwd") }
        let fingerprints = media.fingerprints.isEmpty ? session.fingerprints : media.fingerprints
        guard !fingerprints.isEmpty else { throw .missing("a=fingerprint with a known hash") }
        guard let opus = media.opusPayloadTypes.first(where: { payloadTypes.contains($0) }) else { throw .noOpus }
        return AudioSessionDescription(
            iceLite: session.iceLite || media.iceLite, usernameFragment: ufrag, password: pwd, fingerprints: fingerprints,
            setup: media.setup ?? session.setup ?? .actpass, mid: media.mid ?? "0", direction: media.direction ?? session.direction ?? .sendrecv,
            opusPayloadType: opus, candidates: media.candidates.sorted { $0.priority > $1.priority }, ssrc: media.ssrc)
    }

    // MARK: - Render

    /// The SDP text (CRLF lines): one bundled, rtcp-muxed audio section with Opus only and the
    /// candidates in it (no trickle), as a browser would send after gathering.
    public func render(sessionID: UInt64 = 1) -> String {
        var lines = [
            "v=0", "o=- \(sessionID) 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE \(mid)", "a=msid-semantic: WMS",
        ]
        if iceLite { lines.append("a=ice-lite") }
        let connection = candidates.first.map { "IN IP\($0.address.contains(":") ? 6 : 4) \($0.address)" } ?? "IN IP4 0.0.0.0"
        lines += [
            "m=audio \(candidates.first?.port ?? 9) UDP/TLS/RTP/SAVPF \(opusPayloadType)", "c=\(connection)",
            "a=rtcp:\(candidates.first?.port ?? 9) \(connection)",
            "a=ice-ufrag:\(usernameFragment)", "a=ice-pwd:\(password)", "a=ice-options:trickle",
        ]
        for fingerprint in fingerprints { lines.append("a=fingerprint:\(fingerprint.algorithm.rawValue) \(fingerprint.value)") }
        lines += [
            "a=setup:\(setup.rawValue)", "a=mid:\(mid)", "a=\(direction.rawValue)", "a=rtcp-mux",
            "a=rtpmap:\(opusPayloadType) opus/48000/2", "a=fmtp:\(opusPayloadType) minptime=10;useinbandfec=1",
        ]
        if let ssrc { lines.append("a=ssrc:\(ssrc) cname:msab-loadtest") }
        for (index, candidate) in candidates.enumerated() {
            lines.append("a=candidate:\(index + 1) 1 udp \(candidate.priority) \(candidate.address) \(candidate.port) typ host")
        }
        lines.append("a=end-of-candidates")
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    // MARK: - Private

    private enum Section { case session, audio, other }

    /// The attributes read at one level.
    private struct Attributes {
        var iceLite = false
        var ufrag: String?
        var pwd: String?
        var fingerprints: [DTLSFingerprint] = []
        var setup: Setup?
        var mid: String?
        var direction: Direction?
        var opusPayloadTypes: [UInt8] = []
        var candidates: [Candidate] = []
        var ssrc: UInt32?

        /// One `a=` line without the `a=`.
        mutating func read(_ attribute: Substring) {
            let name: Substring
            let value: Substring
            if let colon = attribute.firstIndex(of: ":") {
                name = attribute[..<colon]
                value = attribute[attribute.index(after: colon)...]
            } else {
                name = attribute
                value = ""
            }
            switch name {
            case "ice-lite": iceLite = true
            case "ice-ufrag": ufrag = String(value.prefix(256))
            case "ice-pwd": pwd = String(value.prefix(256))
            case "fingerprint":
                let parts = value.split(separator: " ")
                if parts.count == 2, fingerprints.count < 4, let fingerprint = DTLSFingerprint(algorithm: String(parts[0]), value: String(parts[1])) {
                    fingerprints.append(fingerprint)
                }
            case "setup": setup = Setup(rawValue: value.lowercased())
            case "mid": mid = String(value.prefix(32))
            case "sendrecv", "sendonly", "recvonly", "inactive": direction = Direction(rawValue: String(name))
            case "rtpmap":
                // "111 opus/48000/2"
                let parts = value.split(separator: " ", maxSplits: 1)
                if parts.count == 2, let type = UInt8(parts[0]), parts[1].lowercased().hasPrefix("opus/48000"), opusPayloadTypes.count < 8 {
                    opusPayloadTypes.append(type)
                }
            case "ssrc":
                if ssrc == nil, let first = value.split(separator: " ").first { ssrc = UInt32(first) }
            case "candidate":
                // foundation component transport priority address port "typ" type …
                let parts = value.split(separator: " ")
                guard parts.count >= 8, candidates.count < AudioSessionDescription.maximumCandidates, parts[1] == "1",
                    parts[2].lowercased() == "udp", let priority = UInt32(parts[3]), let port = Int(parts[5]), (1...65_535).contains(port),
                    !parts[4].hasSuffix(".local")  // mDNS names: nothing to resolve them with
                else { return }
                candidates.append(Candidate(address: String(parts[4].prefix(64)), port: port, priority: priority))
            default: break
            }
        }
    }
}
