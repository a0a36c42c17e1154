public import SFU

// The SFU core's answers and events, named here so that the application reaches the media plane
// through this facade only (AudioRooms imports SFUServer, never SFU; design.md §4). Each concept
// has one type, made by the core and passed up unchanged: the rooms' `RoomRouter` returns these.

/// `transport:create`'s ack: `{id, iceParameters, iceCandidates, dtlsParameters}`.
public typealias WebRtcTransportInfo = SFU.WebRtcTransportInfo
/// `audio:consume`'s ack: `{id, producerId, kind, rtpParameters}`.
public typealias ConsumerInfo = SFU.ConsumerInfo
/// What a router reports to its owner: closures it did not ask for, and speaker events.
public typealias MediaRouterEvent = SFU.MediaRouterEvent
/// The SFU's errors; the app maps their kinds to MSAB's error strings.
public typealias SFUError = SFU.SFUError
