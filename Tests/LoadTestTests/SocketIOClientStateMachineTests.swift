import LoadTest
import SocketIOParser
import Testing

@Suite("SocketIOClientStateMachine (Engine.IO v4 + Socket.IO v5 client)")
struct SocketIOClientStateMachineTests {
    static func connected() -> SocketIOClientStateMachine {
        var machine = SocketIOClientStateMachine(auth: ["token": "t0k"])
        _ = machine.receive(text: "0{\"sid\":\"e1\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}")
        _ = machine.receive(text: "40{\"sid\":\"s1\"}")
        return machine
    }

    @Test("open → CONNECT with auth → connected")
    func handshake() {
        var machine = SocketIOClientStateMachine(auth: ["token": "t0k"])
        #expect(machine.state == .awaitingOpen)
        #expect(machine.receive(text: "0{\"sid\":\"e1\",\"pingInterval\":25000}") == [.send("40{\"token\":\"t0k\"}")])
        #expect(machine.state == .awaitingConnect)
        #expect(machine.emit("room:join", ["roomId": "1"]) == nil)  // not connected yet
        #expect(machine.receive(text: "40{\"sid\":\"s1\"}") == [.connected(sid: "s1")])
        #expect(machine.state == .connected(sid: "s1"))
    }

    @Test("a refused connection reports the server's message (contract §2.3)")
    func refused() {
        var machine = SocketIOClientStateMachine(auth: ["token": "bad"])
        _ = machine.receive(text: "0{\"sid\":\"e1\"}")
        #expect(machine.receive(text: "44{\"message\":\"Invalid credentials\"}") == [.closed(reason: "Invalid credentials")])
        #expect(machine.receive(text: "40{\"sid\":\"s1\"}") == [])
    }

    @Test("ping → pong; emits carry increasing ack ids; acks are matched once")
    func emitAndAck() {
        var machine = Self.connected()
        #expect(machine.receive(text: "2") == [.send("3")])
        let first = machine.emit("room:join", ["roomId": "42"])
        #expect(first?.id == 0)
        #expect(first?.frame == "420[\"room:join\",{\"roomId\":\"42\"}]")
        let second = machine.emit("seat:take", ["roomId": "42", "seatIndex": 0])
        #expect(second?.id == 1)
        #expect(machine.pendingAckCount == 2)
        #expect(machine.receive(text: "431[{\"success\":true}]") == [.ack(id: 1, args: [["success": true]])])
        #expect(machine.receive(text: "431[{\"success\":true}]") == [])  // answered already
        #expect(machine.receive(text: "4399[{}]") == [])  // never asked
        #expect(machine.pendingAckCount == 1)
    }

    @Test("server events are delivered with their arguments")
    func events() {
        var machine = Self.connected()
        #expect(
            machine.receive(text: "42[\"audio:newProducer\",{\"producerId\":\"p\",\"userId\":7}]")
                == [.event(name: "audio:newProducer", args: [["producerId": "p", "userId": 7]])])
    }

    @Test("bounds: at most maximumPendingAcks emits wait; garbage and binary close the connection")
    func bounds() {
        var machine = Self.connected()
        for _ in 0..<SocketIOClientStateMachine.maximumPendingAcks { #expect(machine.emit("x", nil) != nil) }
        #expect(machine.emit("x", nil) == nil)
        #expect(machine.receive(text: "9nonsense") == [.closed(reason: "Engine.IO: unknown packet type")])
        var binary = Self.connected()
        #expect(binary.receive(text: "451-[\"x\",{\"_placeholder\":true,\"num\":0}]") == [.closed(reason: "unexpected binary attachment")])
        var closed = Self.connected()
        #expect(closed.receive(text: "1") == [.closed(reason: "Engine.IO close")])
        #expect(closed.transportClosed() == [])
    }
}
