import EngineIOParser
import Logging
import Metrics
import NIOCore
import Synchronization

// WebSocket: whether to upgrade, and the pump between a WebSocket's frames and its session
// (a fresh WebSocket session, or the upgrade of a polling one).
extension EngineIOServer {
    /// Whether a WebSocket upgrade request should be accepted (the adapter asks before upgrading);
    /// a refused one is answered over HTTP by `handleHTTP`.
    public func shouldUpgrade(query: [String: String], remoteAddress: String? = nil) -> Bool {
        guard configuration.allowWebSocket, query["transport"] == "websocket" else { return false }
        if let sid = query["sid"] {
            // A known sid is upgraded even when it cannot take a new transport (already on
            // WebSocket): the socket is then closed, as engine.io does.
            return session(sid) != nil
        }
        guard query["EIO"] == "4" else { return false }
        // Over a session cap: not upgraded. (engine.io answers a refused upgrade with a bare 400;
        // hummingbird-websocket does the same, with an empty body, for any refused upgrade.)
        if let refusal = capRefusal(remoteAddress: remoteAddress) {
            Counter(label: "msab_engineio_handshakes_total", dimensions: [("result", refusal.metricName)]).increment()
            return false
        }
        return true
    }

    /// Serves an upgraded WebSocket until it closes: a new session (no sid), or the upgrade of a
    /// polling session. `frames` are the client's messages; `write` sends one frame.
    public func runWebSocket<Frames: AsyncSequence & Sendable>(
        query: [String: String], headers: [(name: String, value: String)], remoteAddress: String?,
        frames: Frames, sink: any EngineFrameSink
    ) async where Frames.Element == EngineIOCodec.Frame {
        let writer = OutboundFrameQueue(
            limits: .init(bytes: configuration.maxOutboundBytes, frames: configuration.maxOutboundPackets), sink: sink)
        let request = EngineHTTPRequest(method: .get, query: query, headers: headers, body: nil, remoteAddress: remoteAddress)
        var session: EngineSession
        var probing = false
        if let sid = query["sid"] {
            guard let existing = self.session(sid), existing.beginUpgrade(writer, now: .now) else {
                _ = writer.push([.text("1")])
                writer.finish()
                await writer.drained()
                return
            }
            session = existing
            probing = true
        } else {
            switch openSession(handshake: handshake(request), transport: .websocket(writer)) {
            case .success(let opened): session = opened
            case .failure:
                // A cap filled up since `shouldUpgrade`: nothing was opened, the socket just closes.
                return
            }
            _ = writer.push([.text(EngineIOCodec.encodeText(openPacket(sid: session.id, upgrades: [])))])
            connectionsContinuation.yield(session)
        }
        let current = session
        let startsProbing = probing
        do {
            try await withThrowingDiscardingTaskGroup { group in
                // The writer drains itself into the channel (see OutboundFrameQueue). Once the
                // session has closed (or the probe was abandoned) and the last frame is on the
                // wire, the reader is cancelled by the error, which closes the socket.
                group.addTask {
                    await writer.drained()
                    throw WebSocketWriterDone()
                }
                group.addTask {
                    await self.readWebSocket(frames: frames, session: current, writer: writer, probing: startsProbing)
                    writer.finish()
                }
                // A slow consumer's socket is ended at once, even with a write stuck on it.
                group.addTask {
                    await writer.aborted()
                    throw WebSocketWriterDone()
                }
            }
        } catch {
            // WriterDone or a failed socket: fall through to the clean-up.
        }
        if !current.isClosed, !startsProbing || current.isCurrentWebSocket() {
            // This socket was the session's transport: the session ends with it.
            current.close(reason: .transportError)
        }
        if startsProbing, !current.isCurrentWebSocket() { current.abandonUpgrade(writer) }
        writer.finish()
    }

    func readWebSocket<Frames: AsyncSequence & Sendable>(
        frames: Frames, session current: EngineSession,
        writer: OutboundFrameQueue,
        probing startsProbing: Bool
    ) async where Frames.Element == EngineIOCodec.Frame {
        var probing = startsProbing
        do {
            reading: for try await frame in frames {
                let size: Int
                switch frame {
                case .text(let t): size = t.utf8.count
                case .binary(let b): size = b.readableBytes
                }
                guard size <= configuration.maxPayload else {
                    current.close(reason: .transportError)
                    break reading
                }
                if probing {
                    // Before "5" only the probe is allowed on this socket.
                    if case .text("2probe") = frame {
                        current.probed(writer)
                        continue
                    }
                    if case .text("5") = frame, current.completeUpgrade(writer) {
                        probing = false
                        continue
                    }
                    current.abandonUpgrade(writer)
                    break reading
                }
                let packet: EnginePacket
                switch frame {
                case .text(let text):
                    do { packet = try EngineIOCodec.decodeText(text) } catch {
                        current.close(reason: .parseError)
                        break reading
                    }
                case .binary(let bytes):
                    packet = EngineIOCodec.decodeBinaryFrame(bytes)
                }
                // At the inbound cap, stop reading until the layer above catches up (TCP pushes back).
                if packet.type == .message { await current.inboundQueue.waitForRoom() }
                if !current.received(packet, now: .now) { break reading }
                if current.isClosed { break reading }
            }
        } catch {
            // The socket failed or was cancelled.
        }
        if probing {
            current.abandonUpgrade(writer)
        } else if !current.isClosed, current.isCurrentWebSocket() {
            current.close(reason: .transportError)
        }
    }
}

/// Ends the WebSocket task group when the session stops writing.
struct WebSocketWriterDone: Error {}
