/// `msab loadtest --churn RATE`: after the first joins settle, the room keeps changing for the
/// whole `--duration` instead of sitting still, so a long run shows whether the server returns
/// what every join took (a soak, `make soak`).
///
/// Every `1 / rate` seconds one membership change happens, chosen by a generator seeded with
/// `seed` (the same seed gives the same sequence of choices; the timing is the network's):
/// - a live listener leaves (`room:leave` then a disconnect, or a bare disconnect, half each)
///   and a new user joins and consumes in its place;
/// - a live speaker leaves its seat (`seat:leave`) and the room, and a new user joins, takes
///   that seat (`seat:take`) and produces;
/// - a new user opens a side room of its own, joins it with a transport, and leaves after
///   ``sideRoomStay`` seconds (the side room then empties, and the server must close it).
/// Meanwhile participants send `chat:message` at `chatRate` per second across the room, each
/// at most one every ``minimumChatInterval`` seconds, well inside the server's 60 per minute.
public struct ChurnOptions: Sendable, Hashable {
    /// Membership changes per second.
    public var rate: Double
    /// Chat messages per second across the room.
    public var chatRate: Double
    /// Seeds the choices (who leaves, which kind of change, who chats).
    public var seed: UInt64
    /// Users beyond the first `speakers + listeners` that the run may bring in (one token each).
    /// Every join gets a user never seen before until the pool is used up, then the pool is
    /// reused from its start (those users left long ago).
    public var extraUsers: Int

    /// Share of changes that cycle a speaker (when there are speakers) and that open a side room.
    public static let speakerShare = 0.2
    public static let sideRoomShare = 0.1
    /// Seconds a side-room visitor stays once its transport is up.
    public static let sideRoomStay = 2.0
    /// A participant's chats are at least this far apart (the server allows 60 a minute).
    public static let minimumChatInterval = 2.0
    /// A chat not echoed back to its sender within this many seconds is an error.
    public static let chatEchoTimeout = 5.0
    /// A listener in the room for longer than this while a speaker has been producing for as
    /// long, and that received nothing for ``silenceLimit`` seconds, is an error.
    public static let settleSeconds = 5.0
    public static let silenceLimit = 3.0
    /// Bound on the extra users (tokens are held in memory).
    public static let maximumExtraUsers = 100_000

    public init(rate: Double, chatRate: Double, seed: UInt64, extraUsers: Int) {
        self.rate = rate
        self.chatRate = chatRate
        self.seed = seed
        self.extraUsers = extraUsers
    }

    /// Users to mint for a run of `duration` seconds: one per expected change, plus a margin.
    public static func extraUsers(rate: Double, duration: Double) -> Int {
        let expected = (rate * duration * 1.1).rounded(.up)
        guard expected.isFinite else { return maximumExtraUsers }
        return min(maximumExtraUsers, Int(expected) + 50)
    }
}
