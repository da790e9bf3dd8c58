import Foundation

/// Reads resources to validate from files and folders: JSON, NDJSON (one resource a line) and FHIR XML.
///
/// Each resource comes with the name of its source (`file`, or `file:line` for NDJSON) and either
/// its parsed tree or the error that stopped it from being parsed, so one bad line never hides the rest.
public struct ResourceInput: Sendable {
    /// One resource read, or the reason it could not be read.
    public struct Item: Sendable {
        /// Where it came from: a file path, with `:line` for NDJSON.
        public var source: String
        /// The resource, or the error that stopped it from being read.
        public var result: Result<JSON, FHIRError>
    }

    /// The definitions used to read XML (which elements repeat, which are numbers).
    public let definitions: FHIRDefinitions

    /// Creates an input reader.
    public init(definitions: FHIRDefinitions) {
        self.definitions = definitions
    }

    /// The files under `path`: the file itself, or every `.json`, `.ndjson` and `.xml` file below a folder, sorted.
    public func files(at path: String) throws(FHIRError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FHIRError(.io, "no such file or folder", file: path)
        }
        guard isDirectory.boolValue else { return [path] }
        guard let enumerator = FileManager.default.enumerator(atPath: path) else {
            throw FHIRError(.io, "cannot list the folder", file: path)
        }
        var found: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let lowered = relative.lowercased()
            if lowered.hasSuffix(".json") || lowered.hasSuffix(".ndjson") || lowered.hasSuffix(".xml") {
                found.append((path as NSString).appendingPathComponent(relative))
            }
        }
        return found.sorted()
    }

    /// Reads every resource in one file.
    public func read(file: String) throws(FHIRError) -> [Item] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw FHIRError(.io, "cannot read the file", file: file)
        }
        let bytes = [UInt8](data)
        let lowered = file.lowercased()
        if lowered.hasSuffix(".ndjson") {
            return ndjsonItems(bytes, file: file)
        }
        if lowered.hasSuffix(".xml") || bytes.first(where: { !PrimitiveFormat.isWhitespace($0) }) == UInt8(ascii: "<") {
            return [
                Item(
                    source: file,
                    result: Result { () throws(FHIRError) in try FHIRXML(definitions: definitions).read(bytes) }
                        .located(file))
            ]
        }
        return [Item(source: file, result: Result { () throws(FHIRError) in try JSON(parsing: bytes) }.located(file))]
    }

    private func ndjsonItems(_ bytes: [UInt8], file: String) -> [Item] {
        var items: [Item] = []
        var lineNumber = 0
        var start = 0
        bytes.withUnsafeBufferPointer { buffer in
            while start <= buffer.count {
                let end = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) ?? buffer.count
                lineNumber += 1
                let line = UnsafeBufferPointer(rebasing: buffer[start..<end])
                if line.contains(where: { !PrimitiveFormat.isWhitespace($0) }) {
                    var result = Result { () throws(FHIRError) in try JSONParser().parse(line) }
                    result = result.mapError { error in
                        var located = error
                        located.file = file
                        located.line = lineNumber
                        return located
                    }
                    items.append(Item(source: "\(file):\(lineNumber)", result: result))
                }
                if end == buffer.count { break }
                start = end + 1
            }
        }
        return items
    }
}

extension Result where Failure == FHIRError {
    fileprivate func located(_ file: String) -> Self {
        mapError { error in
            var located = error
            located.file = file
            return located
        }
    }
}
