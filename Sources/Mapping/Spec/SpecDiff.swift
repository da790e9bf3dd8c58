/// What changed between two versions of a mapping spec, element by element: what a reviewer
/// approving a new version needs to see.
public enum SpecDiff {
    public static func lines(old: MappingSpec, new: MappingSpec) -> [String] {
        var lines: [String] = []
        if old.version != new.version { lines.append("version: \(old.version) → \(new.version)") }
        if old.system != new.system { lines.append("system: \(old.system) → \(new.system)") }
        if old.zone != new.zone { lines.append("zone: \(old.zone.identifier) → \(new.zone.identifier)") }
        let oldLog = Set(old.changelog.map(\.version))
        for change in new.changelog where !oldLog.contains(change.version) {
            lines.append(
                "+ changelog \(change.version) (\(change.date), \(change.author), approved by \(change.approver)): \(change.summary)"
            )
        }
        lines += keyed(
            "filter",
            old.filters.flatMap { table, rules in rules.map { ("\(table): \($0.name)", $0.condition.summary) } },
            new.filters.flatMap { table, rules in rules.map { ("\(table): \($0.name)", $0.condition.summary) } })
        let oldMappings = Dictionary(old.mappings.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let newMappings = Dictionary(new.mappings.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for mapping in old.mappings where newMappings[mapping.name] == nil {
            lines.append("- mapping \(mapping.name) (\(mapping.table) → \(mapping.resource))")
        }
        for mapping in new.mappings {
            guard let before = oldMappings[mapping.name] else {
                lines.append(
                    "+ mapping \(mapping.name) (\(mapping.table) → \(mapping.resource)), \(mapping.elements.count) elements"
                )
                continue
            }
            for (what, a, b) in [
                ("table", before.table, mapping.table), ("resource", before.resource, mapping.resource),
                ("key", before.key.joined(separator: ","), mapping.key.joined(separator: ",")),
                ("id", before.id?.text ?? "", mapping.id?.text ?? ""),
                ("where", before.selection?.condition.summary ?? "", mapping.selection?.condition.summary ?? ""),
            ] where a != b {
                lines.append("~ \(mapping.name) \(what): \(a) → \(b)")
            }
            lines += keyed(
                "\(mapping.name).", before.elements.map { ($0.path, describe($0)) },
                mapping.elements.map { ($0.path, describe($0)) }, joiner: "")
        }
        for name in Set(old.valueMaps.keys).union(new.valueMaps.keys).sorted() {
            lines += keyed(
                "value map \(name):", (old.valueMaps[name]?.entries ?? [:]).map { ($0.key, $0.value) },
                (new.valueMaps[name]?.entries ?? [:]).map { ($0.key, $0.value) }, joiner: " ")
        }
        for name in Set(old.conceptMaps.keys).union(new.conceptMaps.keys).sorted() {
            let a = old.conceptMaps[name]
            let b = new.conceptMaps[name]
            switch (a, b) {
            case (nil, let b?): lines.append("+ ConceptMap \(name) (\(b.count) codes)")
            case (let a?, nil): lines.append("- ConceptMap \(name) (\(a.count) codes)")
            case (let a?, let b?):
                let codes = Set(a.targets.keys).union(b.targets.keys).sorted()
                for code in codes where a.targets[code] != b.targets[code] {
                    let before = a.targets[code].map { "\($0.system)|\($0.code)" } ?? "(none)"
                    let after = b.targets[code].map { "\($0.system)|\($0.code)" } ?? "(none)"
                    lines.append("~ ConceptMap \(name) \(code): \(before) → \(after)")
                }
            case (nil, nil): break
            }
        }
        return lines
    }

    static func describe(_ element: MappingSpec.ElementRule) -> String {
        var text = element.value.source.summary
        if let transform = element.value.transform { text += " via \(transform.summary)" }
        if let condition = element.value.condition { text += " when \(condition.summary)" }
        if element.value.required { text += " (required)" }
        return text
    }

    /// Added, removed and changed entries of two keyed lists.
    static func keyed(
        _ label: String, _ old: [(String, String)], _ new: [(String, String)], joiner: String = " "
    ) -> [String] {
        let before = Dictionary(old, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(new, uniquingKeysWith: { a, _ in a })
        var lines: [String] = []
        for key in Set(before.keys).union(after.keys).sorted() {
            switch (before[key], after[key]) {
            case (nil, let b?): lines.append("+ \(label)\(joiner)\(key): \(b)")
            case (let a?, nil): lines.append("- \(label)\(joiner)\(key): \(a)")
            case (let a?, let b?) where a != b: lines.append("~ \(label)\(joiner)\(key): \(a) → \(b)")
            default: break
            }
        }
        return lines
    }
}
