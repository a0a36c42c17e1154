// swift-tools-version: 6.1
// msab: a live audio-rooms server (Socket.IO signalling + built-in SFU) in one binary.
// Module layout and dependency direction: ../shared/design.md §4 and ../shared/style.md §2.
// Arrows point down only; signalling never imports the SFU and the SFU never imports signalling.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")

let package = Package(
    name: "msab",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "msab", targets: ["msab"]),
        .executable(name: "msab-bench", targets: ["msab-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // ── signalling plane ────────────────────────────────────────────────────────────
        .target(name: "EngineIOParser", dependencies: [nioCore], swiftSettings: swiftSettings),
        .target(name: "SocketIOParser", dependencies: [nioCore], swiftSettings: swiftSettings),
        // Redis scale-out codecs (../shared/redis-adapter.md): MessagePack as notepack.io writes it,
        // and the classic @socket.io/redis-adapter wire format on top of it. Pure, no I/O.
        .target(name: "MessagePack", dependencies: [nioCore], swiftSettings: swiftSettings),
        .target(
            name: "SocketIORedis",
            dependencies: ["MessagePack", "SocketIOParser", "SocketIO", "EngineIO", "Redis", nioCore, logging, metrics, serviceLifecycle],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "EngineIO",
            dependencies: ["EngineIOParser", "CPrefetch", nioCore, logging, metrics, serviceLifecycle],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SocketIO",
            dependencies: ["EngineIO", "SocketIOParser", nioCore, logging, metrics, serviceLifecycle],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "EngineIOHummingbird",
            dependencies: [
                "EngineIO", "EngineIOParser", nioCore, logging,
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // ── media plane: sans-I/O protocol cores ────────────────────────────────────────
        .target(name: "RTP", dependencies: [nioCore], swiftSettings: swiftSettings),
        .target(name: "STUN", dependencies: [nioCore, crypto], swiftSettings: swiftSettings),
        .target(name: "ICELite", dependencies: ["STUN", nioCore], swiftSettings: swiftSettings),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSRTP", pkgConfig: "libsrtp2", providers: [.apt(["libsrtp2-dev"])]),
        .target(name: "DTLS", dependencies: ["COpenSSL", nioCore], swiftSettings: swiftSettings),
        .target(name: "CPrefetch"),
        .target(name: "CSRTPCrypto", linkerSettings: [.linkedLibrary("crypto")]),
        .target(name: "SRTP", dependencies: ["COpenSSL", "CSRTPCrypto", "CPrefetch", nioCore], swiftSettings: swiftSettings),
        .target(name: "MediasoupWire", dependencies: [], swiftSettings: swiftSettings),
        .target(name: "SpeakerDetection", dependencies: [], swiftSettings: swiftSettings),
        .target(
            name: "SFU",
            dependencies: ["RTP", "STUN", "ICELite", "DTLS", "SRTP", "MediasoupWire", "SpeakerDetection", "CPrefetch", nioCore, logging],
            swiftSettings: swiftSettings
        ),
        .target(name: "CUDPBatch"),
        .target(
            name: "SFUServer",
            dependencies: ["SFU", "STUN", "DTLS", "MediasoupWire", "CUDPBatch", nioCore, nioPosix, logging, metrics, serviceLifecycle],
            swiftSettings: swiftSettings
        ),
        // ── Redis (command connection + pub/sub), on SwiftNIO ────────────────────────────
        .target(
            name: "Redis",
            dependencies: [nioCore, nioPosix, .product(name: "NIOSSL", package: "swift-nio-ssl"), logging, metrics, serviceLifecycle, crypto],
            swiftSettings: swiftSettings
        ),
        // ── application ─────────────────────────────────────────────────────────────────
        .target(
            name: "AudioRooms",
            dependencies: [
                "SocketIO", "SocketIOParser", "EngineIO", "EngineIOHummingbird", "SFUServer", "MediasoupWire", "Redis", "SocketIORedis",
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                nioCore, nioPosix, logging, metrics, serviceLifecycle, crypto,
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // `msab loadtest`: msab's own protocol cores in client roles (Socket.IO client, controlling ICE
        // agent, DTLS client, SRTP), many virtual participants on one event loop. Needs no server code.
        .target(
            name: "LoadTest",
            dependencies: ["EngineIOParser", "SocketIOParser", "STUN", "DTLS", "SRTP", "RTP", nioCore, nioPosix, crypto],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "msab",
            dependencies: ["AudioRooms", "LoadTest", logging, .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sio-conformance",
            dependencies: [
                "EngineIO", "EngineIOHummingbird", "SocketIO", "SocketIOParser", logging, serviceLifecycle,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "msab-bench",
            dependencies: [
                "SocketIO", "SocketIOParser", "EngineIO", "SFUServer", "SFU", "RTP", "SRTP", "DTLS", "STUN", "MediasoupWire", "CUDPBatch", nioCore,
                nioPosix,
            ],
            path: "Benchmarks/msab-bench",
            swiftSettings: swiftSettings
        ),
        // libFuzzer targets for every decoder that faces the network (`make fuzz`); a plain build
        // is a replayer of saved inputs (Fuzz/README.md).
        .target(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .executableTarget(
            name: "msab-fuzz",
            dependencies: [
                "CLibFuzzer", "EngineIOParser", "SocketIOParser", "STUN", "ICELite", "RTP", "SRTP", "DTLS", "SFU", "MediasoupWire",
                "Redis", "MessagePack", "SocketIORedis", nioCore,
            ],
            path: "Fuzz/msab-fuzz",
            swiftSettings: swiftSettings
        ),
        // ── tests (swift-testing) ───────────────────────────────────────────────────────
        // Test support shared by several test targets and needing no module of ours: hex test
        // vectors, a seeded random generator, ByteBuffer conveniences, a socket bound to a free
        // loopback port. RedisTesting and SFUTestSupport stay apart: they need Redis, or the SFU
        // and its cores, which every test target that only wants hex bytes would then build too.
        .target(name: "TestSupport", dependencies: ["SocketIOParser", nioCore], path: "Tests/TestSupport", swiftSettings: swiftSettings),
        // Test support shared by several test targets: a private redis-server per test.
        .target(
            name: "RedisTesting",
            dependencies: ["Redis", "TestSupport", nioCore, logging, .product(name: "NIOSSL", package: "swift-nio-ssl")],
            path: "Tests/RedisTesting",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "EngineIOParserTests", dependencies: ["EngineIOParser", nioCore], swiftSettings: swiftSettings),
        .testTarget(
            name: "EngineIOHummingbirdTests",
            dependencies: [
                "EngineIOHummingbird", "EngineIO", "EngineIOParser", nioCore,
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EngineIOTests", dependencies: ["EngineIO", "EngineIOParser", nioCore, .product(name: "NIOEmbedded", package: "swift-nio")],
            swiftSettings: swiftSettings),
        .testTarget(name: "SocketIOParserTests", dependencies: ["SocketIOParser", "TestSupport", nioCore], swiftSettings: swiftSettings),
        .testTarget(name: "MessagePackTests", dependencies: ["TestSupport", "MessagePack", nioCore], swiftSettings: swiftSettings),
        .testTarget(
            name: "SocketIORedisTests", dependencies: ["TestSupport", "SocketIORedis", "MessagePack", "SocketIOParser", nioCore],
            swiftSettings: swiftSettings),
        .testTarget(name: "SocketIOTests", dependencies: ["SocketIO", "SocketIOParser", "EngineIO", nioCore], swiftSettings: swiftSettings),
        .testTarget(name: "RTPTests", dependencies: ["TestSupport", "RTP", nioCore], resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(name: "STUNTests", dependencies: ["TestSupport", "STUN", nioCore], swiftSettings: swiftSettings),
        .testTarget(name: "ICELiteTests", dependencies: ["TestSupport", "ICELite", "STUN", nioCore], swiftSettings: swiftSettings),
        .testTarget(name: "DTLSTests", dependencies: ["TestSupport", "DTLS", nioCore], swiftSettings: swiftSettings),
        .testTarget(
            name: "SRTPTests", dependencies: ["TestSupport", "SRTP", "CSRTPCrypto", "COpenSSL", "CSRTP", nioCore], swiftSettings: swiftSettings),
        .testTarget(name: "MediasoupWireTests", dependencies: ["MediasoupWire"], resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(
            name: "LoadTestTests", dependencies: ["LoadTest", "SocketIOParser", "STUN", "ICELite", "DTLS", "SRTP", nioCore],
            swiftSettings: swiftSettings),
        .testTarget(name: "SpeakerDetectionTests", dependencies: ["SpeakerDetection"], swiftSettings: swiftSettings),
        .target(
            name: "SFUTestSupport", dependencies: ["SFU", "DTLS", "MediasoupWire", "RTP", "SRTP", "STUN", nioCore],
            path: "Tests/SFUTestSupport", swiftSettings: swiftSettings),
        .testTarget(
            name: "SFUTests", dependencies: ["SFU", "SFUTestSupport", "TestSupport", "RTP", "STUN", "DTLS", "SRTP", "MediasoupWire", nioCore],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SFUServerTests",
            dependencies: [
                "SFUServer", "SFU", "SFUTestSupport", "RTP", "STUN", "DTLS", "SRTP", "MediasoupWire", nioCore, nioPosix, serviceLifecycle,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RedisTests",
            dependencies: ["TestSupport", "Redis", "RedisTesting", nioCore, nioPosix, logging, .product(name: "NIOSSL", package: "swift-nio-ssl")],
            swiftSettings: swiftSettings
        ),
        // The whole application, built as `msab serve` builds it and driven with HummingbirdTesting.
        .testTarget(
            name: "AudioRoomsAppTests",
            dependencies: [
                "AudioRooms", logging, nioCore,
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AudioRoomsTests",
            dependencies: ["AudioRooms", "TestSupport", "SocketIOParser", "SFUServer", "SFU", "MediasoupWire", "Redis", "RedisTesting", logging],
            swiftSettings: swiftSettings),
    ]
)

// Developer affordance: `MSAB_ONLY=STUN,ICELite swift test` builds and tests only those modules
// (with their tests and whatever they depend on), so work on one protocol core does not wait for
// Hummingbird and the rest to compile. CI and `make` never set it.
if let only = Context.environment["MSAB_ONLY"], !only.isEmpty {
    var names = Set(only.split(separator: ",").map { String($0) })
    names.formUnion(names.map { $0 + "Tests" })
    var changed = true
    while changed {
        changed = false
        for target in package.targets where names.contains(target.name) {
            for dependency in target.dependencies {
                switch dependency {
                case .targetItem(let name, _), .byNameItem(let name, _):
                    if names.insert(name).inserted { changed = true }
                default:
                    break
                }
            }
        }
    }
    package.targets = package.targets.filter { names.contains($0.name) }
    package.products = []
}
