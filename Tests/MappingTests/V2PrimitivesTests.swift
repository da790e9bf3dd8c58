import FHIR
import Foundation
import Testing

@testable import Mapping

/// Timestamps are converted to UTC by calendar arithmetic of Ferry's own; Foundation's calendar is the
/// reference it must agree with, in zones with and without daylight saving, before 1970 and across
/// the changes.
struct V2PrimitivesTests {
    static func reference(_ text: String, zone: TimeZone) -> String? {
        let digits = Array(text)
        guard let year = Int(String(digits[0..<4])), let month = Int(String(digits[4..<6])),
            let day = Int(String(digits[6..<8])), let hour = Int(String(digits[8..<10])),
            let minute = Int(String(digits[10..<12])), let second = Int(String(digits[12..<14]))
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        guard
            let moment = calendar.date(
                from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))
        else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'"
        return formatter.string(from: moment)
    }

    @Test(arguments: [
        "UTC", "America/Chicago", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Kiritimati",
    ])
    func localTimesBecomeTheSameUTCAsFoundationsCalendar(zoneName: String) throws {
        let zone = try #require(TimeZone(identifier: zoneName))
        let primitives = V2Primitives(senderZone: zone)
        var generator = SystemRandomNumberGenerator()
        var samples: [String] = ["19000101000000", "19691231235959", "20000229120000", "20991231235959"]
        for _ in 0..<2_000 {
            let year = Int.random(in: 1901...2099, using: &generator)
            let month = Int.random(in: 1...12, using: &generator)
            let day = Int.random(in: 1...28, using: &generator)
            let hour = Int.random(in: 0...23, using: &generator)
            let minute = [0, 15, 30, 59].randomElement(using: &generator)!
            samples.append(String(format: "%04d%02d%02d%02d%02d%02d", year, month, day, hour, minute, 7))
        }
        for text in samples {
            let utc = primitives.dateTime(text, instant: false)
            #expect(utc?.0.stringValue == Self.reference(text, zone: zone), "\(zoneName) \(text)")
            #expect(utc?.original == text)
        }
    }

    /// The hours around daylight-saving changes: a time that occurs twice, a time that does not occur.
    @Test(arguments: [
        ("America/Chicago", "20240310023000"), ("America/Chicago", "20241103013000"),
        ("Europe/Berlin", "20240331023000"), ("Europe/Berlin", "20241027023000"),
        ("Australia/Sydney", "20241006023000"), ("Australia/Sydney", "20240407023000"),
        ("Australia/Lord_Howe", "20240407014500"),
    ])
    func timesAroundClockChangesAgreeWithFoundation(zoneName: String, text: String) throws {
        let zone = try #require(TimeZone(identifier: zoneName))
        #expect(
            V2Primitives(senderZone: zone).dateTime(text, instant: false)?.0.stringValue
                == Self.reference(text, zone: zone))
    }

    @Test func anOffsetInTheTextWinsOverTheSendersZone() throws {
        let primitives = V2Primitives(senderZone: try #require(TimeZone(identifier: "America/Chicago")))
        let converted = try #require(primitives.dateTime("20240315083000.1234-0500", instant: true))
        #expect(converted.0 == .string("2024-03-15T13:30:00.123Z"))
        #expect(converted.original == nil)
        #expect(primitives.dateTime("19650101", instant: false)?.0 == .string("1965-01-01"))
        #expect(primitives.dateTime("1965010112", instant: false)?.0 == .string("1965-01-01T18:00:00Z"))
        #expect(primitives.dateTime("20241301120000", instant: false) == nil)
        // An offset needs its sign.
        #expect(primitives.dateTime("20240315083000X0500", instant: false) == nil)
        #expect(primitives.dateTime("20240315083000\r\n0500", instant: false) == nil)
    }
}

/// Names read as bytes while they are ASCII, as Character by Character otherwise.
struct V2NameBytesTests {
    @Test func leadingLettersAndMapOwnersReadAsTheCharactersDo() {
        for text in ["Condition.code", "Organization", "Location[2]", "Ärzte.x", "", "9abc", "a-b", "Zz@", "ab`c"] {
            #expect(V2ConversionRun.leadingLetters(text) == String(text.prefix { $0.isLetter }), "'\(text)'")
        }
        for name in ["CWE[CodeableConcept]", "XPN", "[x]", "", "ÄB[c]"] {
            #expect(V2ConversionRun.mapOwner(name) == String(name.prefix { $0 != "[" }), "'\(name)'")
        }
    }
}

