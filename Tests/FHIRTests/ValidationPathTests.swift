import Testing

@testable import FHIR

/// A validation path's text, written in two passes into the string's storage, against the same
/// path joined the plain way.
@Suite struct ValidationPathTests {
    @Test func renderedPathsAreTheirSegmentsJoined() {
        let names = ["Bundle", "entry", "resource", "name", "given", "ä-ß", "x", ""]
        let indices = [0, 1, 9, 10, 99, 100, 12_345, -1, -10, Int.max, Int.min + 1]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            var path = ValidationPath()
            var expected = ""
            for _ in 0..<Int.random(in: 0...6, using: &generator) {
                if Bool.random(using: &generator), let index = indices.randomElement(using: &generator) {
                    path.push(.index(index))
                    expected += "[\(index)]"
                } else {
                    let name = names.randomElement(using: &generator)!
                    path.push(.raw(name))
                    expected += expected.isEmpty ? name : "." + name
                }
            }
            #expect(path.rendered == expected)
        }
    }

    /// Pushes and pops in random order, names among indices, from storage for one segment (so it
    /// grows again and again): the text is always that of the segments standing, and a copy of the
    /// segments renders the same.
    @Test func pushesAndPopsKeepTheStandingSegments() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var path = ValidationPath(storage: ScratchBuffer(capacity: 1))
            var standing: [String] = []
            for _ in 0..<Int.random(in: 0...300, using: &generator) {
                if !standing.isEmpty && Int.random(in: 0..<3, using: &generator) == 0 {
                    path.pop()
                    standing.removeLast()
                } else if Bool.random(using: &generator) {
                    let index = Int.random(in: 0...20, using: &generator)
                    path.push(.index(index))
                    standing.append("[\(index)]")
                } else {
                    let name = "n\(Int.random(in: 0...99, using: &generator))"
                    path.push(.raw(name))
                    standing.append(name)
                }
            }
            var expected = ""
            for part in standing { expected += part.hasPrefix("[") || expected.isEmpty ? part : "." + part }
            #expect(path.rendered == expected)
            #expect(ValidationPath(segments: path.segments).rendered == expected)
        }
    }
}
