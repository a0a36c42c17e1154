/// A producer of another node with a copy on this node's router (issue 13 item 3): one pipe per
/// (producer, node), shared by every listener here, closed when its last consumer goes.
struct RemoteImport: Sendable {
    /// The producer's node (the only one whose pause/resume/close notices are believed).
    let node: String
    /// Our pipe transport.
    let pipeId: String
    /// Consumers of the copy.
    var consumers: Set<String> = []
    /// Consumes under way (the copy stays while one is awaited, even with no consumer yet).
    var pending = 0

    var isUnused: Bool { consumers.isEmpty && pending == 0 }
}
