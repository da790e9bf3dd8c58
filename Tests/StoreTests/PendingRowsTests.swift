import Foundation
import Mapping
import Testing

@testable import Store

/// Bulk mode keeps pending rows by compact names only where the compact form is exact.
struct PendingRowsTests {
    static let id = ResourceID.make(type: "Patient", content: "1")

    /// Names that look like Ferry's and are not.
    static let nearMisses: [String] = {
        let id = Self.id
        var names = ["Patient/\(id.uppercased())", "/\(id)", "Patient\(id)", "Patient//\(id)", "Patient/\(id)x"]
        names += ["Patient/\(id.dropLast())", "Patient/" + id.replacingOccurrences(of: "-", with: "")]
        names += ["Patient/" + String(id.dropFirst()) + "-", "Patient/\(id.dropLast())g", "Patient/p-1", ""]
        // The dashes moved by one place.
        let digits = id.replacingOccurrences(of: "-", with: "")
        names.append("Patient/" + digits.enumerated().map { "\($0.offset == 9 ? "-" : "")\($0.element)" }.joined())
        return names
    }()

    /// Ferry's names under several types (one UUID under three of them), and names of any type bytes.
    static let ferryNames: [String] = {
        var names = ["Patient/\(id)", "Observation/\(id)", "MedicationRequest/\(id)", "Pätient/\(id)", "P /\(id)"]
        for number in 0..<300 {
            let type = ["Encounter", "Condition", "Observation"][number % 3]
            names.append("\(type)/\(ResourceID.make(type: type, content: "\(number % 150)"))")
        }
        return names
    }()

    /// Set and read in any order, the rows are those a dictionary by name holds.
    @Test func rowsAreThoseADictionaryByNameHolds() {
        var pending = PendingRows()
        var plain: [String: Int64] = [:]
        let names = Self.ferryNames + Self.nearMisses
        for step in 0..<5_000 {
            // The names in a scrambled order, each met many times.
            let name = names[(step &* 7_919 &+ step / 13) % names.count]
            if step % 3 == 0 {
                #expect(pending[name] == plain[name], "\(name)")
            } else {
                let row = Int64(step) * (step % 7 == 0 ? 1 << 40 : 1)
                pending.set(row, for: name)
                plain[name] = row
            }
        }
        #expect(pending.count == plain.count)
        for name in names { #expect(pending[name] == plain[name], "\(name)") }
    }

    /// Ferry's names take the compact form — but the second type under one UUID — and near misses do not.
    @Test func onlyFerrysNamesAreCompact() {
        var pending = PendingRows()
        for (row, name) in Self.ferryNames.enumerated() { pending.set(Int64(row), for: name) }
        // The UUID of Patient/id is taken by Patient: Observation, MedicationRequest, Pätient and "P "
        // under it are kept as written.
        #expect(pending.writtenCount == 4)
        for (row, name) in Self.nearMisses.enumerated() { pending.set(Int64(row), for: name) }
        #expect(pending.writtenCount == 4 + Self.nearMisses.count)
        // A row beyond 2^48 is kept as written too.
        pending.set(1 << 50, for: "Encounter/\(ResourceID.make(type: "Encounter", content: "x"))")
        #expect(pending.writtenCount == 5 + Self.nearMisses.count)
        #expect(pending["Encounter/\(ResourceID.make(type: "Encounter", content: "x"))"] == 1 << 50)
    }

    /// The 128 bits read are the UUID's own (as Foundation reads it), for every digit.
    @Test func theBitsAreTheUUIDs() {
        for number in 0..<300 {
            let text = ResourceID.make(type: "Condition", content: "\(number)")
            let bits = Array(text.utf8).withUnsafeBufferPointer { PendingRows.uuid($0) }
            let bytes = withUnsafeBytes(of: UUID(uuidString: text)!.uuid) { Array($0) }
            let high = bytes[..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = bytes[8...].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            #expect(bits == PendingRows.UUIDBits(high: high, low: low), "\(text)")
        }
    }
}
