import Foundation

extension FHIRPathEvaluator {
    /// Functions of one input value: conversions, strings, math, boundaries and the FHIR additions.
    ///
    /// Strings are searched with the standard library's algorithms, never Foundation's `range(of:)`,
    /// `contains`, `components(separatedBy:)` or `replacingOccurrences`: on Linux those take U+0000 in a
    /// pattern for its end (`'10'.contains('0\\u0000')` is true, and replacing it stops the process).
    func callValueFunction(
        _ function: FHIRPathFunction, on input: [FHIRPathValue], arguments: [FHIRPathNode],
        focus: [FHIRPathValue], scope: Scope, at offset: Int
    ) throws(FHIRError) -> [FHIRPathValue] {
        func argument(_ index: Int) throws(FHIRError) -> [FHIRPathValue] {
            try evaluate(arguments[index], focus, scope)
        }
        func stringArgument(_ index: Int) throws(FHIRError) -> String? {
            try self.stringArgument(arguments[index], focus: focus, scope: scope, of: function, at: offset)
        }
        switch function {
        case .join:
            let separator = arguments.isEmpty ? "" : try stringArgument(0) ?? ""
            var parts: [String] = []
            for item in input {
                guard case .string(let text) = item.system else {
                    throw failure("join() joins strings, not \(Self.describe(item))", at: offset)
                }
                parts.append(text)
            }
            return [.string(parts.joined(separator: separator))]
        case .extension, .hasExtension, .hasValue, .getValue, .resolve, .memberOf, .conformsTo, .htmlChecks:
            return try callFHIRFunction(
                function, on: input, arguments: arguments, focus: focus, scope: scope, at: offset)
        default:
            break
        }

        guard !input.isEmpty else { return [] }
        guard input.count == 1 else {
            throw failure(
                "\(function.rawValue)() applies to a single item, not a collection of \(input.count)", at: offset)
        }
        let item = input[0]
        let value = item.system

        switch function {
        case .toBoolean, .convertsToBoolean:
            return Self.converted(Self.toBoolean(value).map { .boolean($0) }, function == .convertsToBoolean)
        case .toInteger, .convertsToInteger:
            return Self.converted(Self.toInteger(value).map { .integer($0) }, function == .convertsToInteger)
        case .toDecimal, .convertsToDecimal:
            return Self.converted(Self.toDecimal(value).map { .decimal($0) }, function == .convertsToDecimal)
        case .toString, .convertsToString:
            return Self.converted(Self.toString(value).map { .string($0) }, function == .convertsToString)
        case .toDate, .convertsToDate:
            return Self.converted(
                Self.toTemporal(value, kind: .date).map { .temporal($0) }, function == .convertsToDate)
        case .toDateTime, .convertsToDateTime:
            return Self.converted(
                Self.toTemporal(value, kind: .dateTime).map { .temporal($0) }, function == .convertsToDateTime)
        case .toTime, .convertsToTime:
            return Self.converted(
                Self.toTemporal(value, kind: .time).map { .temporal($0) }, function == .convertsToTime)
        case .toQuantity, .convertsToQuantity:
            var quantity = Self.toQuantity(item)
            if let target = arguments.isEmpty ? nil : try stringArgument(0), let current = quantity {
                quantity = current.converted(toUnitOf: FHIRPathQuantity(value: FHIRPathDecimal(1), unit: target))
            }
            return Self.converted(quantity.map { .quantity($0) }, function == .convertsToQuantity)
        case .abs, .ceiling, .exp, .floor, .ln, .log, .power, .round, .sqrt, .truncate, .lowBoundary, .highBoundary,
            .precision, .comparable:
            return try callMathFunction(
                function, on: value, arguments: arguments, focus: focus, scope: scope, at: offset)
        default:
            break
        }

        guard case .string(let text) = value else {
            throw failure("\(function.rawValue)() applies to a string, not \(Self.describe(item))", at: offset)
        }
        switch function {
        case .indexOf, .lastIndexOf:
            guard let part = try stringArgument(0) else { return [] }
            if part.isEmpty { return [.integer(function == .indexOf ? 0 : text.count)] }
            let start =
                function == .indexOf ? text.firstRange(of: part)?.lowerBound : Self.lastStart(of: part, in: text)
            return [.integer(start.map { text.distance(from: text.startIndex, to: $0) } ?? -1)]
        case .substring:
            guard let start = try integerArgument(try argument(0), function, at: offset) else { return [] }
            let characters = Array(text)
            guard start >= 0, start < characters.count else { return [] }
            var length = characters.count - start
            if arguments.count > 1 {
                let requested = try integerArgument(try argument(1), function, at: offset)
                length = min(length, max(0, requested ?? length))
            }
            return [.string(String(characters[start..<(start + length)]))]
        case .startsWith:
            guard let part = try stringArgument(0) else { return [] }
            return Self.collection(text.hasPrefix(part))
        case .endsWith:
            guard let part = try stringArgument(0) else { return [] }
            return Self.collection(text.hasSuffix(part))
        case .contains:
            guard let part = try stringArgument(0) else { return [] }
            return Self.collection(part.isEmpty || text.firstRange(of: part) != nil)
        case .upper:
            return [.string(text.uppercased())]
        case .lower:
            return [.string(text.lowercased())]
        case .replace:
            guard let pattern = try stringArgument(0), let substitution = try stringArgument(1) else { return [] }
            if pattern.isEmpty {
                return [.string(substitution + text.map { String($0) + substitution }.joined())]
            }
            return [.string(text.replacing(pattern, with: substitution))]
        case .matches, .matchesFull:
            guard let pattern = try stringArgument(0) else { return [] }
            let regex = try regularExpression(pattern, whole: function == .matchesFull, at: offset)
            let range = NSRange(text.startIndex..., in: text)
            return Self.collection(regex.firstMatch(in: text, options: [], range: range) != nil)
        case .replaceMatches:
            guard let pattern = try stringArgument(0), let substitution = try stringArgument(1) else { return [] }
            if pattern.isEmpty { return [.string(text)] }
            let regex = try regularExpression(pattern, whole: false, at: offset)
            let range = NSRange(text.startIndex..., in: text)
            return [
                .string(regex.stringByReplacingMatches(in: text, options: [], range: range, withTemplate: substitution))
            ]
        case .length:
            return [.integer(text.count)]
        case .toChars:
            return text.map { .string(String($0)) }
        case .trim:
            return [.string(text.trimmingCharacters(in: .whitespacesAndNewlines))]
        case .split:
            guard let separator = try stringArgument(0) else { return [] }
            if separator.isEmpty { return text.map { .string(String($0)) } }
            return text.split(separator: separator, omittingEmptySubsequences: false).map { .string(String($0)) }
        case .encode, .decode, .escape, .unescape:
            guard let format = try stringArgument(0) else { return [] }
            return try Self.transcode(text, function, format: format).map { [.string($0)] } ?? []
        default:
            throw failure("\(function.rawValue)() is not available here", at: offset)
        }
    }

