/// Every function FHIRPath defines (normative R4 release, with the string, math and utility
/// additions of later releases that the official test suite exercises) and the FHIR additions.
enum FHIRPathFunction: String, Sendable, CaseIterable {
    // Existence
    case empty, exists, all, allTrue, anyTrue, allFalse, anyFalse, subsetOf, supersetOf, count, distinct, isDistinct
    // Filtering and projection
    case `where`, select, `repeat`, ofType
    // Subsetting
    case single, first, last, tail, skip, take, intersect, exclude
    // Combining
    case union, combine
    // Conversion
    case iif
    case toBoolean, convertsToBoolean, toInteger, convertsToInteger, toDecimal, convertsToDecimal
    case toString, convertsToString, toDate, convertsToDate, toDateTime, convertsToDateTime
    case toTime, convertsToTime, toQuantity, convertsToQuantity
    // Strings
    case indexOf, lastIndexOf, substring, startsWith, endsWith, contains, upper, lower, replace
    case matches, matchesFull, replaceMatches, length, toChars, encode, decode, escape, unescape, trim, split, join
    // Math
    case abs, ceiling, exp, floor, ln, log, power, round, sqrt, truncate
    // Tree navigation
    case children, descendants
    // Utility
    case trace, now, today, timeOfDay, not, aggregate, sort
    // Types
    case `is`, `as`, type
    // Boundaries and precision
    case lowBoundary, highBoundary, precision, comparable
    // FHIR additions
    case `extension`, hasExtension, hasValue, getValue, resolve, memberOf, conformsTo, htmlChecks

    /// How many arguments the function takes.
    var arity: ClosedRange<Int> {
        switch self {
        case .empty, .allTrue, .anyTrue, .allFalse, .anyFalse, .count, .distinct, .isDistinct, .single, .first, .last,
            .tail, .toBoolean, .convertsToBoolean, .toInteger, .convertsToInteger, .toDecimal, .convertsToDecimal,
            .toString, .convertsToString, .toDate, .convertsToDate, .toDateTime, .convertsToDateTime, .toTime,
            .convertsToTime, .upper, .lower, .length, .toChars, .trim, .abs, .ceiling, .exp, .floor, .ln, .sqrt,
            .truncate, .children, .descendants, .now, .today, .timeOfDay, .not, .type, .hasValue, .getValue,
            .resolve, .htmlChecks, .precision:
            0...0
        case .exists, .round, .lowBoundary, .highBoundary, .join, .toQuantity, .convertsToQuantity:
            0...1
        case .all, .subsetOf, .supersetOf, .where, .select, .repeat, .ofType, .skip, .take, .intersect, .exclude,
            .union, .combine, .indexOf, .lastIndexOf, .startsWith, .endsWith, .contains, .matches, .matchesFull,
            .encode,
            .decode, .escape, .unescape, .split, .log, .power, .is, .as, .extension, .hasExtension, .memberOf,
            .conformsTo, .comparable:
            1...1
        case .substring, .trace, .aggregate: 1...2
        case .replace, .replaceMatches: 2...2
        case .iif: 2...3
        case .sort: 0...10
        }
    }

    /// Whether the argument is a type name rather than an expression (`ofType(Quantity)`).
    var takesTypeArgument: Bool { self == .ofType || self == .is || self == .as }

    /// Whether the arguments are evaluated once per input item, with `$this` set to it.
    var iteratesArguments: Bool {
        switch self {
        case .where, .select, .all, .repeat, .aggregate, .sort, .exists: true
        default: false
        }
    }
}
