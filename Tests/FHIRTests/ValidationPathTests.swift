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
}
