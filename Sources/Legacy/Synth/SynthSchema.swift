/// The synthetic legacy EHR's tables, shaped like OpenEMR's, with the PHI class of every column
/// (the ground truth discovery is measured against).
enum SynthSchema {
    struct Column {
        let name: String
        let sqlType: String
        let phi: PHIClass
    }

    struct Table {
        let name: String
        let columns: [Column]
        /// `column → table.column`.
        let references: [(String, String, String)]

        var createSQL: String {
            var parts = columns.enumerated().map { index, column in
                "\"\(column.name)\" \(column.sqlType)\(index == 0 ? " PRIMARY KEY" : "")"
            }
            parts += references.map { "FOREIGN KEY (\"\($0.0)\") REFERENCES \"\($0.1)\"(\"\($0.2)\")" }
            return "CREATE TABLE \"\(name)\" (\(parts.joined(separator: ", ")))"
        }
    }

    static func c(_ name: String, _ type: String, _ phi: PHIClass = .notPHI) -> Column {
        Column(name: name, sqlType: type, phi: phi)
    }

    static let tables: [Table] = [
        Table(
            name: "facility",
            columns: [
                c("id", "INTEGER"), c("name", "TEXT"), c("phone", "TEXT", .phone), c("street", "TEXT", .address),
                c("city", "TEXT", .address), c("state", "TEXT"), c("postal_code", "TEXT", .address),
                c("federal_ein", "TEXT"), c("facility_npi", "TEXT"),
                c("timezone", "TEXT"),
            ], references: []),
        Table(
            name: "users",
            columns: [
                c("id", "INTEGER"), c("username", "TEXT"), c("fname", "TEXT", .name), c("lname", "TEXT", .name),
                c("npi", "TEXT"),
                c("specialty", "TEXT"), c("facility_id", "INTEGER"), c("active", "INTEGER"),
            ], references: [("facility_id", "facility", "id")]),
        Table(
            name: "patient_data",
            columns: [
                c("pid", "INTEGER"), c("pubpid", "TEXT", .mrn), c("title", "TEXT"), c("fname", "TEXT", .name),
                c("mname", "TEXT", .name), c("lname", "TEXT", .name), c("DOB", "TEXT", .birthDate),
                c("sex", "TEXT"), c("ss", "TEXT", .ssn), c("street", "TEXT", .address), c("city", "TEXT", .address),
                c("state", "TEXT"), c("postal_code", "TEXT", .address), c("phone_home", "TEXT", .phone),
                c("phone_cell", "TEXT", .phone), c("email", "TEXT", .email), c("language", "TEXT"),
                c("race", "TEXT"), c("ethnicity", "TEXT"), c("status", "TEXT"), c("providerID", "INTEGER"),
                c("facility_id", "INTEGER"), c("date", "TEXT", .otherDate), c("deceased_date", "TEXT", .otherDate),
                c("merged_into", "INTEGER"),
            ], references: [("providerID", "users", "id"), ("facility_id", "facility", "id")]),
        Table(
            name: "form_encounter",
            columns: [
                c("id", "INTEGER"), c("encounter", "INTEGER"), c("pid", "INTEGER"), c("date", "TEXT", .otherDate),
                c("date_end", "TEXT", .otherDate), c("reason", "TEXT", .freeText), c("class_code", "TEXT"),
                c("facility_id", "INTEGER"), c("provider_id", "INTEGER"),
            ], references: [("pid", "patient_data", "pid"), ("facility_id", "facility", "id")]),
        Table(
            name: "lists",
            columns: [
                c("id", "INTEGER"), c("pid", "INTEGER"), c("type", "TEXT"), c("title", "TEXT"),
                c("diagnosis", "TEXT"), c("begdate", "TEXT", .otherDate), c("enddate", "TEXT", .otherDate),
                c("reaction", "TEXT"), c("severity_al", "TEXT"), c("activity", "INTEGER"),
                c("comments", "TEXT", .freeText),
            ], references: [("pid", "patient_data", "pid")]),
        Table(
            name: "drugs",
            columns: [
                c("drug_id", "INTEGER"), c("name", "TEXT"), c("ndc_number", "TEXT"), c("form", "TEXT"),
                c("size", "TEXT"), c("unit", "TEXT"), c("route", "TEXT"), c("active", "INTEGER"),
            ], references: []),
        Table(
            name: "prescriptions",
            columns: [
                c("id", "INTEGER"), c("patient_id", "INTEGER"), c("encounter", "INTEGER"), c("provider_id", "INTEGER"),
                c("drug_id", "INTEGER"), c("drug", "TEXT"), c("dosage", "TEXT"), c("quantity", "TEXT"),
                c("route", "TEXT"), c("interval", "TEXT"), c("refills", "INTEGER"),
                c("date_added", "TEXT", .otherDate), c("start_date", "TEXT", .otherDate), c("active", "INTEGER"),
                c("note", "TEXT", .freeText), c("facility_id", "INTEGER"),
            ],
            references: [
                ("patient_id", "patient_data", "pid"), ("drug_id", "drugs", "drug_id"), ("provider_id", "users", "id"),
            ]),
        Table(
            name: "procedure_order",
            columns: [
                c("procedure_order_id", "INTEGER"), c("patient_id", "INTEGER"), c("encounter_id", "INTEGER"),
                c("provider_id", "INTEGER"), c("date_ordered", "TEXT", .otherDate), c("order_status", "TEXT"),
                c("procedure_code", "TEXT"), c("procedure_name", "TEXT"), c("facility_id", "INTEGER"),
            ], references: [("patient_id", "patient_data", "pid"), ("provider_id", "users", "id")]),
        Table(
            name: "procedure_report",
            columns: [
                c("procedure_report_id", "INTEGER"), c("procedure_order_id", "INTEGER"), c("patient_id", "INTEGER"),
                c("date_collected", "TEXT", .otherDate), c("date_report", "TEXT", .otherDate),
                c("report_status", "TEXT"), c("review_status", "TEXT"), c("procedure_code", "TEXT"),
                c("facility_id", "INTEGER"),
            ],
            references: [
                ("procedure_order_id", "procedure_order", "procedure_order_id"), ("patient_id", "patient_data", "pid"),
            ]),
        Table(
            name: "procedure_result",
            columns: [
                c("procedure_result_id", "INTEGER"), c("procedure_report_id", "INTEGER"), c("patient_id", "INTEGER"),
                c("result_code", "TEXT"), c("result_text", "TEXT"), c("result", "TEXT"), c("units", "TEXT"),
                c("range", "TEXT"), c("abnormal", "TEXT"), c("result_status", "TEXT"),
                c("date", "TEXT", .otherDate), c("facility_id", "INTEGER"),
            ],
            references: [
                ("procedure_report_id", "procedure_report", "procedure_report_id"),
                ("patient_id", "patient_data", "pid"),
            ]),
        Table(
            name: "documents",
            columns: [
                c("id", "INTEGER"), c("foreign_id", "INTEGER"), c("encounter_id", "INTEGER"), c("type", "TEXT"),
                c("mimetype", "TEXT"), c("docdate", "TEXT", .otherDate), c("url", "TEXT"), c("hash", "TEXT"),
                c("name", "TEXT"), c("category", "TEXT"), c("facility_id", "INTEGER"),
            ], references: [("foreign_id", "patient_data", "pid")]),
        Table(
            name: "pnotes",
            columns: [
                c("id", "INTEGER"), c("pid", "INTEGER"), c("date", "TEXT", .otherDate), c("title", "TEXT"),
                c("body", "TEXT", .freeText), c("user", "TEXT"), c("activity", "INTEGER"),
                c("facility_id", "INTEGER"),
            ], references: [("pid", "patient_data", "pid")]),
    ]

    static func table(_ name: String) -> Table { tables.first { $0.name == name }! }
}
