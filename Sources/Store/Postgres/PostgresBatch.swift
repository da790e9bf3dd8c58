import FHIR
import NIOCore
import PostgresNIO

/// Many rows' values of one column, bound as one PostgreSQL array: `unnest($1::text[], $2::float8[],
/// …)` turns the arrays back into rows, so a batch of versions or index rows is one statement and one
/// round trip, however many rows it holds.
struct PostgresColumn: PostgresThrowingDynamicTypeEncodable {
    enum Values {
        case text([String?])
        case real([Double])
        case integer([Int64])
        case bytes([[UInt8]?])
    }

    let values: Values

    init(_ values: Values) { self.values = values }

    var psqlType: PostgresDataType {
        switch values {
        case .text: .textArray
        case .real: .float8Array
        case .integer: .int8Array
        case .bytes: .byteaArray
        }
    }

    var psqlFormat: PostgresFormat { .binary }

    /// PostgreSQL's binary array: dimensions, whether any element is NULL, the element type, the length
    /// and lower bound of the one dimension, then each element as its length (-1 for NULL) and bytes.
    func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) throws {
        func header(count: Int, hasNull: Bool, element: PostgresDataType) {
            buffer.writeInteger(Int32(count == 0 ? 0 : 1))
            buffer.writeInteger(Int32(hasNull ? 1 : 0))
            buffer.writeInteger(element.rawValue)
            guard count > 0 else { return }
            buffer.writeInteger(Int32(count))
            buffer.writeInteger(Int32(1))
        }
        switch values {
        case .text(let items):
            header(count: items.count, hasNull: items.contains(nil), element: .text)
            for item in items {
                guard let item else {
                    buffer.writeInteger(Int32(-1))
                    continue
                }
                buffer.writeInteger(Int32(item.utf8.count))
                buffer.writeString(item)
            }
        case .real(let items):
            header(count: items.count, hasNull: false, element: .float8)
            for item in items {
                buffer.writeInteger(Int32(8))
                buffer.writeInteger(item.bitPattern)
            }
        case .integer(let items):
            header(count: items.count, hasNull: false, element: .int8)
            for item in items {
                buffer.writeInteger(Int32(8))
                buffer.writeInteger(item)
            }
        case .bytes(let items):
            header(count: items.count, hasNull: items.contains(nil), element: .bytea)
            for item in items {
                guard let item else {
                    buffer.writeInteger(Int32(-1))
                    continue
                }
                buffer.writeInteger(Int32(item.count))
                buffer.writeBytes(item)
            }
        }
    }
}

extension PostgresStore.Transaction {
    /// Runs `sql` with each `?` bound to one column (an array).
    func run(_ sql: String, columns: [PostgresColumn]) async throws {
        var binds = PostgresBindings()
        for column in columns { try binds.append(column) }
        try await connection.query(PostgresQuery(unsafeSQL: Self.numbered(sql), binds: binds), logger: logger)
    }

    /// The current rows of many resources in one statement, after taking their writers' locks in one
    /// statement too (in key order, so that two batches sharing resources cannot deadlock).
    func currents(_ keys: [ResourceKey]) async throws -> [String: StoredResource] {
        let names = Set(keys.map(\.name)).sorted()
        guard !names.isEmpty else { return [:] }
        try await run(
            "SELECT pg_advisory_xact_lock(hashtext(key)) FROM unnest(?::text[]) WITH ORDINALITY AS k(key, n) ORDER BY n",
            columns: [PostgresColumn(.text(names))])
        let unique = names.map { name in name.split(separator: "/", maxSplits: 1).map(String.init) }
        var found: [String: StoredResource] = [:]
        let sql =
            "SELECT r.* FROM resource r JOIN unnest($1::text[], $2::text[]) AS k(type, id) "
            + "ON r.type = k.type AND r.id = k.id"
        var binds = PostgresBindings()
        try binds.append(PostgresColumn(.text(unique.map { $0[0] })))
        try binds.append(PostgresColumn(.text(unique.map { $0[1] })))
        for stored in try await rows(PostgresQuery(unsafeSQL: sql, binds: binds)) {
            found["\(stored.type)/\(stored.id)"] = stored
        }
        return found
    }

    /// Many versions with their index rows in a handful of statements: every version into the
    /// history, the last one per resource as current, the index rows of resources that had some
    /// removed, and the last version's rows of each table inserted.
    func saveAll(_ writes: [VersionWrite]) async throws {
        guard !writes.isEmpty else { return }
        let versions = writes.map(\.stored)
        let contents = writes.map { write in write.stored.resource.map { write.content ?? $0.canonicalBytes } }
        try await run(
            "INSERT INTO resource_history SELECT * FROM unnest(?::text[], ?::text[], ?::int8[], ?::float8[], "
                + "?::int8[], ?::text[], ?::bytea[])", columns: Self.columns(versions, contents: contents))
        // The last write of each resource is its current row and holds its index rows; its first
        // write says whether the resource had rows before the batch.
        var last: [String: Int] = [:]
        var clearing: [String: Bool] = [:]
        for (index, write) in writes.enumerated() {
            let key = write.name
            last[key] = index
            if clearing[key] == nil { clearing[key] = write.clearing }
        }
        let finals = last.values.sorted()
        try await run(
            "INSERT INTO resource SELECT * FROM unnest(?::text[], ?::text[], ?::int8[], ?::float8[], ?::int8[], "
                + "?::text[], ?::bytea[]) ON CONFLICT (type, id) DO UPDATE SET version = EXCLUDED.version, "
                + "last_updated = EXCLUDED.last_updated, deleted = EXCLUDED.deleted, hash = EXCLUDED.hash, "
                + "content = EXCLUDED.content",
            columns: Self.columns(finals.map { versions[$0] }, contents: finals.map { contents[$0] }))
        let cleared = finals.filter { clearing["\(versions[$0].type)/\(versions[$0].id)"] == true }
        if !cleared.isEmpty {
            let types = PostgresColumn(.text(cleared.map { versions[$0].type }))
            let ids = PostgresColumn(.text(cleared.map { versions[$0].id }))
            for table in SearchIndexRows.tables {
                try await run(
                    "DELETE FROM \(table) WHERE (type, id) IN (SELECT * FROM unnest(?::text[], ?::text[]))",
                    columns: [types, ids])
            }
        }
        try await insertIndex(
            finals.compactMap { index in
                writes[index].rows.map { (versions[index].type, versions[index].id, $0) }
            })
    }

