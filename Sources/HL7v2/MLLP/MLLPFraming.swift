import NIOCore

/// The Minimal Lower Layer Protocol frame: `0x0B`, the message, `0x1C 0x0D`.
public enum MLLP {
    /// Start of block (vertical tab).
    public static let startBlock: UInt8 = 0x0B
    /// End of block (file separator), followed by a carriage return.
    public static let endBlock: UInt8 = 0x1C
    public static let carriageReturn: UInt8 = 0x0D

    /// A message framed for sending.
    public static func frame(_ message: some Collection<UInt8>) -> [UInt8] {
        [startBlock] + Array(message) + [endBlock, carriageReturn]
    }
}

/// What can go wrong reading MLLP frames.
public struct MLLPError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// A frame grew beyond the configured limit before its end block arrived.
        case frameTooLarge
        /// The connection ended inside a frame: the message was not delivered and must be resent.
        case incompleteFrame
    }

    public var code: Code
    /// How many bytes the frame held when the error was raised.
    public var byteCount: Int
    /// The first bytes of the frame (up to `MLLPError.prefixLength`), enough to read its MSH and to
    /// keep as a dead letter.
    public var prefix: [UInt8]

    /// How much of a failed frame `prefix` keeps.
    public static let prefixLength = 4096

    public init(code: Code, byteCount: Int, prefix: [UInt8] = []) {
        self.code = code
        self.byteCount = byteCount
        self.prefix = prefix
    }

    public var description: String {
        switch code {
        case .frameTooLarge: "an MLLP frame exceeded the limit at \(byteCount) bytes"
        case .incompleteFrame: "the connection ended inside an MLLP frame after \(byteCount) bytes"
        }
    }
}

/// Events the decoder reports without interrupting the stream.
public enum MLLPEvent: Sendable, Hashable {
    /// Bytes outside any frame (other than line breaks and spaces between frames) were skipped.
    case discardedBytes(count: Int)
}

/// An incremental MLLP decoder: emits each frame's content as one `ByteBuffer`, leaves a partial
/// frame in the buffer until the rest arrives, and never copies the payload.
public struct MLLPFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// The largest frame content accepted, in bytes.
    public let maximumFrameLength: Int
    /// Where the search for the end block resumes, relative to the frame start (avoids rescanning).
    private var scanned = 0

    public init(maximumFrameLength: Int = 16 * 1024 * 1024) {
        self.maximumFrameLength = maximumFrameLength
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        // Skip anything before the start block; line breaks and spaces between frames are normal.
        guard let start = buffer.readableBytesView.firstIndex(of: MLLP.startBlock) else {
            let skipped = buffer.readableBytesView.filter { !Self.isSpacing($0) }.count
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            if skipped > 0 { context.fireUserInboundEventTriggered(MLLPEvent.discardedBytes(count: skipped)) }
            scanned = 0
            return .needMoreData
        }
        if start > buffer.readerIndex {
            let noise = buffer.readableBytesView[buffer.readerIndex..<start].filter { !Self.isSpacing($0) }.count
            buffer.moveReaderIndex(to: start)
            scanned = 0
            if noise > 0 { context.fireUserInboundEventTriggered(MLLPEvent.discardedBytes(count: noise)) }
        }
        let view = buffer.readableBytesView
        let contentStart = view.startIndex + 1
        var index = max(contentStart, contentStart + scanned)
        while index < view.endIndex {
            if view[index] == MLLP.endBlock {
                guard index + 1 < view.endIndex else { break }
                if view[index + 1] == MLLP.carriageReturn {
                    let length = index - contentStart
                    guard length <= maximumFrameLength else {
                        throw MLLPError(code: .frameTooLarge, byteCount: length, prefix: Self.prefix(of: view))
                    }
                    buffer.moveReaderIndex(forwardBy: 1)
                    // Safe: `length` bytes lie between the start block and the end block just found.
                    let content = buffer.readSlice(length: length)!
                    buffer.moveReaderIndex(forwardBy: 2)
                    scanned = 0
                    context.fireChannelRead(Self.wrapInboundOut(content))
                    return .continue
                }
            }
            index += 1
        }
        scanned = index - contentStart
        if scanned > maximumFrameLength {
            throw MLLPError(code: .frameTooLarge, byteCount: scanned, prefix: Self.prefix(of: view))
        }
        return .needMoreData
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytesView.first == MLLP.startBlock {
            let count = buffer.readableBytes - 1
            let prefix = Self.prefix(of: buffer.readableBytesView)
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            throw MLLPError(code: .incompleteFrame, byteCount: count, prefix: prefix)
        }
        return .needMoreData
    }

    /// The first bytes after the start block.
    private static func prefix(of view: ByteBufferView) -> [UInt8] {
        Array(view.dropFirst().prefix(MLLPError.prefixLength))
    }

    private static func isSpacing(_ byte: UInt8) -> Bool {
        byte == 0x0D || byte == 0x0A || byte == 0x20 || byte == 0x09
    }
}

/// Frames each outbound `ByteBuffer` as one MLLP block.
public struct MLLPFrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = ByteBuffer

    public init() {}

    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.reserveCapacity(data.readableBytes + 3)
        out.writeInteger(MLLP.startBlock)
        out.writeImmutableBuffer(data)
        out.writeInteger(MLLP.endBlock)
        out.writeInteger(MLLP.carriageReturn)
    }
}
