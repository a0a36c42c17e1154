import NIOCore
import NIOPosix
import SocketIOParser

/// What a ``BroadcastReceiver`` reports to: the test that owns it (``BroadcastRunner``,
/// ``RoomFanoutRunner``). Called on the receiver's event loop.
protocol BroadcastReceiverOwner: AnyObject {
    /// The event whose deliveries are counted.
    var eventName: String { get }
    /// Connected (and, with a room, joined it).
    func receiverConnected(_ receiver: BroadcastReceiver)
    func receiverFailed(_ receiver: BroadcastReceiver, reason: String, wasConnected: Bool)
    /// Event number `seq` reached this receiver (on node `receiver.node`) at `time`.
    func receiverGot(seq: Int, receiver: BroadcastReceiver, at time: NIODeadline)
}

/// One signalling-only client of the broadcast tests: connects to one node, completes the
/// Socket.IO CONNECT with its token, joins `room` if it has one, and reports every owner's event
/// it receives by its number: the payload's `seq`, or a chat message's `content` holding the
/// number. It can also send (the room test's sender). Confined to its event loop (``stop()`` may be
/// called from anywhere: it hops there).
final class BroadcastReceiver: SignallingPeer, @unchecked Sendable {
    enum Phase: Sendable, Hashable {
        case connecting
        case connected
        case failed(String)
        case stopped
    }

    private(set) var phase: Phase = .connecting
    /// Which of the test's nodes this client is connected to (an index into its node list).
    let node: Int
    private unowned let owner: any BroadcastReceiverOwner
    let loop: any EventLoop
    private let host: String
    private let port: Int
    private let room: String?
    private var link: SignallingLink
    /// The `room:join` ack awaited before this client counts as connected.
    private var joinAck: Int?

    init(token: String, node: Int, host: String, port: Int, room: String? = nil, owner: any BroadcastReceiverOwner, loop: any EventLoop) {
        var generator = SystemRandomNumberGenerator()
        self.node = node
        self.owner = owner
        self.loop = loop
        self.host = host
        self.port = port
        self.room = room
        self.link = SignallingLink(token: token, using: &generator)
    }

    func start() {
        SignallingLink.bootstrap(on: loop, peer: self).connect(host: host, port: port).whenComplete { [self] result in
            switch result {
            case .success(let channel):
                if case .failed = phase {
                    channel.close(promise: nil)
                } else {
                    // The connect completes before the pipeline's channelActive: send the upgrade here.
                    link.open(channel, host: host, port: port)
                }
            case .failure(let error):
                fail("connect: \(error)")
            }
        }
    }

    /// Sends an event without an ack and flushes it (false when not connected).
    @discardableResult
    func send(_ name: String, _ payload: JSONValue) -> Bool {
        guard link.emit(name, payload) else { return false }
        link.flush()
        return true
    }

    func stop() {
        guard loop.inEventLoop else { return loop.execute { self.stop() } }
        if case .failed = phase {} else { phase = .stopped }
        link.close()
    }

    // MARK: - SignallingPeer

    func signallingActive() {}

    func signallingBytes(_ buffer: inout ByteBuffer) {
        for output in link.receive(&buffer) {
            switch output {
            case .send:
                break
            case .connected:
                if let room {
                    guard let id = link.emitWithAck("room:join", ["roomId": .string(room)]) else { return fail("room:join not sent") }
                    joinAck = id
                } else {
                    connected()
                }
            case .ack(let id, let args):
                guard id == joinAck else { continue }
                joinAck = nil
                let ack = args.first ?? .null
                if let error = ack["error"] { return fail("room:join: \(error.stringValue ?? "\(error)")") }
                if ack["success"]?.boolValue == false { return fail("room:join: failed") }
                connected()
            case .event(let name, let args):
                guard name == owner.eventName, let seq = Self.number(in: args.first) else { continue }
                owner.receiverGot(seq: seq, receiver: self, at: .now())
            case .closed(let reason):
                fail(reason)
                return
            }
        }
    }

    /// An event's number: its payload's `seq`, or the decimal number a chat message's `content` holds.
    static func number(in payload: JSONValue?) -> Int? {
        if let seq = payload?["seq"]?.intValue { return seq }
        guard let content = payload?["content"]?.stringValue, content.utf8.count <= 18 else { return nil }
        return Int(content)
    }

    private func connected() {
        phase = .connected
        owner.receiverConnected(self)
    }

    func signallingFlush() {
        link.flush()
    }

    func signallingClosed() {
        if case .stopped = phase { return }
        fail("signalling connection closed")
    }

    func fail(_ reason: String) {
        switch phase {
        case .failed, .stopped: return
        case .connecting, .connected:
            let wasConnected = phase == .connected
            phase = .failed(reason)
            link.close()
            owner.receiverFailed(self, reason: reason, wasConnected: wasConnected)
        }
    }
}
