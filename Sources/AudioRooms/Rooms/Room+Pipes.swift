import Logging
import MediasoupWire

/// A room across nodes (issue 13 item 3). Each producer lives on the node of its speaker's
/// socket (its *origin*). A listener on another node that consumes it makes that node ask the
/// origin, over ``PipeLink``, for a pipe: one per (producer, node), shared by all the node's
/// listeners of it, closed when the last of them goes. The origin tells the nodes holding a copy
/// when the producer pauses, resumes (the stage rules: seats, moderator and self mutes) or closes.
///
/// Events: `audio:newProducer` and `audio:producerClosed` are room broadcasts from the origin
/// (the Socket.IO adapter carries them to every node), so a node never announces a copy's
/// arrival or end itself: each listener hears each once. Speaker levels are measured by the
/// origin for its own producers (a node hears its speakers first-hand, with no pipe in between,
/// and a producer nobody elsewhere listens to is never piped) and shared with the room's other
/// nodes, which all decide `speaker:active` alike from the merged levels (`Room+Speakers.swift`);
/// copies in a node's observers are not reported there.
extension Room {
    /// Most producers of other nodes one room copies here at once (a room has at most a few
    /// dozen producers; this bounds what clients naming stray producer ids can make us ask for).
    static let maxImports = 64
    /// Most nodes one of our producers is sent to.
    static let maxExportsPerProducer = 64

    // MARK: - Receiving side

    /// Makes sure a producer of another node has a copy here: false when it is not a producer
    /// of this room on a live node we can reach.
    func ensureImported(_ producerId: String) async -> Bool {
        if imports[producerId] != nil { return true }
        if let pending = importing[producerId] { return await finishImport(producerId, pending.task) }
        guard let link = services.pipeLink, !isClosed,
            let members = try? await store.members(room: id),
            let origin = members.first(where: { $0.producerId == producerId }), origin.node != services.node, !origin.node.isEmpty
        else { return false }
        // Re-checked after the store's await.
        if imports[producerId] != nil { return true }
        if let pending = importing[producerId] { return await finishImport(producerId, pending.task) }
        guard !isClosed, imports.count + importing.count < Self.maxImports else { return false }
        let (router, room, node, logger) = (self.router, id, origin.node, services.logger)
        // Shared by concurrent consumes of the same producer (a promise); it ends by itself
        // (the request has a timeout).
        let task = Task { () async throws -> RemoteImport in
            let local = try await router.openImportPipe()
            do {
                let reply = try await link.request(room: room, producerId: producerId, end: local.end, to: node)
                try await router.completeImport(
                    pipeId: local.pipeId, producerId: producerId, remote: reply.end, kind: reply.kind,
                    rtpParameters: reply.rtpParameters, paused: reply.paused)
                return RemoteImport(node: node, pipeId: local.pipeId)
            } catch {
                logger.info(
                    "pipe from another node failed",
                    metadata: [
                        "room": "\(room)", "producer": "\(producerId)", "node": "\(node)",
                        "error": "\(error)",
                    ])
                await router.closeImport(pipeId: local.pipeId, producerId: producerId)
                // The origin may have made its end after all (a late answer): it closes it.
                await link.send(.unpipe(from: link.uid, room: room, producerId: producerId), to: node)
                throw error
            }
        }
        importing[producerId] = (node, task)
        return await finishImport(producerId, task)
    }

    /// Awaits an import and registers it (the first awaiter does; the others find it there).
    private func finishImport(_ producerId: String, _ task: Task<RemoteImport, any Error>) async -> Bool {
        let result = try? await task.value
        if importing[producerId]?.task == task {
            importing[producerId] = nil
            let cancelled = importsCancelled.remove(producerId) != nil
            let pause = importPauses.removeValue(forKey: producerId)
            guard let result else { return false }
            if cancelled || isClosed {
                await router.closeImport(pipeId: result.pipeId, producerId: producerId)
                if !cancelled { await services.pipeLink?.send(.unpipe(from: services.node, room: id, producerId: producerId), to: result.node) }
                return false
            }
            imports[producerId] = result
            // The origin paused or resumed it after answering: the copy follows.
            if let pause, pause.node == result.node { try? await router.setProducerPaused(producerId, pause.paused) }
        }
        return imports[producerId] != nil
    }

    /// A consume of an imported producer starts / ended (`consumerId` nil: it failed).
    func importConsumeStarted(_ producerId: String) { imports[producerId]?.pending += 1 }

    func importConsumeEnded(_ producerId: String, consumerId: String?) async {
        guard imports[producerId] != nil else { return }
        imports[producerId]?.pending -= 1
        if let consumerId {
            imports[producerId]?.consumers.insert(consumerId)
            importedConsumers[consumerId] = producerId
        }
        await releaseImportIfUnused(producerId)
    }

    /// A consumer of this room closed: the copy it consumed goes with the last one.
    func importedConsumerClosed(_ consumerId: String) async {
        guard let producerId = importedConsumers.removeValue(forKey: consumerId) else { return }
        imports[producerId]?.consumers.remove(consumerId)
        await releaseImportIfUnused(producerId)
    }

    private func releaseImportIfUnused(_ producerId: String) async {
        guard let remote = imports[producerId], remote.isUnused else { return }
        imports[producerId] = nil
        await router.closeImport(pipeId: remote.pipeId, producerId: producerId)
        await services.pipeLink?.send(.unpipe(from: services.node, room: id, producerId: producerId), to: remote.node)
    }

