import Foundation
import NIOCore

/// Hex → bytes for test vectors ("80 60 …", whitespace ignored).
func bytes(_ hex: String) -> [UInt8] {
    let digits = hex.filter { !$0.isWhitespace }
    var result: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        result.append(UInt8(digits[index..<next], radix: 16)!)
        index = next
    }
    return result
}

func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

extension ByteBuffer {
    init(_ array: [UInt8]) {
        self = ByteBuffer(bytes: array)
    }

    var array: [UInt8] { Array(readableBytesView) }
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
