import NIOCore
import TestSupport
import Testing

@testable import Redis

@Suite struct RedisPubSubStateTests {
    func bulk(_ text: String) -> RESPValue { .bulkString(ByteBuffer(string: text)) }

    @Test func classifiesRESP2AndRESP3Shapes() {
        var state = RedisPubSubState()
        let payload = ByteBuffer(bytes: Array(0...255))
        #expect(
            state.receive(.array([bulk("message"), bulk("ch"), .bulkString(payload)]))
                == .message(RedisPubSubMessage(channel: "ch", payload: payload)))
        #expect(
            state.receive(.push([bulk("pmessage"), bulk("c*"), bulk("ch"), bulk("x")]))
                == .message(RedisPubSubMessage(channel: "ch", pattern: "c*", payload: ByteBuffer(string: "x"))))
        #expect(
            state.receive(.array([bulk("smessage"), bulk("s"), bulk("y")]))
                == .message(RedisPubSubMessage(channel: "s", payload: ByteBuffer(string: "y"))))
        #expect(state.receive(.array([bulk("subscribe"), bulk("ch"), .integer(1)])) == .none)
        #expect(state.receive(.array([bulk("punsubscribe"), bulk("c*"), .integer(0)])) == .none)
        #expect(state.receive(.error("NOPERM no")) == .serverError("NOPERM no"))
        #expect(state.receive(.integer(3)) == .unexpected(.integer(3)))
        #expect(state.receive(.array([bulk("message"), bulk("ch")])) == .unexpected(.array([bulk("message"), bulk("ch")])))
    }

    @Test func firstPongIsTheBarrierAndPingsDetectDeadLinks() {
        var state = RedisPubSubState()
        state.sentPing()
        #expect(!state.isReady)
        #expect(state.receive(.array([bulk("pong"), bulk("")])) == .ready)
        #expect(state.isReady)
        #expect(state.pingTick() == .sendPing)
        #expect(state.receive(.simpleString("PONG")) == .none)
        #expect(state.pingTick() == .sendPing)
        // No pong before the next tick: the link is dead.
        #expect(state.pingTick() == .closeDeadConnection)
    }

    @Test func unansweredBarrierIsADeadLink() {
        var state = RedisPubSubState()
        state.sentPing()
        #expect(state.pingTick() == .closeDeadConnection)
    }
}
