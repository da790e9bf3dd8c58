import FHIR
import Foundation
import Mapping

/// Where synthetic records go: rows of tables, HL7 v2 messages, document files, ground truth.
protocol SynthSink {
    mutating func row(_ table: String, _ values: [SourceValue]) throws
    mutating func message(_ kind: String, _ text: String) throws
    mutating func document(_ path: String, _ text: String) throws
    mutating func duplicate(original: Int, copy: Int, kinds: String, merged: Bool) throws
}

/// Makes one person's history: registration, encounters, problems, allergies, prescriptions,
/// lab orders with reports and results, documents and notes — as rows and as HL7 v2 messages.
struct SynthClinic {
    /// Running ids per table (each table numbers its rows from 1).
    var ids: [String: Int] = [:]
    var control = 0

    mutating func next(_ table: String) -> Int {
        let id = ids[table, default: 0] + 1
        ids[table] = id
        return id
    }

    static func text(_ value: String?) -> SourceValue { value.map { .text($0) } ?? .null }
    static func int(_ value: Int?) -> SourceValue { value.map { .integer(Int64($0)) } ?? .null }

    /// Null and blank both stand for "nothing" in legacy data; which one a record has is up to chance.
    static func missing(_ r: inout SynthRandom) -> SourceValue { r.chance(0.5) ? .null : .text("") }

    mutating func patient(_ p: SynthPerson, random r: inout SynthRandom, into sink: inout some SynthSink) throws {
        let format = SiteFormat(site: p.site)
        let sex: SourceValue =
            r.chance(0.03)
            ? Self.missing(&r) : .text(r.chance(0.8) ? (p.female ? "Female" : "Male") : (p.female ? "F" : "M"))
        try sink.row(
            "patient_data",
            [
                .integer(Int64(p.pid)), .text(p.mrn), .text(r.chance(0.3) ? (p.female ? "Ms." : "Mr.") : ""),
                .text(p.first), p.middle.map { .text($0) } ?? Self.missing(&r), .text(p.last),
                .text(format.birthDate(p.birth, oldForm: p.oldBirthForm)), sex,
                p.ssn.map { .text($0) } ?? Self.missing(&r),
                .text(p.street), .text(p.city), .text(p.site.state), .text(p.postalCode),
                p.phoneHome.map { .text($0) } ?? Self.missing(&r), p.phoneCell.map { .text($0) } ?? Self.missing(&r),
                p.email.map { .text($0) } ?? Self.missing(&r), .text(p.language), .text(p.race), .text(p.ethnicity),
                .text(p.marital), .integer(Int64(p.provider.id)), .integer(Int64(p.site.id)),
                .text(format.dateTime(p.registered)), Self.text(p.deceased.map(format.date)), Self.int(p.mergedInto),
            ])
        try sink.message("01-adt", SynthHL7.adt(p, control: nextControl()))
    }

    mutating func nextControl() -> Int {
        control += 1
        return control
    }