/// A fraction of a second is kept to milliseconds, before the `Z` of the UTC value.
@Test func aTimestampsFractionStandsBeforeItsZone() throws {
    let primitives = V2Primitives(senderZone: try #require(TimeZone(identifier: "UTC")))
    #expect(primitives.dateTime("20240115123045.1234", instant: false)?.0 == .string("2024-01-15T12:30:45.123Z"))
    #expect(primitives.dateTime("20240115123045.5-0500", instant: true)?.0 == .string("2024-01-15T17:30:45.5Z"))
    #expect(primitives.dateTime("20240115123045", instant: false)?.0 == .string("2024-01-15T12:30:45Z"))
}

/// Timestamps of ASCII text are read byte by byte; they must read exactly as Character by Character.
struct V2TimestampBytesTests {
    static func samples() -> [String] {
        V2PieceTests.samples(
            [
                "", "2024", "20240", "202401", "2024011", "20240115", "202401151", "2024011512", "20240115123",
                "202401151230", "20240115123045", "20240115123045.1234", "20240115123045.", "20240115123045..5",
                "20240115123045-0500", "20240115123045+0530", "20240115123045+053", "20240115123045Z", "2024011512+1",
                "20241315", "20240132", "20240115253000", "20240115126000", "20240115123061", ".20240115", "..",
                "20240115123045.12+0100", "20240115123045++100", "20240115123045-+100", "20240115 123045",
                // Not a sign: `\r\n` is one Character but two bytes (the random samples found it).
                "20240115123045\r\n0500", "20240115123045X0500", "20240115123045 0500",
            ],
            from: [
                "2024", "01", "15", "12", "30", "45", "9", "0", ".", "..", "+", "-", "0500", "Z", " ", "\r\n", "a",
                "13",
                "99", "+0100", "-1",
            ], count: 3000, length: 8)
    }

    @Test(arguments: ["UTC", "America/New_York", "Asia/Kolkata"])
    func dateTimesReadTheSameAsByCharacters(zone: String) throws {
        let primitives = V2Primitives(senderZone: try #require(TimeZone(identifier: zone)))
        for sample in Self.samples() {
            for instant in [false, true] {
                let fast = primitives.dateTime(sample, instant: instant)
                let slow = primitives.dateTimeByCharacters(sample, instant: instant)
                #expect(fast?.0 == slow?.0 && fast?.original == slow?.original, "'\(sample)' instant: \(instant)")
            }
        }
    }

    /// FHIR's years run from 0001 to 9999: year 0000, or a local time that is in year 0000 or 10000 in
    /// UTC, is no FHIR date (a fuzzer found MSH-7 `00000306202721` leaving a Provenance without `recorded`).
    @Test func timesOutsideFHIRsYearsAreNotDates() throws {
        let east = V2Primitives(senderZone: try #require(TimeZone(secondsFromGMT: 3600)))
        let west = V2Primitives(senderZone: try #require(TimeZone(secondsFromGMT: -3600)))
        #expect(V2Primitives.date("00000306") == nil && V2Primitives.dateByCharacters("0000٠3") == nil)
        #expect(V2Primitives.date("0000") == nil && V2Primitives.date("00010101") == "0001-01-01")
        for instant in [false, true] {
            #expect(east.dateTime("00000306202721", instant: instant) == nil)
            #expect(east.dateTime("00010101003000", instant: instant) == nil, "0000-12-31T23:30Z")
            #expect(west.dateTime("99991231233000", instant: instant) == nil, "10000-01-01T00:30Z")
            #expect(east.dateTime("00010101013000", instant: instant)?.0 == "0001-01-01T00:30:00Z")
            #expect(east.dateTimeByCharacters("00010101003000", instant: instant) == nil)
        }
    }

    @Test func datesReadTheSameAsByCharacters() {
        for sample in Self.samples() {
            #expect(V2Primitives.date(sample) == V2Primitives.dateByCharacters(sample), "'\(sample)'")
        }
    }

    /// A value becomes its element's FHIR type; strings, codes, ids and uris stay as sent.
    @Test(arguments: [
        ("19710422", "date", JSON.string("1971-04-22")),
        ("20240315083000", "dateTime", .string("2024-03-15T08:30:00Z")),
        ("20240315083000", "instant", .string("2024-03-15T08:30:00Z")),
        ("0830", "time", .string("08:30:00")),
        ("Y", "boolean", .bool(true)),
        ("n", "boolean", .bool(false)),
        ("42", "integer", .number("42")),
        ("7", "positiveInt", .number("7")),
        ("0", "unsignedInt", .number("0")),
        ("+.5", "decimal", .number("0.5")),
        ("ABC", "string", .string("ABC")),
        ("F", "code", .string("F")),
        ("x-1", "id", .string("x-1")),
        ("urn:oid:1.2.3", "uri", .string("urn:oid:1.2.3")),
        ("**bold**", "markdown", .string("**bold**")),
    ])
    func valuesBecomeTheirElementsType(_ text: String, _ type: String, _ expected: JSON) {
        #expect(V2Primitives(senderZone: TimeZone(identifier: "UTC")!).value(text, as: type)?.0 == expected)
    }

    @Test func valuesThatAreNotOfTheirTypeAreRefused() {
        let primitives = V2Primitives(senderZone: TimeZone(identifier: "UTC")!)
        for (text, type) in [("0", "positiveInt"), ("-1", "unsignedInt"), ("maybe", "boolean"), ("1e5", "decimal")] {
            #expect(primitives.value(text, as: type) == nil, "\(text) as \(type)")
        }
    }
}
