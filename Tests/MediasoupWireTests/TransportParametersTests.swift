import Foundation
import Testing

@testable import MediasoupWire

@Suite("Transport parameter types")
struct TransportParametersTests {
    @Test func candidateEncodesAddressAndIp() throws {
        let candidate = IceCandidate(foundation: "udpcandidate", priority: 1_076_302_079, address: "127.0.0.1", protocol: .udp, port: 40000)
        let text = String(decoding: try encodeJSON(candidate), as: UTF8.self)
        #expect(
            text
                == #"{"address":"127.0.0.1","foundation":"udpcandidate","ip":"127.0.0.1","port":40000,"priority":1076302079,"protocol":"udp","type":"host"}"#
        )
        #expect(try decodeJSON(IceCandidate.self, text) == candidate)
    }

    @Test func candidateWithOnlyIpFillsAddress() throws {
        let candidate = try decodeJSON(
            IceCandidate.self,
            #"{"foundation":"tcpcandidate","ip":"10.0.0.1","port":443,"priority":1,"protocol":"tcp","type":"host","tcpType":"passive"}"#
        )
        #expect(candidate.address == "10.0.0.1")
        #expect(candidate.tcpType == .passive)
    }

    @Test func candidateWithoutAnyAddressIsRejected() {
        #expect(throws: DecodingError.self) {
            try decodeJSON(IceCandidate.self, #"{"foundation":"x","port":1,"priority":1,"protocol":"udp","type":"host"}"#)
        }
    }

    @Test(arguments: [
        #"{"foundation":"x","address":"a","port":70000,"priority":1,"protocol":"udp","type":"host"}"#,
        #"{"foundation":"x","address":"a","port":1,"priority":-1,"protocol":"udp","type":"host"}"#,
        #"{"foundation":"x","address":"a","port":1,"priority":1,"protocol":"sctp","type":"host"}"#,
        #"{"foundation":"x","address":"a","port":1,"priority":1,"protocol":"udp","type":"srflx"}"#,
    ])
    func malformedCandidatesAreRejected(text: String) {
        #expect(throws: DecodingError.self) { try decodeJSON(IceCandidate.self, text) }
    }

    @Test func iceParametersRoundTrip() throws {
        let text = #"{"iceLite":true,"password":"0123456789abcdef0123456789abcdef","usernameFragment":"abcd1234efgh5678"}"#
        let parameters = try decodeJSON(IceParameters.self, text)
        #expect(parameters == IceParameters(usernameFragment: "abcd1234efgh5678", password: "0123456789abcdef0123456789abcdef", iceLite: true))
        #expect(String(decoding: try encodeJSON(parameters), as: UTF8.self) == text)
    }

    @Test func dtlsParameters() throws {
        let noRole = try decodeJSON(DtlsParameters.self, #"{"fingerprints":[{"algorithm":"sha-256","value":"AB:CD"}]}"#)
        #expect(noRole.role == nil)
        #expect(noRole.fingerprints == [DtlsFingerprint(algorithm: .sha256, value: "AB:CD")])
        // Unknown hash names still decode; the DTLS layer decides what it can verify.
        let odd = try decodeJSON(DtlsParameters.self, #"{"role":"auto","fingerprints":[{"algorithm":"md5","value":"00"}]}"#)
        #expect(odd.fingerprints.first?.algorithm.rawValue == "md5")
        #expect(throws: DecodingError.self) {
            try decodeJSON(DtlsParameters.self, #"{"role":"master","fingerprints":[]}"#)
        }
        #expect(throws: DecodingError.self) { try decodeJSON(DtlsParameters.self, #"{"role":"client"}"#) }
    }

    @Test func states() throws {
        #expect(try decodeJSON([IceState].self, #"["new","connected","completed","disconnected","closed"]"#) == IceState.allCases)
        #expect(try decodeJSON([DtlsState].self, #"["new","connecting","connected","failed","closed"]"#) == DtlsState.allCases)
        #expect(try decodeJSON([DtlsRole].self, #"["auto","client","server"]"#) == DtlsRole.allCases)
    }
}
