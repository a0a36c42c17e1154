import DTLS
import NIOCore

/// Two endpoints wired together in memory (swift-nio-http2 `interactInMemory`, swift-nio-ssh
/// `dripFeed`): datagrams written by one side are delivered to the other, optionally one per
/// step, optionally dropped by a filter.
final class DTLSPair {
    enum Side: Hashable { case a, b }

    let a: DTLSEndpoint
    let b: DTLSEndpoint
    /// The fake clock handed to the endpoints; only moves when a test moves it.
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    /// Sent datagrams, in order, per side (what the wire saw, before any drop).
    private(set) var sent: [Side: [ByteBuffer]] = [.a: [], .b: []]
    /// Return true to lose a datagram: (sender, index of that sender's datagram).
    var drop: (Side, Int) -> Bool = { _, _ in false }
    private var inFlight: [Side: [ByteBuffer]] = [.a: [], .b: []]

    init(a: DTLSEndpoint, b: DTLSEndpoint) {
        self.a = a
        self.b = b
    }

    static let certificateA = try! DTLSCertificate(commonName: "a")
    static let certificateB = try! DTLSCertificate(commonName: "b")

    /// A (role `aRole`) and B (the other role), each knowing the other's sha-256 fingerprint
    /// unless told otherwise.
    static func make(
        aRole: DTLSEndpoint.Role = .client,
        aProfiles: [DTLSSRTPProfile] = DTLSSRTPProfile.defaultOffer,
        bProfiles: [DTLSSRTPProfile] = DTLSSRTPProfile.defaultOffer,
        aKnowsB: [DTLSFingerprint]? = nil,
        bKnowsA: [DTLSFingerprint]? = nil,
        initialTimeout: TimeAmount = .milliseconds(100)
    ) throws -> DTLSPair {
        let a = try DTLSEndpoint(
            role: aRole, certificate: certificateA, srtpProfiles: aProfiles,
            remoteFingerprints: aKnowsB ?? [certificateB.fingerprint(.sha256)], initialRetransmitTimeout: initialTimeout)
        let b = try DTLSEndpoint(
            role: aRole == .client ? .server : .client, certificate: certificateB, srtpProfiles: bProfiles,
            remoteFingerprints: bKnowsA ?? [certificateA.fingerprint(.sha256)], initialRetransmitTimeout: initialTimeout)
        return DTLSPair(a: a, b: b)
    }

    func endpoint(_ side: Side) -> DTLSEndpoint { side == .a ? self.a : self.b }

    func start() {
        self.a.start(now: self.now)
        self.b.start(now: self.now)
    }

    /// Moves every datagram each endpoint has queued into the wire (applying `drop`).
    func collect() {
        for side in [Side.a, .b] {
            while let datagram = self.endpoint(side).pollDatagram() {
                let index = self.sent[side]!.count
                self.sent[side]!.append(datagram)
                if !self.drop(side, index) {
                    self.inFlight[side]!.append(datagram)
                }
            }
        }
    }

    var idle: Bool {
        self.collect()
        return self.inFlight[.a]!.isEmpty && self.inFlight[.b]!.isEmpty
    }

    /// Delivers until nothing is in flight. `dripFeed`: one datagram per step, alternating
    /// sides; otherwise everything one side has, then everything the other has.
    /// Returns the number of delivery steps.
    @discardableResult
    func run(dripFeed: Bool = false, maxSteps: Int = 500) -> Int {
        var steps = 0
        var turn = Side.a
        while steps < maxSteps {
            self.collect()
            if self.inFlight[.a]!.isEmpty && self.inFlight[.b]!.isEmpty { break }
            let from = self.inFlight[turn]!.isEmpty ? (turn == .a ? Side.b : Side.a) : turn
            let to = from == .a ? Side.b : Side.a
            if dripFeed {
                let datagram = self.inFlight[from]!.removeFirst()
                self.endpoint(to).handleDatagram(datagram, now: self.now)
            } else {
                let batch = self.inFlight[from]!
                self.inFlight[from] = []
                for datagram in batch { self.endpoint(to).handleDatagram(datagram, now: self.now) }
            }
            turn = to
            steps += 1
        }
        return steps
    }

    var bothConnected: Bool {
        if case .connected = self.a.state, case .connected = self.b.state { return true }
        return false
    }

    static func connection(_ endpoint: DTLSEndpoint) -> DTLSConnection? {
        if case .connected(let connection) = endpoint.state { return connection }
        return nil
    }
}
