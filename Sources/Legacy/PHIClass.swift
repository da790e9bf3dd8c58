/// What kind of protected health information a column holds (HIPAA's identifiers, grouped as a
/// migration needs them).
public enum PHIClass: String, Sendable, Hashable, CaseIterable, Codable {
    case name
    case birthDate = "birth-date"
    case ssn
    case mrn
    case address
    case phone
    case email
    case freeText = "free-text"
    case otherDate = "other-date"
    case notPHI = "not-phi"

    /// Whether the class is PHI at all.
    public var isPHI: Bool { self != .notPHI }
}
