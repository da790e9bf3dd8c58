import Foundation
import HL7v2
import Interop
import Testing

@Suite struct MessageJournalTests {
    func entry(_ controlID: String?, sender: String = "LAB|HOSP", content: String = "MSH|x") -> MessageJournal.Entry {
        .init(
            content: Array(content.utf8), peer: "127.0.0.1:1", sender: sender, controlID: controlID,
            messageType: "ORU^R01")
    }

    @Test func storesOnceAndRecognisesTheSameSenderAndControlID() async throws {
        let folder = try InteropTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let journal = try MessageJournal(path: folder.appendingPathComponent("j.sqlite").path)
        let first = try await journal.store(entry("1"))
        let again = try await journal.store(entry("1"))
        let otherSender = try await journal.store(entry("1", sender: "RAD|HOSP"))
        #expect(first == .stored(sequence: 1))
        #expect(again == .duplicate(sequence: 1))
        #expect(otherSender == .stored(sequence: 3) || otherSender == .stored(sequence: 2))
        // Without a control id a resend cannot be recognised: each copy is kept.
        _ = try await journal.store(entry(nil))
        _ = try await journal.store(entry(nil))
        let counts = try journal.counts()
        #expect(counts.stored == 4 && counts.duplicates == 1 && counts.deadLetters == 0)
        #expect(try journal.messages().map(\.controlID) == ["1", "1", nil, nil])
        #expect(try journal.messages().first?.duplicates == 1)
    }

    @Test func deadLettersKeepTheBytesAndTheError() async throws {
        let folder = try InteropTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let journal = try MessageJournal(path: folder.appendingPathComponent("j.sqlite").path)
        let receipt = try await journal.deadLetter(
            entry(nil, content: "garbage"), error: "segment 1: no MSH", byteCount: 9000)
        #expect(receipt == .deadLettered(sequence: 1))
        let letters = try journal.deadLetters()
        #expect(letters.count == 1)
        #expect(letters[0].content == Array("garbage".utf8) && letters[0].byteCount == 9000)
        #expect(letters[0].error == "segment 1: no MSH")
    }

    @Test func concurrentWritersAreCommittedTogetherAndNothingIsLostOrDoubled() async throws {
        let folder = try InteropTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("j.sqlite").path
        let journal = try MessageJournal(path: path, durability: .full)
        // 40 writers, 50 messages each, every message sent twice.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<40 {
                group.addTask {
                    for number in 0..<50 {
                        _ = try await journal.store(self.entry("\(writer)-\(number)"))
                        _ = try await journal.store(self.entry("\(writer)-\(number)"))
                    }
                }
            }
            try await group.waitForAll()
        }
        let counts = try journal.counts()
        #expect(counts.stored == 2000 && counts.duplicates == 2000)
        // Reopened from the file, the same.
        let reopened = try MessageJournal(path: path)
        #expect(try reopened.counts().stored == 2000)
        #expect(Set(try reopened.messages(limit: 5000).compactMap(\.controlID)).count == 2000)
    }
}