    /// Drops a copy at once (its origin closed the producer, or died): the copy's consumers close.
    private func dropImport(_ producerId: String) async {
        if importing[producerId] != nil, importsCancelled.count < Self.maxImports { importsCancelled.insert(producerId) }
        guard let remote = imports.removeValue(forKey: producerId) else { return }
        for consumer in remote.consumers { importedConsumers[consumer] = nil }
        await router.closeImport(pipeId: remote.pipeId, producerId: producerId)
    }

    // MARK: - Origin side

    /// Another node asks for one of our producers: our end of a new pipe and its parameters.
    func exportProducer(_ request: PipeRequest) async -> PipeMessage {
        let failed = { (error: String) in PipeMessage.failed(id: request.id, from: self.services.node, error: error) }
        guard !isClosed, producerOwner[request.producerId] != nil else { return failed("unknown producer") }
        if let previous = exports[request.producerId]?.removeValue(forKey: request.from) {
            // That node asks again: its copy is gone (it closes its end before asking anew).
            await router.closeExport(pipeId: previous)
        }
        guard (exports[request.producerId]?.count ?? 0) < Self.maxExportsPerProducer else { return failed("too many nodes") }
        let exported: (pipeId: String, end: PipeEnd, kind: MediaKind, rtpParameters: RtpParameters, paused: Bool)
        do {
            exported = try await router.exportProducer(request.producerId, to: request.end)
        } catch {
            return failed("pipe failed")
        }
        // The producer may have closed (or the room) while the pipe was made.
        guard !isClosed, producerOwner[request.producerId] != nil, exports[request.producerId]?[request.from] == nil else {
            await router.closeExport(pipeId: exported.pipeId)
            return failed("producer closed")
        }
        exports[request.producerId, default: [:]][request.from] = exported.pipeId
        // The stage rules may have paused or resumed it while the pipe was made; from here on
        // each change is sent to that node, so the answer carries the state as of now.
        let paused = producerPaused[request.producerId] ?? exported.paused
        return .reply(
            PipeReply(
                id: request.id, from: services.node, end: exported.end, kind: exported.kind,
                rtpParameters: exported.rtpParameters, paused: paused))
    }

    /// Our producer was paused or resumed: the nodes with a copy follow.
    func exportedProducerPaused(_ producerId: String, _ paused: Bool) async {
        guard let link = services.pipeLink, let nodes = exports[producerId] else { return }
        for node in nodes.keys.sorted() {
            await link.send(.producerPaused(from: services.node, room: id, producerId: producerId, paused: paused), to: node)
        }
    }

    /// Our producer closed: each node with a copy drops it (its listeners were told by the room
    /// broadcast), and our ends of the pipes close.
    func exportedProducerClosed(_ producerId: String) async {
        guard let nodes = exports.removeValue(forKey: producerId) else { return }
        for (node, pipeId) in nodes.sorted(by: { $0.key < $1.key }) {
            await services.pipeLink?.send(.producerClosed(from: services.node, room: id, producerId: producerId), to: node)
            await router.closeExport(pipeId: pipeId)
        }
    }

    // MARK: - Messages from other nodes

    /// A pipe message for this room (requests are answered by the caller with the returned message).
    func handlePipeMessage(_ message: PipeMessage) async -> PipeMessage? {
        switch message {
        case .request(let request):
            return await exportProducer(request)
        case .unpipe(let from, _, let producerId):
            if let pipeId = exports[producerId]?.removeValue(forKey: from) {
                if exports[producerId]?.isEmpty == true { exports[producerId] = nil }
                await router.closeExport(pipeId: pipeId)
            }
        case .producerPaused(let from, _, let producerId, let paused):
            if imports[producerId] == nil, importing[producerId]?.node == from {
                importPauses[producerId] = (from, paused)
                return nil
            }
            guard imports[producerId]?.node == from else { return nil }
            try? await router.setProducerPaused(producerId, paused)
        case .producerClosed(let from, _, let producerId):
            guard imports[producerId]?.node == from || importing[producerId]?.node == from else { return nil }
            await dropImport(producerId)
        case .speakerLevels(let from, _, let sequence, let levels):
            await receivedSpeakerLevels(levels, from: from, sequence: sequence)
        case .reply, .failed:
            break
        }
        return nil
    }

    // MARK: - Nodes

    /// The nodes this room exchanges pipes with (for the dead-node sweep).
    func pipePeers() -> Set<String> {
        var nodes = Set(imports.values.map(\.node)).union(importing.values.map(\.node))
        for byNode in exports.values { nodes.formUnion(byNode.keys) }
        return nodes
    }

    /// Nodes found dead: their producers' copies close here (their listeners hear
    /// `audio:producerClosed` from the sweep's eviction), and our pipes to them close.
    func nodesGone(_ nodes: Set<String>) async {
        speakerNodesGone(nodes)
        for (producerId, pending) in importing where nodes.contains(pending.node) && importsCancelled.count < Self.maxImports {
            importsCancelled.insert(producerId)
        }
        for (producerId, remote) in imports where nodes.contains(remote.node) { await dropImport(producerId) }
        for (producerId, byNode) in exports {
            for (node, pipeId) in byNode where nodes.contains(node) {
                exports[producerId]?[node] = nil
                await router.closeExport(pipeId: pipeId)
            }
            if exports[producerId]?.isEmpty == true { exports[producerId] = nil }
        }
    }

    /// The room closes here: every pipe goes, and the other ends are told.
    func closeAllPipes() async {
        for (producerId, remote) in imports {
            await router.closeImport(pipeId: remote.pipeId, producerId: producerId)
            await services.pipeLink?.send(.unpipe(from: services.node, room: id, producerId: producerId), to: remote.node)
        }
        imports.removeAll()
        importedConsumers.removeAll()
        for producerId in Array(exports.keys) { await exportedProducerClosed(producerId) }
    }
}