    private static func converted(_ value: FHIRPathValue?, _ isCheck: Bool) -> [FHIRPathValue] {
        isCheck ? Self.collection(value != nil) : (value.map { [$0] } ?? [])
    }

    /// A regular expression, taken from the compiled expression's cache when its pattern was a literal.
    func regularExpression(_ pattern: String, whole: Bool, at offset: Int) throws(FHIRError) -> NSRegularExpression {
        let source = whole ? "^(?:" + pattern + ")$" : pattern
        if let cached = expression.regularExpressions[source] { return cached }
        do {
            return try NSRegularExpression(pattern: source, options: [.dotMatchesLineSeparators])
        } catch {
            throw failure("'\(pattern)' is not a valid regular expression", at: offset)
        }
    }

    // MARK: - Conversions

    static func toBoolean(_ value: FHIRPathValue) -> Bool? {
        switch value {
        case .boolean(let flag): return flag
        case .integer(let number): return number == 1 ? true : (number == 0 ? false : nil)
        case .decimal(let number): return number.value == 1 ? true : (number.value == 0 ? false : nil)
        case .string(let text):
            switch text.lowercased() {
            case "true", "t", "yes", "y", "1", "1.0": return true
            case "false", "f", "no", "n", "0", "0.0": return false
            default: return nil
            }
        default: return nil
        }
    }

    static func toInteger(_ value: FHIRPathValue) -> Int? {
        switch value {
        case .integer(let number): return number
        case .boolean(let flag): return flag ? 1 : 0
        case .string(let text):
            let digits = text.hasPrefix("+") || text.hasPrefix("-") ? text.dropFirst() : Substring(text)
            guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return Int(text.hasPrefix("+") ? String(text.dropFirst()) : text)
        default: return nil
        }
    }