    /// The person's clinical history; a duplicate registration gets a short one.
    mutating func history(
        _ p: SynthPerson, short: Bool, random r: inout SynthRandom, into sink: inout some SynthSink
    )
        throws
    {
        let format = SiteFormat(site: p.site)
        let site = Int64(p.site.id)
        var visits: [(id: Int, number: Int, at: LocalMoment)] = []
        var at = p.registered
        for _ in 0..<(short ? 1 : r.int(in: 1...6)) {
            at = at.adding(days: r.int(in: 7...200), minutes: r.int(in: 0...480))
            let id = next("form_encounter")
            let number = 100_000 + id
            visits.append((id, number, at))
            let kind = r.chance(0.9) ? "AMB" : r.pick(["EMER", "IMP"])
            try sink.row(
                "form_encounter",
                [
                    .integer(Int64(id)), .integer(Int64(number)), .integer(Int64(p.pid)), .text(format.dateTime(at)),
                    kind == "AMB"
                        ? Self.missing(&r) : .text(format.dateTime(at.adding(days: r.int(in: 0...4), minutes: 90))),
                    .text(r.pick(SynthCatalog.reasons)), .text(kind), .integer(site), .integer(Int64(p.provider.id)),
                ])
        }
        let first = visits[0]
        for _ in 0..<(short ? 0 : r.int(in: 0...4)) {
            let problem = r.pick(SynthCatalog.problems)
            let began = first.at.adding(days: -r.int(in: 0...2000))
            let resolved = r.chance(0.2)
            try sink.row(
                "lists",
                [
                    .integer(Int64(next("lists"))), .integer(Int64(p.pid)), .text("medical_problem"),
                    .text(problem.title),
                    .text(problem.diagnosis), .text(format.date(began)),
                    resolved ? .text(format.date(began.adding(days: r.int(in: 10...400)))) : Self.missing(&r), .null,
                    .null,
                    .integer(resolved ? 0 : 1),
                    r.chance(0.2) ? .text("Noted at intake; \"patient unsure of onset\"") : .null,
                ])
        }
        for _ in 0..<(short ? 0 : r.int(in: 0...2)) {
            let allergen = r.pick(SynthCatalog.allergens)
            try sink.row(
                "lists",
                [
                    .integer(Int64(next("lists"))), .integer(Int64(p.pid)), .text("allergy"), .text(allergen.title),
                    .text(allergen.code), .text(format.date(first.at.adding(days: -r.int(in: 0...3000)))), .null,
                    .text(r.pick(allergen.reactions)), .text(r.pick(SynthCatalog.severities)), .integer(1), .null,
                ])
        }
        for _ in 0..<(short ? 0 : r.int(in: 0...4)) {
            let drug = r.pick(SynthCatalog.drugs)
            let visit = r.pick(visits)
            if r.chance(0.4) {
                // The medication list repeats what was prescribed (OpenEMR keeps both).
                try sink.row(
                    "lists",
                    [
                        .integer(Int64(next("lists"))), .integer(Int64(p.pid)), .text("medication"), .text(drug.name),
                        .null, .text(format.date(visit.at)), .null, .null, .null, .integer(1), .null,
                    ])
            }
            let id = next("prescriptions")
            let active = r.chance(0.7)
            try sink.row(
                "prescriptions",
                [
                    .integer(Int64(id)), .integer(Int64(p.pid)), .integer(Int64(visit.number)),
                    .integer(Int64(p.provider.id)), .integer(Int64(drug.id)), .text(drug.name), .text(drug.dosage),
                    .text(String(r.pick([30, 60, 90]))), .text(drug.route), .text(drug.interval),
                    .integer(Int64(r.int(in: 0...5))), .text(format.dateTime(visit.at)), .text(format.date(visit.at)),
                    .integer(active ? 1 : 0), r.chance(0.15) ? .text("Take with food.\nCall if dizzy.") : .null,
                    .integer(site),
                ])
            try sink.message("04-rde", SynthHL7.rde(p, drug: drug, id: id, at: visit.at, control: nextControl()))
        }
        for _ in 0..<(short ? 0 : r.int(in: 0...3)) {
            try labs(p, visit: r.pick(visits), random: &r, into: &sink)
        }
        for _ in 0..<(short ? 0 : r.int(in: 0...2)) {
            let visit = r.pick(visits)
            let id = next("documents")
            let text =
                "\(p.site.name)\nVisit summary, \(format.date(visit.at))\n\n"
                + (0..<3).map { _ in r.pick(SynthCatalog.noteSentences) }
                .joined(separator: "\n") + "\n"
            let path = "documents/\(id).txt"
            try sink.document(path, text)
            try sink.row(
                "documents",
                [
                    .integer(Int64(id)), .integer(Int64(p.pid)), .integer(Int64(visit.number)), .text("file_url"),
                    .text("text/plain"), .text(format.date(visit.at)), .text(path),
                    .text(sha256Hex(Array(text.utf8))), .text("visit-summary-\(id).txt"), .text("Visit summaries"),
                    .integer(site),
                ])
            try sink.message("05-mdm", SynthHL7.mdm(p, id: id, text: text, at: visit.at, control: nextControl()))
        }
        for _ in 0..<(short ? 0 : r.int(in: 0...3)) {
            let visit = r.pick(visits)
            let body = (0..<r.int(in: 1...3)).map { _ in r.pick(SynthCatalog.noteSentences) }.joined(separator: "\n")
            try sink.row(
                "pnotes",
                [
                    .integer(Int64(next("pnotes"))), .integer(Int64(p.pid)),
                    .text(format.dateTime(visit.at.adding(days: 1, minutes: r.int(600)))),
                    .text(r.pick(SynthCatalog.noteTitles)),
                    .text(body), .text(p.provider.username), .integer(1), .integer(site),
                ])
        }
    }

