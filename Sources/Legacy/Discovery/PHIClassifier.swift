/// Decides what kind of PHI a column holds from two kinds of evidence: its name (split into words:
/// `phone_home`, `providerID`, `DOB`) and its values (the share of a sample that matches a pattern:
/// SSNs, e-mail addresses, phone numbers, medical record numbers, dates, long text). Each verdict
/// carries the evidence and a confidence: 0.95 when name and values agree, 0.8 on the name alone,
/// 0.7 on the values alone.
public struct PHIClassifier: Sendable {
    public struct Verdict: Sendable, Hashable {
        public var phi: PHIClass
        public var confidence: Double
        public var evidence: [String]
    }

    public init() {}

    /// Words of a column name: `phone_home` → phone, home; `providerID` → provider, id; `DOB` → dob.
    static func words(_ name: String) -> [String] {
        var words: [String] = []
        var current = ""
        var previousLower = false
        for character in name {
            if character == "_" || character == "-" || character == " " || character == "." {
                if !current.isEmpty { words.append(current) }
                current = ""
                previousLower = false
                continue
            }
            if character.isUppercase, previousLower, !current.isEmpty {
                words.append(current)
                current = ""
            }
            current.append(Character(character.lowercased()))
            previousLower = character.isLowercase || character.isNumber
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Name words that say what a column is.
    static let nameRules: [(PHIClass, Set<String>, [String])] = [
        (.ssn, ["ssn", "ss", "social", "sin"], ["social_security"]),
        (.mrn, ["mrn", "pubpid", "chart"], ["medical_record", "record_number", "chart_number"]),
        (.birthDate, ["dob", "birthdate", "birthday", "bdate"], ["birth_date", "date_of_birth"]),
        (
            .name,
            [
                "fname", "lname", "mname", "firstname", "lastname", "middlename", "surname", "forename", "givenname",
                "familyname",
            ],
            [
                "first_name", "last_name", "middle_name", "given_name", "family_name", "patient_name", "full_name",
                "maiden_name",
            ]
        ),
        (.email, ["email", "mail"], ["e_mail"]),
        (.phone, ["phone", "tel", "telephone", "fax", "mobile", "cell", "pager"], []),
        (.address, ["street", "address", "addr", "city", "zip", "zipcode", "postal", "postcode"], ["postal_code"]),
        (
            .freeText,
            ["note", "notes", "comment", "comments", "body", "reason", "narrative", "remarks", "memo", "description"],
            []
        ),
    ]

    func byName(_ name: String) -> PHIClass? {
        let words = Self.words(name)
        let joined = words.joined(separator: "_")
        for (phi, singles, phrases) in Self.nameRules {
            if words.contains(where: singles.contains) || phrases.contains(where: joined.contains) { return phi }
        }
        // Any date about a person is PHI: `date`, `begdate`, `date_added`.
        if words.contains(where: { $0.contains("date") }) { return .otherDate }
        return nil
    }

    /// The share of the sample each value pattern matches.
    func byValues(_ sample: [String], column: ColumnProfile) -> (PHIClass, Double)? {
        guard !sample.isEmpty else { return nil }
        func share(_ test: (String) -> Bool) -> Double {
            Double(sample.count(where: test)) / Double(sample.count)
        }
        let tests: [(PHIClass, (String) -> Bool)] = [
            (.ssn, Self.looksLikeSSN), (.email, Self.looksLikeEmail), (.phone, Self.looksLikePhone),
            (.mrn, Self.looksLikeMRN),
        ]
        for (phi, test) in tests {
            let matched = share(test)
            if matched >= 0.8 { return (phi, matched) }
        }
        if column.inferredType == "date" || column.inferredType == "datetime" { return (.otherDate, 1) }
        let spaced = share { $0.contains(" ") }
        if column.averageLength >= 40, spaced >= 0.8 { return (.freeText, spaced) }
        return nil
    }

    public func classify(table: String, column: ColumnProfile, sample: [String]) -> Verdict {
        let named = byName(column.name)
        let valued = byValues(sample, column: column)
        var evidence: [String] = []
        if let named { evidence.append("name '\(column.name)' reads as \(named.rawValue)") }
        if let (phi, matched) = valued {
            evidence.append(
                "\(Int((matched * 100).rounded()))% of \(sample.count) sampled values look like \(phi.rawValue)")
        }
        switch (named, valued?.0) {
        case (let name?, let value?) where name == value:
            return Verdict(phi: name, confidence: 0.95, evidence: evidence)
        case (.birthDate?, .otherDate?):
            return Verdict(phi: .birthDate, confidence: 0.95, evidence: evidence)
        case (let name?, _) where name == .freeText && column.inferredType != "text":
            // `reason_code` holding numbers is a code, not a narrative.
            return Verdict(
                phi: .notPHI, confidence: 0.6, evidence: evidence + ["but its values are \(column.inferredType)"])
        case (let name?, _):
            return Verdict(phi: name, confidence: 0.8, evidence: evidence)
        case (nil, let value?):
            return Verdict(phi: value, confidence: 0.7, evidence: evidence)
        case (nil, nil):
            return Verdict(
                phi: .notPHI, confidence: sample.isEmpty ? 0.5 : 0.9, evidence: ["no name or value pattern of PHI"])
        }
    }

    static func digits(_ text: String) -> String { String(text.filter(\.isNumber)) }

    static func looksLikeSSN(_ text: String) -> Bool {
        let d = digits(text)
        guard d.count == 9, text.count <= 11 else { return false }
        let shape = text.map { $0.isNumber ? "9" : String($0) }.joined()
        return shape == "999-99-9999" || shape == "999999999" || shape == "999 99 9999"
    }

    static func looksLikeEmail(_ text: String) -> Bool {
        guard let at = text.firstIndex(of: "@") else { return false }
        let domain = text[text.index(after: at)...]
        return at > text.startIndex && domain.contains(".") && !text.contains(" ")
    }

    static func looksLikePhone(_ text: String) -> Bool {
        let d = digits(text)
        guard d.count == 10 || (d.count == 11 && d.hasPrefix("1")) else { return false }
        return text.allSatisfy { $0.isNumber || "()-. +".contains($0) } && text.contains(where: { !$0.isNumber })
    }

    /// Letters then digits (`NS-0001234`, `MRN00042`): how record numbers are usually made.
    static func looksLikeMRN(_ text: String) -> Bool {
        let letters = text.prefix { $0.isLetter && $0.isASCII }
        let rest = text.dropFirst(letters.count).drop { $0 == "-" }
        return (1...4).contains(letters.count) && rest.count >= 5 && rest.allSatisfy(\.isNumber)
    }
}
