import Crypto

/// Writes Ferry's `JSON` tree to UTF-8 bytes.
///
/// Strings are escaped minimally (quote, backslash, control characters); non-ASCII text is written as
/// UTF-8, and numbers are written exactly as they were read.
public struct JSONWriter: Sendable {
    /// How the output is laid out.
    public enum Layout: Sendable {
        /// No insignificant whitespace, keys in their order.
        case compact
        /// Two-space indentation, one member per line, keys in their order.
        case pretty
        /// No insignificant whitespace, object keys sorted by their UTF-8 bytes: the form Ferry hashes.
        case canonical
    }

    /// How the output is laid out.
    public var layout: Layout

    /// Creates a writer.
    public init(layout: Layout = .compact) {
        self.layout = layout
    }

    /// The bytes of `value`.
    public func bytes(_ value: JSON) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        write(value, into: &output)
        return output
    }

    /// The text of `value`.
    public func string(_ value: JSON) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    /// Appends the bytes of `value` to `output`.
    public func write(_ value: JSON, into output: inout [UInt8]) {
        write(value, into: &output, indent: 0)
    }

    private func write(_ value: JSON, into output: inout [UInt8], indent: Int) {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let text): output.append(contentsOf: text.utf8)
        case .string(let text): Self.writeString(text, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                newline(into: &output, indent: indent + 1)
                write(element, into: &output, indent: indent + 1)
            }
            if !elements.isEmpty { newline(into: &output, indent: indent) }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            let members = object.members
            func member(_ index: Int, at position: Int) {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                newline(into: &output, indent: indent + 1)
                Self.writeString(members[index].key, into: &output)
                output.append(UInt8(ascii: ":"))
                if layout == .pretty { output.append(UInt8(ascii: " ")) }
                write(members[index].value, into: &output, indent: indent + 1)
            }
            if layout == .canonical && !Self.isSorted(members) {
                let order = members.indices.sorted { Self.keyPrecedes(members[$0].key, members[$1].key) }
                for (position, index) in order.enumerated() { member(index, at: position) }
            } else {
                for index in members.indices { member(index, at: index) }
            }
            if !object.isEmpty { newline(into: &output, indent: indent) }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Whether the keys are already in canonical order (no sort, no allocation).
    private static func isSorted(_ members: [JSONMember]) -> Bool {
        guard members.count > 1 else { return true }
        for index in 1..<members.count where !keyPrecedes(members[index - 1].key, members[index].key) {
            return false
        }
        return true
    }

    /// Canonical key order: by UTF-8 bytes (not by Swift's `<`, which orders by Unicode scalars
    /// after normalization). Over the keys' bytes where they are (a copy for `withUTF8` and a call to
    /// `memcmp` cost 160 instructions a comparison).
    package static func keyPrecedes(_ left: String, _ right: String) -> Bool {
        left.withUTF8Bytes { a in right.withUTF8Bytes { b in precedes(a, b) } }
    }

    @inline(__always)
    private static func precedes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let common = min(a.count, b.count)
        var index = 0
        while index < common {
            if a[index] != b[index] { return a[index] < b[index] }
            index += 1
        }
        return a.count < b.count
    }

    @inline(__always)
    private func newline(into output: inout [UInt8], indent: Int) {
        guard layout == .pretty else { return }
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * 2))
    }

    package static func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        text.withUTF8Bytes { appendEscaped($0, into: &output) }
        output.append(UInt8(ascii: "\""))
    }

    /// Appends `bytes`, escaping quotes, backslashes and control characters. Eight bytes are looked at
    /// a time (`JSONWord.specialBytes`, which also marks bytes of multi-byte scalars: those are
    /// looked at one by one and copied as they are); runs that need no escape are copied at once.
    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        guard let base = bytes.baseAddress else { return }
        let raw = UnsafeRawPointer(base)
        var start = 0
        var index = 0
        while index < bytes.count {
            if index + 8 <= bytes.count {
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                let special = JSONWord.specialBytes(word)
                if special == 0 {
                    index += 8
                    continue
                }
                index += special.trailingZeroBitCount / 8
            }
            let byte = bytes[index]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                escape(byte, into: &output)
                start = index + 1
            }
            index += 1
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
    }

    private static func escape(_ byte: UInt8, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
        case 0x0A: output.append(UInt8(ascii: "n"))
        case 0x0D: output.append(UInt8(ascii: "r"))
        case 0x09: output.append(UInt8(ascii: "t"))
        case 0x08: output.append(UInt8(ascii: "b"))
        case 0x0C: output.append(UInt8(ascii: "f"))
        default:
            let hex = Array("0123456789abcdef".utf8)
            output.append(contentsOf: "u00".utf8)
            output.append(hex[Int(byte >> 4)])
            output.append(hex[Int(byte & 0xF)])
        }
    }
}

extension JSON {
    /// The canonical bytes: keys sorted by their UTF-8 bytes, no insignificant whitespace, numbers as written.
    ///
    /// Two values that differ only in key order or layout have the same canonical bytes.
    public var canonicalBytes: [UInt8] { JSONWriter(layout: .canonical).bytes(self) }

    /// The SHA-256 of the canonical bytes, as 64 lowercase hexadecimal digits.
    public var canonicalSHA256: String { sha256Hex(canonicalBytes) }
}

/// Lowercase hexadecimal SHA-256 of `bytes`.
package func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
    sha256Hex(Array(bytes))
}

/// Lowercase hexadecimal SHA-256 of `bytes`, hashed where they are.
package func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).withUnsafeBytes { hexadecimal($0, digits: 64) }
}

/// The first `digits` lowercase hexadecimal digits of `raw`, with a `-` before each position in
/// `dashes` (`[8, 12, 16, 20]` shapes 32 digits as a UUID).
package func hexadecimal(_ raw: UnsafeRawBufferPointer, digits: Int, dashes: [Int] = []) -> String {
    // Positions below 64 as bits: the loop tests one bit instead of searching the list.
    var dashAt: UInt64 = 0
    for position in dashes where position < 64 { dashAt |= 1 << UInt64(position) }
    let mask = dashAt
    return String(unsafeUninitializedCapacity: digits + dashes.count) { buffer in
        var written = 0
        var count = 0
        var index = 0
        func put(_ digit: UInt8) {
            if count < 64, mask & (1 << UInt64(count)) != 0 {
                buffer[written] = UInt8(ascii: "-")
                written += 1
            }
            buffer[written] = digit < 10 ? digit &+ 0x30 : digit &+ 0x57
            written += 1
            count += 1
        }
        while count < digits, index < raw.count {
            let byte = raw[index]
            index += 1
            put(byte >> 4)
            if count < digits { put(byte & 0xF) }
        }
        return written
    }
}
