import AudioRooms
import Testing

@Suite struct ConfigurationTests {
    @Test func defaultsAreTheReferenceDefaults() throws {
        let c = try Configuration(environment: [:])
        #expect(c.port == 3030)
        #expect(c.pingIntervalMs == 25_000 && c.pingTimeoutMs == 20_000 && c.maxPayload == 1_000_000)
        #expect(c.rtcMinPort == 10_000 && c.rtcMaxPort == 59_999)
        #expect(c.defaultSeatCount == 15 && c.giftMaxRetries == 3 && c.rateLimitMessagesPerMinute == 60)
        #expect(c.corsOrigins == ["https://flyliveapp.com", "https://www.flyliveapp.com"])
        #expect(!c.usesLaravel && !c.usesRedis)
    }

    @Test func pipeIPIsAnAddressOtherNodesReach() throws {
        #expect(try Configuration(environment: [:]).pipeIP == nil)
        #expect(try Configuration(environment: ["MSAB_PIPE_IP": "10.1.2.3"]).pipeIP == "10.1.2.3")
        #expect(try Configuration(environment: ["MSAB_PIPE_IP": "fd00::7"]).pipeIP == "fd00::7")
        for bad in ["0.0.0.0", "::", "node-a.local", "10.1.2.3:4000", "999.1.1.1"] {
            #expect(throws: ConfigurationError.self) { try Configuration(environment: ["MSAB_PIPE_IP": bad]) }
        }
        let clustered = try Configuration(environment: ["REDIS_HOST": "127.0.0.1"])
        #expect(clustered.warnings.contains { $0.hasPrefix("MSAB_PIPE_IP is unset") })
        #expect(try Configuration(environment: ["REDIS_HOST": "127.0.0.1", "MSAB_PIPE_IP": "10.1.2.3"]).warnings.isEmpty)
    }

    @Test func maxConsumersPerWorkerIsBounded() throws {
        #expect(try Configuration(environment: [:]).maxConsumersPerWorker == 1_000)
        #expect(try Configuration(environment: ["MSAB_MAX_CONSUMERS_PER_WORKER": "1"]).maxConsumersPerWorker == 1)
        for bad in ["0", "-5", "1000001", "many", "99999999999999999999999"] {
            #expect(throws: ConfigurationError.self) { try Configuration(environment: ["MSAB_MAX_CONSUMERS_PER_WORKER": bad]) }
        }
    }

    @Test func readsTheContractNames() throws {
        let c = try Configuration(environment: [
            "PORT": "4000", "CORS_ORIGINS": " https://a.example , https://b.example ", "REDIS_HOST": "10.0.0.1",
            "LARAVEL_API_URL": "http://127.0.0.1:8000/", "LARAVEL_INTERNAL_KEY": String(repeating: "k", count: 32),
            "MSAB_EVENTS_ENABLED": "0", "MEDIASOUP_ANNOUNCED_IP": "203.0.113.7", "DEFAULT_SEAT_COUNT": "10",
        ])
        #expect(c.port == 4000)
        #expect(c.corsOrigins == ["https://a.example", "https://b.example"])
        #expect(c.usesRedis && c.usesLaravel)
        #expect(c.laravelAPIURL == "http://127.0.0.1:8000")
        #expect(c.eventsEnabled == false)
        #expect(c.mediaAnnouncedIP == "203.0.113.7")
        #expect(c.defaultSeatCount == 10)
    }

    @Test(arguments: [
        ("PORT", "70000"), ("PORT", "x"), ("MSAB_JWT_SECRET", "too-short"), ("LARAVEL_API_URL", "not a url"),
        ("LARAVEL_INTERNAL_KEY", String(repeating: "k", count: 40)), ("MEDIASOUP_LISTEN_IP", "999.1.1.1"),
        ("REDIS_TLS", "yes"), ("LOG_LEVEL", "loud"), ("DEFAULT_SEAT_COUNT", "16"), ("MEDIASOUP_NUM_WORKERS", "0"),
        ("SSL_KEY_PATH", "/etc/key.pem"),
    ])
    func badValuesNameTheirVariable(name: String, value: String) {
        #expect {
            _ = try Configuration(environment: [name: value])
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            // LARAVEL_INTERNAL_KEY and SSL_KEY_PATH alone are reported against their missing partner.
            let partner = ["LARAVEL_INTERNAL_KEY": "LARAVEL_API_URL", "SSL_KEY_PATH": "SSL_CERT_PATH"]
            return error.variable == (partner[name] ?? name)
                && error.description.hasPrefix("invalid configuration: \(error.variable): ")
        }
    }

    @Test func portRangeMustFitTheWorkers() {
        #expect(throws: ConfigurationError.self) {
            _ = try Configuration(environment: ["MEDIASOUP_RTC_MIN_PORT": "40000", "MEDIASOUP_RTC_MAX_PORT": "40001", "MEDIASOUP_NUM_WORKERS": "4"])
        }
    }

    @Test func plainHTTPToARemoteLaravelIsAWarning() throws {
        let key = String(repeating: "k", count: 32)
        for (url, warns) in [
            ("http://10.0.0.5:8000", true), ("https://api.example", false), ("http://127.0.0.1:8000", false),
            ("http://localhost", false), ("http://[::1]:80", false), ("http://api.example", true),
        ] {
            let c = try Configuration(environment: ["LARAVEL_API_URL": url, "LARAVEL_INTERNAL_KEY": key])
            #expect(c.warnings.contains { $0.hasPrefix("LARAVEL_API_URL") } == warns, "\(url)")
        }
        #expect(try Configuration(environment: [:]).warnings.isEmpty)
    }

    @Test func tlsNeedsBothFiles() throws {
        let c = try Configuration(environment: ["SSL_KEY_PATH": "/k.pem", "SSL_CERT_PATH": "/c.pem"])
        #expect(c.usesTLS && c.sslKeyPath == "/k.pem" && c.sslCertPath == "/c.pem")
        #expect(throws: ConfigurationError(variable: "SSL_KEY_PATH", problem: "required when SSL_CERT_PATH is set")) {
            _ = try Configuration(environment: ["SSL_CERT_PATH": "/c.pem"])
        }
    }
}
