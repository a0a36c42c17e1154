import AudioRooms
import Foundation
import Testing

/// An authenticator with a fixed table, to test the gate's order and messages on their own.
struct TableAuthenticator: UserAuthenticator {
    var valid: [String: Int]
    var failing: Set<String> = []
    struct Boom: Error {}
    func authenticate(token: String) async throws -> AuthenticatedUser? {
        if failing.contains(token) { throw Boom() }
        return valid[token].map { AuthenticatedUser(profile: UserProfile(id: $0), signedRoomRoles: nil, token: token) }
    }
}

@Suite struct ConnectionGateTests {
    let gate = ConnectionGate(allowedOrigins: ["https://app.example"], authenticator: TableAuthenticator(valid: ["good": 7], failing: ["boom"]))

    @Test func acceptsAValidTokenFromAuthOrHeader() async throws {
        #expect(try await gate.admit(origin: nil, token: .string("good"), authorizationHeader: nil).get().id == 7)
        #expect(try await gate.admit(origin: "https://app.example", token: .string("Bearer good"), authorizationHeader: nil).get().id == 7)
        #expect(try await gate.admit(origin: nil, token: .missing, authorizationHeader: "bearer   good").get().id == 7)
        // A falsy auth.token falls back to the header, as in the reference.
        #expect(try await gate.admit(origin: nil, token: .string(""), authorizationHeader: "Bearer good").get().id == 7)
    }

    @Test func refusalsUseTheExactMessagesInOrder() async {
        func refusal(_ origin: String?, _ token: HandshakeToken, _ header: String?) async -> String? {
            if case .failure(let r) = await gate.admit(origin: origin, token: token, authorizationHeader: header) { return r.rawValue }
            return nil
        }
        #expect(await refusal("https://evil.example", .string("good"), nil) == "Origin not allowed")
        #expect(await refusal(nil, .missing, nil) == "Authentication required")
        #expect(await refusal(nil, .string(""), "") == "Authentication required")
        #expect(await refusal(nil, .string("bad"), nil) == "Invalid credentials")
        #expect(await refusal(nil, .notAString, "Bearer good") == "Invalid credentials")
        #expect(await refusal(nil, .string("Bearer "), nil) == "Invalid credentials")
        #expect(await refusal(nil, .string("boom"), nil) == "Authentication failed")
    }

    @Test func wildcardOriginAllowsAny() async throws {
        let open = ConnectionGate(allowedOrigins: ["*"], authenticator: TableAuthenticator(valid: ["good": 1]))
        #expect(try await open.admit(origin: "https://anything", token: .string("good"), authorizationHeader: nil).get().id == 1)
    }

    @Test func ownOriginAllowedWhateverTheList() async throws {
        // The page msab serves at `/` connects back with its own origin (issue 15).
        #expect(
            try await gate.admit(origin: "http://127.0.0.1:3030", host: "127.0.0.1:3030", token: .string("good"), authorizationHeader: nil).get().id
                == 7)
        if case .failure(let refusal) = await gate.admit(
            origin: "http://127.0.0.1:3030", host: "127.0.0.1:4040", token: .string("good"), authorizationHeader: nil)
        {
            #expect(refusal == .originNotAllowed)
        } else {
            Issue.record("another port's origin was admitted")
        }
        #expect(gate.allows(origin: "https://app.example", host: nil))
        #expect(!gate.allows(origin: "https://evil.example", host: "127.0.0.1:3030"))
    }

    @Test func bearerStripping() {
        #expect(ConnectionGate.stripBearer("Bearer abc") == "abc")
        #expect(ConnectionGate.stripBearer("BEARER\t abc") == "abc")
        #expect(ConnectionGate.stripBearer("Bearerabc") == "Bearerabc")
        #expect(ConnectionGate.stripBearer("12|plain") == "12|plain")
    }
}

@Suite struct TokenAuthorityTests {
    let secret = String(repeating: "s", count: 40)

    @Test func roundTripCarriesProfileAndRoles() async throws {
        let authority = await TokenAuthority(secret: secret)
        let token = try await authority.mint(userID: 42, profile: ["name": "Bob", "avatar": "a.png"], rooms: ["7": .owner, "8": .admin])
        let user = try #require(try await authority.authenticate(token: token))
        #expect(user.id == 42)
        #expect(user.profile.name == "Bob")
        #expect(user.signedRoomRoles == ["7": .owner, "8": .admin])
        #expect(user.profile.publicFields.map(\.key) == ["id", "name", "avatar"])
    }

    @Test func rejectsExpiredTamperedAndForeignTokens() async throws {
        let authority = await TokenAuthority(secret: secret)
        let expired = try await authority.mint(userID: 1, lifetime: 60, now: Date(timeIntervalSinceNow: -3600))
        #expect(try await authority.authenticate(token: expired) == nil)
        let good = try await authority.mint(userID: 1)
        var parts = good.split(separator: ".").map(String.init)
        parts[2] = String(parts[2].reversed())
        #expect(try await authority.authenticate(token: parts.joined(separator: ".")) == nil)
        let other = await TokenAuthority(secret: String(repeating: "o", count: 40))
        #expect(try await other.authenticate(token: good) == nil)
        #expect(try await authority.authenticate(token: "not.a.jwt") == nil)
        #expect(try await authority.authenticate(token: "") == nil)
    }
}

@Suite struct UserProfileTests {
    @Test func laravelUserKeepsPrivateFieldsOutOfThePublicProfile() throws {
        let json =
            #"{"id": 9, "name": "Eve", "email": "e@x", "phone": "1", "date_of_birth": "2000-01-01", "coins": "10.00", "diamonds": "3", "avatar": "v.png", "wealth_xp": "5", "is_blocked": false, "nested": {"a": 1}}"#
        let profile = try UserProfile(laravelJSON: Data(json.utf8))
        #expect(profile.id == 9)
        #expect(profile["email"] == .string("e@x"))
        #expect(profile["is_blocked"] == .bool(false))
        #expect(profile["nested"] == nil)
        let publicKeys = profile.publicFields.map(\.key)
        #expect(publicKeys == ["id", "name", "avatar", "wealth_xp"])
        for secret in ["email", "phone", "date_of_birth", "coins", "diamonds"] { #expect(!publicKeys.contains(secret)) }
    }

    @Test func laravelUserNeedsAPositiveIntegerId() {
        for json in [#"{"name":"x"}"#, #"{"id":"abc"}"#, #"{"id":0}"#, #"{"id":1.5}"#, #"[1]"#, #"{"id":true}"#] {
            #expect(throws: (any Error).self) { _ = try UserProfile(laravelJSON: Data(json.utf8)) }
        }
    }
}
