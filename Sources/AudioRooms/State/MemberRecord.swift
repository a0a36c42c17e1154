import Foundation

/// A room member as `room:{id}:members` holds it: `{"userId":n,"joinedAt":ms,"node":"…",
/// "profile":[["name","Ann"],…]}`. Only the public profile fields go to Redis (design.md §2 fix
/// 12: other nodes only ever show those); the pairs keep the provider's order.
enum MemberRecord {
    static func encode(_ member: RoomMember) -> String {
        let profile = member.profile.publicFields.filter { $0.key != "id" }.map { AnyJSON.array([.string($0.key), json($0.value)]) }
        let object: [String: AnyJSON] = [
            "userId": .int(member.userId), "joinedAt": .int(Int(member.joinedAtMs)),
            "node": .string(member.node), "profile": .array(profile),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(AnyJSON.object(object))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func decode(socket: String, json text: String) -> RoomMember? {
        guard text.utf8.count <= 65_536, case .object(let object)? = try? JSONDecoder().decode(AnyJSON.self, from: Data(text.utf8)),
            case .int(let userId)? = object["userId"]
        else { return nil }
        var joinedAt: Int64 = 0
        if case .int(let ms)? = object["joinedAt"] { joinedAt = Int64(ms) }
        var node = ""
        if case .string(let n)? = object["node"] { node = n }
        var fields: [(key: String, value: ProfileValue)] = []
        if case .array(let pairs)? = object["profile"] {
            for pair in pairs.prefix(64) {
                guard case .array(let kv) = pair, kv.count == 2, case .string(let key) = kv[0],
                    UserProfile.publicFieldNames.contains(key)
                else { continue }
                fields.append((key, profileValue(kv[1])))
            }
        }
        return RoomMember(socketId: socket, profile: UserProfile(id: userId, fields: fields), joinedAtMs: joinedAt, node: node)
    }

    /// A string as a JSON string literal (for the scripts that write JSON around it).
    static func jsonString(_ text: String) -> String {
        (try? JSONEncoder().encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }

    static func json(_ value: ProfileValue) -> AnyJSON {
        switch value {
        case .string(let s): .string(s)
        case .int(let i): .int(i)
        case .double(let d): .double(d)
        case .bool(let b): .bool(b)
        case .null: .null
        }
    }

    static func profileValue(_ value: AnyJSON) -> ProfileValue {
        switch value {
        case .string(let s): .string(s)
        case .int(let i): .int(i)
        case .double(let d): .double(d)
        case .bool(let b): .bool(b)
        default: .null
        }
    }
}