    static func toDecimal(_ value: FHIRPathValue) -> FHIRPathDecimal? {
        switch value {
        case .integer(let number): return FHIRPathDecimal(number)
        case .decimal(let number): return number
        case .boolean(let flag): return FHIRPathDecimal(Decimal(flag ? 1 : 0), scale: 1)
        case .string(let text):
            guard !text.contains("e"), !text.contains("E") else { return nil }
            return FHIRPathDecimal(text: text)
        default: return nil
        }
    }

    static func toString(_ value: FHIRPathValue) -> String? {
        switch value {
        case .boolean(let flag): return flag ? "true" : "false"
        case .integer(let number): return String(number)
        case .decimal(let number): return number.text
        case .string(let text): return text
        case .temporal(let temporal): return temporal.text
        case .quantity(let quantity): return quantity.literal
        case .element: return nil
        }
    }

    static func toTemporal(_ value: FHIRPathValue, kind: FHIRPathTemporal.Kind) -> FHIRPathTemporal? {
        switch value {
        case .temporal(var temporal):
            switch (temporal.kind, kind) {
            case (.time, .time): return temporal
            case (.time, _), (_, .time): return nil
            case (_, .date):
                temporal.kind = .date
                temporal.precision = min(temporal.precision, .day)
                temporal.timeZoneOffset = nil
                return temporal
            default:
                temporal.kind = .dateTime
                return temporal
            }
        case .string(let text):
            if kind == .time { return FHIRPathTemporal(fhirTime: text) }
            guard var temporal = FHIRPathTemporal(fhirDateTime: text, kind: kind) else { return nil }
            if kind == .date {
                temporal.kind = .date
                temporal.precision = min(temporal.precision, .day)
                temporal.timeZoneOffset = nil
            }
            return temporal
        default:
            return nil
        }
    }

    static func toQuantity(_ item: FHIRPathValue) -> FHIRPathQuantity? {
        if case .element(let element) = item, item.isFHIRQuantity { return element.quantityValue }
        switch item.system {
        case .quantity(let quantity): return quantity
        case .integer(let number): return FHIRPathQuantity(value: FHIRPathDecimal(number), unit: "1")
        case .decimal(let number): return FHIRPathQuantity(value: number, unit: "1")
        case .boolean(let flag):
            return FHIRPathQuantity(value: FHIRPathDecimal(Decimal(flag ? 1 : 0), scale: 1), unit: "1")
        case .string(let text):
            let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
            guard let number = parts.first, let decimal = FHIRPathDecimal(text: number) else { return nil }
            guard parts.count == 2 else { return FHIRPathQuantity(value: decimal, unit: "1") }
            let unit = parts[1].trimmingCharacters(in: .whitespaces)
            if unit.count >= 2, unit.hasPrefix("'"), unit.hasSuffix("'") {
                return FHIRPathQuantity(value: decimal, unit: String(unit.dropFirst().dropLast()))
            }
            return FHIRPathQuantity.CalendarUnit(keyword: unit).map {
                FHIRPathQuantity(value: decimal, calendarUnit: $0)
            }
        default:
            return nil
        }
    }

    // MARK: - Encodings

    /// Where the last occurrence of `part` in `text` starts, overlapping ones included
    /// (`'aaa'.lastIndexOf('aa')` is 1).
    private static func lastStart(of part: String, in text: String) -> String.Index? {
        var index = text.endIndex
        while index > text.startIndex {
            text.formIndex(before: &index)
            if text[index...].starts(with: part) { return index }
        }
        return nil
    }

    private static func transcode(
        _ text: String, _ function: FHIRPathFunction, format: String
    ) throws(FHIRError)
        -> String?
    {
        switch (function, format) {
        case (.encode, "base64"): return Data(text.utf8).base64EncodedString()
        case (.encode, "urlbase64"):
            return Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_")
        case (.encode, "hex"): return text.utf8.map { String(format: "%02x", $0) }.joined()
        case (.decode, "base64"), (.decode, "urlbase64"):
            let standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            return Data(base64Encoded: standard).flatMap { String(data: $0, encoding: .utf8) }
        case (.decode, "hex"):
            var bytes: [UInt8] = []
            var digits = text.utf8.makeIterator()
            while let high = digits.next() {
                guard let low = digits.next(),
                    let byte = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(byte)
            }
            return String(bytes: bytes, encoding: .utf8)
        case (.escape, "html"):
            return text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
                .replacingOccurrences(of: "'", with: "&#39;")
        case (.unescape, "html"):
            return text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&amp;", with: "&")
        case (.escape, "json"):
            return text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        case (.unescape, "json"):
            return text.replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\")
        default:
            return nil
        }
    }
}
