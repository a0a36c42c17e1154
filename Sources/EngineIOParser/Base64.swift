// RFC 4648 §4 base64 (the alphabet Engine.IO uses for binary over long-polling). Written here
// because Foundation's Data(base64Encoded:) would force a Foundation dependency and a copy on the
// hot path of every binary packet; this one works on byte sequences directly.
public enum Base64 {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = iterator.next()
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
            out.append(b1 == nil ? UInt8(ascii: "=") : alphabet[Int(((b1 ?? 0) & 0x0F) << 2 | (b2 ?? 0) >> 6)])
            out.append(b2 == nil ? UInt8(ascii: "=") : alphabet[Int((b2 ?? 0) & 0x3F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil for anything that is not canonical-enough base64 (bad characters, bad length).
    public static func decode<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        var values: [UInt8] = []
        values.reserveCapacity(text.count)
        var padding = 0
        for byte in text {
            if byte == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0 else { return nil }
            let value = reverse[Int(byte)]
            guard value != 0xFF else { return nil }
            values.append(value)
        }
        guard padding <= 2, values.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 3 / 4)
        var index = 0
        while index + 4 <= values.count {
            out.append(values[index] << 2 | values[index + 1] >> 4)
            out.append(values[index + 1] << 4 | values[index + 2] >> 2)
            out.append(values[index + 2] << 6 | values[index + 3])
            index += 4
        }
        let rest = values.count - index
        if rest >= 2 { out.append(values[index] << 2 | values[index + 1] >> 4) }
        if rest == 3 { out.append(values[index + 1] << 4 | values[index + 2] >> 2) }
        return out
    }
}