    mutating func labs(
        _ p: SynthPerson, visit: (id: Int, number: Int, at: LocalMoment), random r: inout SynthRandom,
        into sink: inout some SynthSink
    ) throws {
        let format = SiteFormat(site: p.site)
        let site = Int64(p.site.id)
        let panel = r.chance(0.05) ? SynthCatalog.panels.last! : r.pick(Array(SynthCatalog.panels.dropLast()))
        let order = next("procedure_order")
        try sink.row(
            "procedure_order",
            [
                .integer(Int64(order)), .integer(Int64(p.pid)), .integer(Int64(visit.number)),
                .integer(Int64(p.provider.id)), .text(format.dateTime(visit.at)), .text("complete"), .text(panel.code),
                .text(panel.name), .integer(site),
            ])
        try sink.message("02-orm", SynthHL7.orm(p, panel: panel, order: order, at: visit.at, control: nextControl()))
        let collected = visit.at.adding(days: 0, minutes: r.int(in: 10...120))
        let reported = collected.adding(days: r.int(in: 0...3), minutes: r.int(in: 60...600))
        let report = next("procedure_report")
        try sink.row(
            "procedure_report",
            [
                .integer(Int64(report)), .integer(Int64(order)), .integer(Int64(p.pid)),
                .text(format.dateTime(collected)),
                .text(format.dateTime(reported)), .text("final"), .text("reviewed"), .text(panel.code), .integer(site),
            ])
        var results: [SynthHL7.Result] = []
        for test in panel.tests {
            let spread = (test.high - test.low) / 4
            let value = max(0, (test.low + test.high) / 2 + r.normal() * spread * 1.4)
            var text = String(format: "%.\(test.decimals)f", value)
            // Now and then a result is not a number at all: the lab wrote a remark in its place.
            if r.chance(0.004) { text = r.pick(["see note", "QNS", "pending"]) }
            let flag = Double(text).map { $0 < test.low ? "L" : $0 > test.high ? "H" : "N" } ?? ""
            let range =
                "\(String(format: "%.\(test.decimals)f", test.low))-\(String(format: "%.\(test.decimals)f", test.high))"
            let id = next("procedure_result")
            try sink.row(
                "procedure_result",
                [
                    .integer(Int64(id)), .integer(Int64(report)), .integer(Int64(p.pid)), .text(test.code),
                    .text(test.name), .text(text), test.unit.isEmpty ? Self.missing(&r) : .text(test.unit),
                    .text(range), .text(flag), .text("final"), .text(format.dateTime(reported)), .integer(site),
                ])
            results.append(SynthHL7.Result(test: test, value: text, flag: flag, range: range))
        }
        try sink.message(
            "03-oru",
            SynthHL7.oru(
                p, panel: panel, order: order, report: report, collected: collected, reported: reported,
                results: results,
                control: nextControl()))
    }
}
