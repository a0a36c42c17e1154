import NIOCore

/// Hex → bytes for test vectors ("00 01 …", whitespace ignored).
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

extension ByteBuffer {
    var array: [UInt8] { Array(readableBytesView) }
}
