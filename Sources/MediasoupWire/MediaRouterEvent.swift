/// What a router reports to its owner (the room): closures it did not ask for, and the speaker
/// observers' results (mediasoup's Router/Transport/Producer/Consumer/RtpObserver events).
/// Here, below both the SFU and the rooms, as the rest of the media control API.
public enum MediaRouterEvent: Sendable {
    /// The transport closed itself: ICE consent lost, DTLS closed or failed.
    case transportClosed(transportId: String, reason: CloseReason)
    /// The producer closed because its transport did.
    case producerClosed(producerId: String, reason: CloseReason)
    /// The consumer closed because its producer or its transport did.
    case consumerClosed(consumerId: String, reason: CloseReason)
    /// ActiveSpeakerObserver: the dominant speaker changed (volume in dBov, 0 loudest … -127).
    case dominantSpeaker(producerId: String, volume: Int)
    /// AudioLevelObserver: producers above the threshold in the last interval, loudest first.
    case audioLevels([(producerId: String, volume: Int)])
    /// AudioLevelObserver: nobody above the threshold (sent once per silence).
    case silence
}
