import NIOCore
import NIOPosix
import SocketIOParser

/// One signalling-only client of the broadcast test: connects, completes the Socket.IO CONNECT
/// with its token, joins no room, and reports every `loadtest.broadcast` event it receives
/// (by the `seq` in its payload). Confined to the test's single event loop.
final class BroadcastReceiver: SignallingPeer, @unchecked Sendable {
    enum Phase: Sendable, Hashable {
        case connecting
        case connected
        case failed(String)
        case stopped
    }

    private(set) var phase: Phase = .connecting
    private unowned let runner: BroadcastRunner
    private let loop: any EventLoop
    private var link: SignallingLink

    init(token: String, runner: BroadcastRunner, loop: any EventLoop) {
        var generator = SystemRandomNumberGenerator()
        self.runner = runner
        self.loop = loop
        self.link = SignallingLink(token: token, using: &generator)
    }

    func start() {
        SignallingLink.bootstrap(on: loop, peer: self).connect(host: runner.options.host, port: runner.options.port).whenComplete { [self] result in
            switch result {
            case .success(let channel):
                if case .failed = phase {
                    channel.close(promise: nil)
                } else {
                    // The connect completes before the pipeline's channelActive: send the upgrade here.
                    link.open(channel, host: runner.options.host, port: runner.options.port)
                }
            case .failure(let error):
                fail("connect: \(error)")
            }
        }
    }

    func stop() {
        if case .failed = phase {} else { phase = .stopped }
        link.close()
    }

    // MARK: - SignallingPeer

    func signallingActive() {}

    func signallingBytes(_ buffer: inout ByteBuffer) {
        for output in link.receive(&buffer) {
            switch output {
            case .send, .ack:
                break
            case .connected:
                phase = .connected
                runner.receiverConnected(self)
            case .event(let name, let args):
                guard name == BroadcastRunner.eventName, let seq = args.first?["seq"]?.intValue else { continue }
                runner.receiverGot(seq: seq, at: .now())
            case .closed(let reason):
                fail(reason)
                return
            }
        }
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
            runner.receiverFailed(self, reason: reason, wasConnected: wasConnected)
        }
    }
}
