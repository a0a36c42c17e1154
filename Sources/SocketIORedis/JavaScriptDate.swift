/// JavaScript's `Date.prototype.toISOString` for the instant notepack decodes a timestamp into.
enum JavaScriptDate {
    /// ECMA-262 §21.4.1: a Date holds at most ±8.64e15 ms around the epoch.
    static let maximumMilliseconds: Int64 = 8_640_000_000_000_000

    /// `new Date(seconds * 1000 + nanoseconds / 1e6).toJSON()`: nil when that is not a valid Date.
    static func isoString(seconds: Int64, nanoseconds: UInt32) -> String? {
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return nil }
        var milliseconds = scaled &+ Int64(nanoseconds / 1_000_000)
        // TimeClip truncates toward zero: −999.5 ms is −999.
        if milliseconds < 0, nanoseconds % 1_000_000 != 0 { milliseconds += 1 }
        guard abs(milliseconds) <= maximumMilliseconds else { return nil }
        return isoString(milliseconds: milliseconds)
    }

    static func isoString(milliseconds: Int64) -> String {
        let msPerDay: Int64 = 86_400_000
        var days = milliseconds / msPerDay
        var msOfDay = milliseconds % msPerDay
        if msOfDay < 0 {
            days -= 1
            msOfDay += msPerDay
        }
        // Civil date from days since 1970-01-01 (proleptic Gregorian; H. Hinnant, "chrono-
        // compatible low-level date algorithms", days_from_civil's inverse).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)

        func padded(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        // Years 0...9999 print with four digits, others as ±YYYYYY (expanded years).
        let yearText = (0...9999).contains(year) ? padded(year, 4) : (year < 0 ? "-" : "+") + padded(abs(year), 6)
        let hours = msOfDay / 3_600_000
        let minutes = msOfDay / 60_000 % 60
        let secondsOfMinute = msOfDay / 1000 % 60
        let millis = msOfDay % 1000
        return "\(yearText)-\(padded(month, 2))-\(padded(day, 2))T\(padded(hours, 2)):\(padded(minutes, 2)):"
            + "\(padded(secondsOfMinute, 2)).\(padded(millis, 3))Z"
    }
}
