import Foundation
import NIOCore

extension ByteBuffer {
    init(_ array: [UInt8]) {
        self = ByteBuffer(bytes: array)
    }
}

/// The bytes of `Fixtures/<name>.raw` (see Fixtures/make_fixtures.py for how each was produced).
func fixture(_ name: String) throws -> [UInt8] {
    guard let url = Bundle.module.url(forResource: name, withExtension: "raw", subdirectory: "Fixtures") else {
        throw FixtureMissing(name: name)
    }
    return Array(try Data(contentsOf: url))
}

struct FixtureMissing: Error {
    var name: String
}