    /// Index rows of many resources, one statement per table.
    func insertIndex(_ entries: [(type: String, id: String, rows: SearchIndexRows)]) async throws {
        var owners: [String: ([String?], [String?])] = [:]
        func owner(_ table: String, _ entry: (type: String, id: String, rows: SearchIndexRows), times: Int) {
            owners[table, default: ([], [])].0 += Array(repeating: entry.type, count: times)
            owners[table, default: ([], [])].1 += Array(repeating: entry.id, count: times)
        }
        var tokens: ([String?], [String?], [String?], [String?]) = ([], [], [], [])
        var strings: ([String?], [String?], [String?]) = ([], [], [])
        var dates: ([String?], [Double], [Double]) = ([], [], [])
        var references: ([String?], [String?], [String?], [String?]) = ([], [], [], [])
        var numbers: ([String?], [Double]) = ([], [])
        var quantities: ([String?], [Double], [String?], [String?]) = ([], [], [], [])
        var uris: ([String?], [String?]) = ([], [])
        for entry in entries {
            let rows = entry.rows
            owner("search_token", entry, times: rows.tokens.count)
            for row in rows.tokens {
                tokens.0.append(row.param)
                tokens.1.append(row.system)
                tokens.2.append(row.code)
                tokens.3.append(row.text)
            }
            owner("search_string", entry, times: rows.strings.count)
            for row in rows.strings {
                strings.0.append(row.param)
                strings.1.append(row.normalized)
                strings.2.append(row.exact)
            }
            owner("search_date", entry, times: rows.dates.count)
            for row in rows.dates {
                dates.0.append(row.param)
                dates.1.append(row.low)
                dates.2.append(row.high)
            }
            owner("search_reference", entry, times: rows.references.count)
            for row in rows.references {
                references.0.append(row.param)
                references.1.append(row.targetType)
                references.2.append(row.targetID)
                references.3.append(row.url)
            }
            owner("search_number", entry, times: rows.numbers.count)
            for row in rows.numbers {
                numbers.0.append(row.param)
                numbers.1.append(row.value)
            }
            owner("search_quantity", entry, times: rows.quantities.count)
            for row in rows.quantities {
                quantities.0.append(row.param)
                quantities.1.append(row.value)
                quantities.2.append(row.system)
                quantities.3.append(row.code)
            }
            owner("search_uri", entry, times: rows.uris.count)
            for row in rows.uris {
                uris.0.append(row.param)
                uris.1.append(row.value)
            }
        }
        let tables: [(String, [PostgresColumn.Values])] = [
            ("search_token", [.text(tokens.0), .text(tokens.1), .text(tokens.2), .text(tokens.3)]),
            ("search_string", [.text(strings.0), .text(strings.1), .text(strings.2)]),
            ("search_date", [.text(dates.0), .real(dates.1), .real(dates.2)]),
            (
                "search_reference",
                [.text(references.0), .text(references.1), .text(references.2), .text(references.3)]
            ),
            ("search_number", [.text(numbers.0), .real(numbers.1)]),
            ("search_quantity", [.text(quantities.0), .real(quantities.1), .text(quantities.2), .text(quantities.3)]),
            ("search_uri", [.text(uris.0), .text(uris.1)]),
        ]
        for (table, values) in tables {
            guard let (types, ids) = owners[table], !types.isEmpty else { continue }
            let columns = [PostgresColumn(.text(types)), PostgresColumn(.text(ids))] + values.map(PostgresColumn.init)
            let casts = columns.map { column in
                switch column.values {
                case .text: "?::text[]"
                case .real: "?::float8[]"
                case .integer: "?::int8[]"
                case .bytes: "?::bytea[]"
                }
            }
            try await run(
                "INSERT INTO \(table) SELECT * FROM unnest(\(casts.joined(separator: ", ")))", columns: columns)
        }
    }

    /// The seven columns of `resource` and `resource_history` for these versions.
    static func columns(_ versions: [StoredResource], contents: [[UInt8]?]) -> [PostgresColumn] {
        [
            PostgresColumn(.text(versions.map(\.type))), PostgresColumn(.text(versions.map(\.id))),
            PostgresColumn(.integer(versions.map { Int64($0.version) })),
            PostgresColumn(.real(versions.map { $0.lastUpdated.timeIntervalSince1970 })),
            PostgresColumn(.integer(versions.map { $0.resource == nil ? 1 : 0 })),
            PostgresColumn(.text(versions.map(\.contentHash))), PostgresColumn(.bytes(contents)),
        ]
    }
}
