import SocketIORedis
import Testing

@Suite struct RedisAdapterChannelsTests {
    @Test func theDefaultNamespaceChannels() {
        let channels = RedisAdapterChannels()
        #expect(channels.broadcast == "socket.io#/#")
        #expect(channels.room("42") == "socket.io#/#42#")
        #expect(channels.pattern == "socket.io#/#*")
        #expect(channels.request == "socket.io-request#/#")
        #expect(channels.response == "socket.io-response#/#")
        #expect(channels.response(for: "Xy12Ab") == "socket.io-response#/#Xy12Ab#")
    }

    @Test func prefixAndNamespace() {
        let channels = RedisAdapterChannels(prefix: "msab", namespace: "/admin")
        #expect(channels.broadcast == "msab#/admin#")
        #expect(channels.room("r") == "msab#/admin#r#")
        #expect(channels.pattern == "msab#/admin#*")
        #expect(channels.request == "msab-request#/admin#")
        #expect(channels.response(for: "u") == "msab-response#/admin#u#")
    }

    @Test func broadcastChannelByRoomCount() {
        let channels = RedisAdapterChannels()
        #expect(channels.broadcastChannel(rooms: []) == "socket.io#/#")
        #expect(channels.broadcastChannel(rooms: ["AbCdEfGhIjKlMnOpQrSt"]) == "socket.io#/#AbCdEfGhIjKlMnOpQrSt#")
        #expect(channels.broadcastChannel(rooms: ["a", "b"]) == "socket.io#/#")
    }

    @Test func roomFromAPatternMessageChannel() {
        let channels = RedisAdapterChannels()
        #expect(channels.room(fromChannel: "socket.io#/#42#") == "42")
        #expect(channels.room(fromChannel: "socket.io#/#room#with#hashes#") == "room#with#hashes")
        #expect(channels.room(fromChannel: "socket.io#/#żółw#") == "żółw")
        #expect(channels.room(fromChannel: "socket.io#/#") == nil)
        #expect(channels.room(fromChannel: "socket.io#/##") == nil)
        #expect(channels.room(fromChannel: "socket.io#/#no-trailing-hash") == nil)
        #expect(channels.room(fromChannel: "socket.io#/admin#42#") == nil)
        #expect(channels.room(fromChannel: "") == nil)
        #expect(channels.isBroadcast(channel: "socket.io#/#42#"))
        #expect(channels.isBroadcast(channel: "socket.io#/#"))
        #expect(!channels.isBroadcast(channel: "socket.io-request#/#"))
        #expect(!channels.isBroadcast(channel: "socket.io#/admin#"))
    }
}
