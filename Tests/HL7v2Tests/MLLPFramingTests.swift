import HL7v2
import NIOCore
import NIOEmbedded
import Testing

/// Collects the decoder's events, to see what it reported besides frames.
final class EventRecorder: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    var events: [MLLPEvent] = []

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? MLLPEvent { events.append(event) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }
}

@Suite struct MLLPFramingTests {
    let message = "MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5.1\rPID|||1\r"

    func channel(maximum: Int = 1 << 20) throws -> (EmbeddedChannel, EventRecorder) {
        let recorder = EventRecorder()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(MLLPFrameDecoder(maximumFrameLength: maximum)))
        try channel.pipeline.syncOperations.addHandler(recorder)
        return (channel, recorder)
    }

    func write(_ bytes: [UInt8], to channel: EmbeddedChannel) throws {
        try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
    }

    func frames(_ channel: EmbeddedChannel) throws -> [String] {
        var frames: [String] = []
        while let frame = try channel.readInbound(as: ByteBuffer.self) {
            frames.append(String(buffer: frame))
        }
        return frames
    }

    @Test func aFrameArrivingInPiecesIsDeliveredOnceComplete() throws {
        let (channel, _) = try channel()
        let framed = MLLP.frame(Array(message.utf8))
        for byte in framed.dropLast() {
            try write([byte], to: channel)
            #expect(try frames(channel).isEmpty)
        }
        try write([framed.last!], to: channel)
        #expect(try frames(channel) == [message])
    }

    @Test func severalFramesInOneReadAreDeliveredInOrder() throws {
        let (channel, recorder) = try channel()
        let bytes: [UInt8] = (1...3).flatMap { number -> [UInt8] in
            MLLP.frame(Array("MSH|^~\\&|\(number)\r".utf8)) + [0x0D, 0x0A]
        }
        try write(bytes, to: channel)
        #expect(try frames(channel) == (1...3).map { "MSH|^~\\&|\($0)\r" })
        #expect(recorder.events.isEmpty, "line breaks between frames are not noise")
    }

    @Test func bytesOutsideFramesAreSkippedAndReported() throws {
        let (channel, recorder) = try channel()
        try write(Array("garbage".utf8) + MLLP.frame(Array(message.utf8)), to: channel)
        #expect(try frames(channel) == [message])
        #expect(recorder.events == [.discardedBytes(count: 7)])
    }

    @Test func anEndBlockWithoutCarriageReturnIsContent() throws {
        let (channel, _) = try channel()
        try write([MLLP.startBlock] + Array("a".utf8) + [MLLP.endBlock] + Array("b".utf8), to: channel)
        #expect(try frames(channel).isEmpty)
        try write([MLLP.endBlock, MLLP.carriageReturn], to: channel)
        #expect(try frames(channel) == ["a\u{1C}b"])
    }

    @Test func oversizedFramesAreRefused() throws {
        let (channel, _) = try channel(maximum: 10)
        #expect(throws: MLLPError.self) {
            try write([MLLP.startBlock] + Array(repeating: UInt8(ascii: "x"), count: 20), to: channel)
        }
    }

    @Test func aConnectionEndingInsideAFrameIsAnError() throws {
        let (channel, _) = try channel()
        try write([MLLP.startBlock] + Array("MSH|^~\\&|partial".utf8), to: channel)
        #expect(throws: MLLPError.self) { _ = try channel.finish() }
    }

    @Test func theEncoderFramesEachMessage() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(MLLPFrameEncoder()))
        try channel.writeOutbound(channel.allocator.buffer(string: message))
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(written.readableBytesView) == MLLP.frame(Array(message.utf8)))
        _ = try channel.finish()
    }
}
