// JavaScript's Number::toString (ECMA-262 §6.1.6.1.20, radix 10), which is what `String(n)` and
// `JSON.stringify` print. Socket.IO peers are JavaScript: a numeric event name `42[1e300]` is the
// event "1e+300" for socket.io (EventEmitter keys are strings), and numbers we write should read
// exactly as JSON.stringify would write them.

public enum JavaScriptNumber {
    /// `String(x)` in JavaScript: `3` → "3", `-0.5` → "-0.5", `1e300` → "1e+300",
    /// `2**63` → "9223372036854776000", `1e-7` → "1e-7", `-0` → "0". Never traps.
    public static func string(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x == 0 { return "0" }
        if x.isInfinite { return x < 0 ? "-Infinity" : "Infinity" }
        if x < 0 { return "-" + string(-x) }
        // Integers below 2^53 print as their digits (and Int64 holds them exactly).
        if x < 9_007_199_254_740_992, x.rounded(.towardZero) == x, let integer = Int64(exactly: x) { return String(integer) }
        let (digits, n) = shortestDigits(x)
        return format(digits: digits, n: n)
    }

    /// The shortest digit string s (no leading or trailing zeros) and the exponent n with
    /// x = 0.s × 10^n, i.e. s × 10^(n − k) for k digits: the `k`, `n`, `s` of the ECMAScript
    /// algorithm. Swift's description already yields the shortest digits that round-trip,
    /// closest to x when there is a choice, as ECMAScript asks; only the layout differs.
    static func shortestDigits(_ x: Double) -> (digits: [UInt8], n: Int) {
        let text = x.description.utf8  // "1e+300", "0.001", "1.5e-07", "123.456", "9.223372036854776e+18"
        var digits: [UInt8] = []
        digits.reserveCapacity(20)
        var pointAt: Int?
        var exponent = 0
        var exponentSign = 1
        var inExponent = false
        for byte in text {
            switch byte {
            case UInt8(ascii: "e"), UInt8(ascii: "E"): inExponent = true
            case UInt8(ascii: "-") where inExponent: exponentSign = -1
            case UInt8(ascii: "+"): continue
            case UInt8(ascii: "."): pointAt = digits.count
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if inExponent {
                    // A double's decimal exponent has at most three digits; clamp anyway.
                    exponent = min(exponent &* 10 &+ Int(byte &- UInt8(ascii: "0")), 100_000)
                } else {
                    digits.append(byte)
                }
            default: continue
            }
        }
        var n = (pointAt ?? digits.count) &+ exponentSign &* exponent
        var leading = 0
        while leading < digits.count, digits[leading] == UInt8(ascii: "0") { leading += 1 }
        digits.removeFirst(leading)
        n &-= leading
        while digits.last == UInt8(ascii: "0") { digits.removeLast() }
        if digits.isEmpty { return ([UInt8(ascii: "0")], 1) }
        return (digits, n)
    }

    static func format(digits: [UInt8], n: Int) -> String {
        let k = digits.count
        var out: [UInt8] = []
        out.reserveCapacity(k + 8)
        if k <= n, n <= 21 {
            out.append(contentsOf: digits)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: n - k))
        } else if 0 < n, n <= 21 {
            out.append(contentsOf: digits[..<n])
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[n...])
        } else if -6 < n, n <= 0 {
            out.append(contentsOf: "0.".utf8)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -n))
            out.append(contentsOf: digits)
        } else {
            let e = n &- 1
            out.append(digits[0])
            if k > 1 {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: digits[1...])
            }
            out.append(UInt8(ascii: "e"))
            out.append(e < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            out.append(contentsOf: String(e.magnitude).utf8)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
