import EngineIO
import Testing

/// msab's own origin (the page it serves) is allowed whatever CORS_ORIGINS says (issue 15).
struct SameOriginTests {
    @Test func originMatchingTheHostHeaderIsOwn() {
        #expect(SameOrigin.matches(origin: "http://127.0.0.1:3030", host: "127.0.0.1:3030"))
        #expect(SameOrigin.matches(origin: "https://rooms.example", host: "rooms.example"))
        #expect(SameOrigin.matches(origin: "http://Rooms.Example:8080", host: "rooms.example:8080"))
    }

    @Test func otherOriginsAreNot() {
        #expect(!SameOrigin.matches(origin: "http://127.0.0.1:3031", host: "127.0.0.1:3030"))
        #expect(!SameOrigin.matches(origin: "http://evil.example", host: "127.0.0.1:3030"))
        #expect(!SameOrigin.matches(origin: "http://127.0.0.1:3030.evil.example", host: "127.0.0.1:3030"))
        #expect(!SameOrigin.matches(origin: "null", host: "127.0.0.1:3030"))
        #expect(!SameOrigin.matches(origin: "ws://127.0.0.1:3030", host: "127.0.0.1:3030"))
        #expect(!SameOrigin.matches(origin: "http://127.0.0.1:3030", host: nil))
        #expect(!SameOrigin.matches(origin: "http://", host: ""))
    }
}
