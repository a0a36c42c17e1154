public import SocketIOParser

/// The acknowledgement callback of a client event: call it once with the reply arguments.
/// Later calls are ignored, as in socket.io.
public struct Ack: Sendable {
    let send: @Sendable ([JSONValue]) -> Void

    init(send: @escaping @Sendable ([JSONValue]) -> Void) {
        self.send = send
    }

    public func callAsFunction(_ args: JSONValue...) async {
        send(args)
    }

    public func reply(_ args: [JSONValue]) {
        send(args)
    }
}

/// A server → client acknowledgement that did not arrive in time.
public struct AckTimeoutError: Error, Sendable {}
