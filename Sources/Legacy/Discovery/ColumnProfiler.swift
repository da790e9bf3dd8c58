import FHIR
import Mapping

/// What discovery found out about one column.
public struct ColumnProfile: Sendable, Codable, Hashable {
    public var name: String
    public var declaredType: String
    /// `integer`, `decimal`, `date`, `datetime`, `boolean`, `text`, or `empty`.
    public var inferredType: String
    public var rows: Int
    public var nulls: Int
    /// Values that are there but blank (empty or spaces).
    public var blanks: Int
    /// Distinct values: exact up to a limit, estimated beyond it.
    public var distinct: Int
    public var distinctIsEstimate: Bool
    /// For date columns: the earliest and latest dates, and the formats seen.
    public var earliest: String?
    public var latest: String?
    public var dateFormats: [String]
    public var averageLength: Double
    public var phi: PHIClass
    public var confidence: Double
    public var evidence: [String]

    public var nullRate: Double { rows == 0 ? 0 : Double(nulls + blanks) / Double(rows) }
}

/// Reads a column's values once and keeps bounded summaries: counts, an exact distinct set up to a
/// limit and a k-minimum-values sketch beyond it, type votes, date range and formats, and a
/// sample of values for the PHI classifier.
struct ColumnProfiler {
    static let exactLimit = 50_000
    static let sketchSize = 512
    static let sampleSize = 400
    /// Date layouts legacy systems use, tried in order.
    static let dateFormats = [
        "yyyy-MM-dd", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-dd HH:mm", "MM/dd/yyyy",
        "MM/dd/yyyy hh:mm a", "MM/dd/yyyy HH:mm", "M/d/yyyy", "yyyyMMdd", "yyyyMMddHHmmss", "dd-MMM-yyyy",
        "yyyy-MM-dd HH:mm:ss.SSS",
    ].map(LocalTimeFormat.init)

    let name: String
    let declaredType: String
    var rows = 0
    var nulls = 0
    var blanks = 0
    var exact: Set<String>? = []
    var sketch: [UInt64] = []
    var integers = 0
    var decimals = 0
    var dates = 0
    var dateTimes = 0
    var booleans = 0
    var totalLength = 0
    var earliest: String?
    var latest: String?
    var formatCounts: [String: Int] = [:]
    var sample: [String] = []

    init(name: String, declaredType: String) {
        self.name = name
        self.declaredType = declaredType
    }

    var values: Int { rows - nulls - blanks }

    mutating func add(_ value: SourceValue) {
        rows += 1
        switch value {
        case .null:
            nulls += 1
            return
        case .integer: integers += 1
        case .real: decimals += 1
        case .blob: break
        case .text(let raw):
            if raw.allSatisfy(\.isWhitespace) {
                blanks += 1
                return
            }
        }
        guard let text = value.text else { return }
        totalLength += text.utf8.count
        if case .text = value { vote(text) }
        if exact != nil {
            exact!.insert(text)
            if exact!.count > Self.exactLimit {
                // Beyond the limit the sketch takes over, seeded with what the set held.
                for seen in exact! { addToSketch(seen) }
                exact = nil
            }
        } else {
            addToSketch(text)
        }
        if sample.count < Self.sampleSize {
            sample.append(text)
        } else if rows % 97 == 0 {
            sample[rows % Self.sampleSize] = text
        }
    }

    mutating func vote(_ text: String) {
        if Int64(text) != nil {
            integers += 1
            return
        }
        if Double(text) != nil, text.contains(".") {
            decimals += 1
            return
        }
        if ["true", "false", "yes", "no", "y", "n"].contains(text.lowercased()) { booleans += 1 }
        guard text.first?.isNumber == true, text.count >= 6, text.count <= 25 else { return }
        for format in Self.dateFormats {
            guard let value = format.parse(text) else { continue }
            if value.hour != nil { dateTimes += 1 } else { dates += 1 }
            formatCounts[format.pattern, default: 0] += 1
            let day = value.dateText
            if earliest.map({ day < $0 }) ?? true { earliest = day }
            if latest.map({ day > $0 }) ?? true { latest = day }
            return
        }
    }

    /// FNV-1a of the text, kept when among the smallest `sketchSize` seen.
    mutating func addToSketch(_ text: String) {
        var hash = FNV1a.hash(text.utf8)
        hash ^= hash >> 33
        hash = hash &* 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        // Kept sorted: a binary search finds the place, and a hash already there is not added twice.
        var low = 0
        var high = sketch.count
        while low < high {
            let middle = (low + high) / 2
            if sketch[middle] < hash { low = middle + 1 } else { high = middle }
        }
        if low < sketch.count, sketch[low] == hash { return }
        if sketch.count < Self.sketchSize {
            sketch.insert(hash, at: low)
        } else if low < sketch.count {
            sketch.insert(hash, at: low)
            sketch.removeLast()
        }
    }

    var distinct: (Int, Bool) {
        if let exact { return (exact.count, false) }
        guard sketch.count == Self.sketchSize, let largest = sketch.last else { return (sketch.count, true) }
        let estimate = Double(Self.sketchSize - 1) / (Double(largest) / Double(UInt64.max))
        return (Int(estimate.rounded()), true)
    }

    var inferredType: String {
        let present = values
        guard present > 0 else { return "empty" }
        func most(_ count: Int) -> Bool { Double(count) >= 0.95 * Double(present) }
        if most(integers) { return "integer" }
        if most(integers + decimals) { return "decimal" }
        if most(dateTimes + dates) { return dateTimes > 0 ? "datetime" : "date" }
        if most(booleans) { return "boolean" }
        return "text"
    }

    func profile(classifier: PHIClassifier, table: String) -> ColumnProfile {
        let (distinct, estimated) = self.distinct
        var result = ColumnProfile(
            name: name, declaredType: declaredType, inferredType: inferredType, rows: rows, nulls: nulls,
            blanks: blanks,
            distinct: distinct, distinctIsEstimate: estimated, earliest: earliest, latest: latest,
            dateFormats: formatCounts.sorted { $0.value > $1.value }.map(\.key),
            averageLength: values == 0 ? 0 : Double(totalLength) / Double(values), phi: .notPHI, confidence: 0,
            evidence: [])
        let verdict = classifier.classify(table: table, column: result, sample: sample)
        result.phi = verdict.phi
        result.confidence = verdict.confidence
        result.evidence = verdict.evidence
        return result
    }
}
