import Synchronization
import Testing

@testable import DTLS

/// Endpoints share one configured `SSL_CTX` per certificate and use_srtp offer (``DTLSContext``):
/// made once, found again, and the cache stays bounded. The handshake tests (``DTLSPair``, whose
/// certificates are shared by every test) run on these shared contexts.
@Suite struct DTLSContextTests {
    @Test func oneContextPerCertificateAndOffer() throws {
        let certificate = try DTLSCertificate(commonName: "context")
        let first = try certificate.context(srtpProfiles: DTLSSRTPProfile.defaultOffer)
        #expect(try certificate.context(srtpProfiles: DTLSSRTPProfile.defaultOffer) === first)
        // Another offer is another context (use_srtp is set on the context).
        let other = try certificate.context(srtpProfiles: [.aes128CMHMACSHA1_80])
        #expect(other !== first)
        // Another certificate is another context, even with the same offer.
        let stranger = try DTLSCertificate(commonName: "other")
        #expect(try stranger.context(srtpProfiles: DTLSSRTPProfile.defaultOffer) !== first)
        // Endpoints made meanwhile use the cached one.
        _ = try DTLSEndpoint(role: .server, certificate: certificate)
        _ = try DTLSEndpoint(role: .client, certificate: certificate, srtpProfiles: [.aes128CMHMACSHA1_80])
        #expect(certificate.contexts.withLock { $0.count } == 2)
    }

    @Test func theCacheIsBounded() throws {
        let certificate = try DTLSCertificate(commonName: "bounded")
        let profiles = DTLSSRTPProfile.allCases
        // 4 single profiles + 12 ordered pairs: 16 distinct offers, past the cap of 8.
        var offers = profiles.map { [$0] }
        for a in profiles { for b in profiles where b != a { offers.append([a, b]) } }
        for offer in offers { _ = try certificate.context(srtpProfiles: offer) }
        #expect(certificate.contexts.withLock { $0.count } == DTLSCertificate.maxCachedContexts)
        // Offers past the cap still get a working (uncached) context.
        let late = try #require(offers.last)
        #expect(try certificate.context(srtpProfiles: late) !== certificate.context(srtpProfiles: late))
    }
}
