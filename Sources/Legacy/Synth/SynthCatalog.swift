/// The reference data the synthetic EHR draws from: names with nicknames, places, the two sites,
/// providers, problems, allergens, drugs and lab tests with the local codes a legacy system uses.
/// Codes are illustrative (synthetic data), chosen to look like what a real clinic holds.
enum SynthCatalog {
    struct Site {
        let id: Int
        let name: String
        let sender: String
        let mrnPrefix: String
        let zone: String
        let street: String
        let city: String
        let state: String
        let postalCode: String
        let phone: String
        let cities: [(String, String)]
        /// Site 1 writes ISO dates; site 2 writes US dates with a 12-hour clock.
        let usFormats: Bool
    }

    static let sites = [
        Site(
            id: 1, name: "Northside Family Medicine", sender: "NORTHSIDE", mrnPrefix: "NS", zone: "America/New_York",
            street: "400 Harbor Way", city: "Boston", state: "MA", postalCode: "02110", phone: "617-555-0100",
            cities: [
                ("Boston", "021"), ("Cambridge", "021"), ("Somerville", "021"), ("Quincy", "021"), ("Newton", "024"),
            ], usFormats: false),
        Site(
            id: 2, name: "Mesa Valley Clinic", sender: "MESAVALLEY", mrnPrefix: "MV", zone: "America/Denver",
            street: "1200 Larimer St", city: "Denver", state: "CO", postalCode: "80202", phone: "303-555-0100",
            cities: [("Denver", "802"), ("Aurora", "800"), ("Lakewood", "802"), ("Boulder", "803"), ("Golden", "804")],
            usFormats: true),
    ]

    struct Provider {
        let id: Int
        let username: String
        let first: String
        let last: String
        let npi: String
        let specialty: String
        let site: Int
    }

    static let providers = [
        Provider(
            id: 1, username: "ahale", first: "Amelia", last: "Hale", npi: "1487600011", specialty: "Family Medicine",
            site: 1),
        Provider(
            id: 2, username: "rokafor", first: "Raymond", last: "Okafor", npi: "1487600029",
            specialty: "Internal Medicine", site: 1),
        Provider(
            id: 3, username: "lchen", first: "Lydia", last: "Chen", npi: "1487600037", specialty: "Pediatrics", site: 1),
        Provider(
            id: 4, username: "mbrandt", first: "Marcus", last: "Brandt", npi: "1487600045", specialty: "Cardiology",
            site: 1),
        Provider(
            id: 5, username: "sruiz", first: "Sofia", last: "Ruiz", npi: "1487600052", specialty: "Family Medicine",
            site: 2),
        Provider(
            id: 6, username: "dwalker", first: "Dennis", last: "Walker", npi: "1487600060",
            specialty: "Internal Medicine", site: 2),
        Provider(
            id: 7, username: "pnair", first: "Priya", last: "Nair", npi: "1487600078", specialty: "Endocrinology",
            site: 2),
        Provider(
            id: 8, username: "jmorel", first: "Jules", last: "Morel", npi: "1487600086", specialty: "Family Medicine",
            site: 2),
    ]

    /// First names with the nickname a duplicate record may carry.
    static let female: [(String, String?)] = [
        ("Elizabeth", "Liz"), ("Katherine", "Kate"), ("Margaret", "Peggy"), ("Jennifer", "Jen"), ("Patricia", "Pat"),
        ("Susan", "Sue"), ("Deborah", "Deb"), ("Rebecca", "Becky"), ("Samantha", "Sam"), ("Mary", nil),
        ("Linda", nil), ("Barbara", nil), ("Sarah", nil), ("Karen", nil), ("Nancy", nil), ("Lisa", nil),
        ("Emily", nil), ("Olivia", nil), ("Zoë", nil), ("Renée", nil), ("Ana", nil), ("Mei", nil), ("Aisha", nil),
        ("Grace", nil), ("Hannah", nil), ("Chloe", nil), ("Victoria", "Vicky"), ("Jessica", "Jess"),
    ]
    static let male: [(String, String?)] = [
        ("William", "Bill"), ("Robert", "Bob"), ("Richard", "Rick"), ("James", "Jim"), ("Michael", "Mike"),
        ("Thomas", "Tom"), ("Joseph", "Joe"), ("Charles", "Chuck"), ("Daniel", "Dan"), ("Christopher", "Chris"),
        ("Anthony", "Tony"), ("David", nil), ("John", nil), ("Mark", nil), ("Steven", nil), ("Paul", nil),
        ("Kevin", nil), ("Brian", nil), ("José", nil), ("Luis", nil), ("Wei", nil), ("Omar", nil), ("Noah", nil),
        ("Ethan", nil), ("Samuel", "Sam"), ("Benjamin", "Ben"), ("Alexander", "Alex"), ("Nicholas", "Nick"),
    ]
    static let last = [
        "Smith", "Johnson", "Williams", "Brown", "Jones", "García", "Miller", "Davis", "Rodriguez", "Martinez",
        "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
        "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
        "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
        "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "O'Brien",
        "Kowalski", "Schmidt", "Müller", "Okafor", "Patel", "Kim", "Chen", "Murphy", "Sullivan", "Fitzgerald",
        "Van der Berg", "Lindqvist", "Rossi", "Dubois",
    ]
    static let streets = [
        "Maple", "Oak", "Pine", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park", "Main", "Church", "Spring",
        "Ridge", "Highland", "Sunset", "River", "Mill", "Forest", "Meadow", "Chestnut",
    ]
    static let streetKinds = ["St", "Ave", "Rd", "Ln", "Dr", "Ct", "Blvd", "Way"]
    static let languages = [
        "English", "English", "English", "English", "Spanish", "Chinese", "Vietnamese", "Portuguese",
    ]
    static let races = ["white", "black_or_afri_amer", "asian", "amer_ind_or_alaska_native", "declne_to_specfy", ""]
    static let ethnicities = ["not_hisp_or_latin", "hisp_or_latin", "declne_to_specfy", ""]
    static let maritalStatus = ["married", "single", "divorced", "widowed", "separated", "domestic partner", ""]

    struct Problem {
        let title: String
        /// As the legacy system writes it: `ICD10:I10` or a local `LOC:` code.
        let diagnosis: String
    }

    static let problems = [
        Problem(title: "Essential hypertension", diagnosis: "ICD10:I10"),
        Problem(title: "Type 2 diabetes mellitus", diagnosis: "ICD10:E11.9"),
        Problem(title: "Hyperlipidemia", diagnosis: "ICD10:E78.5"),
        Problem(title: "Asthma", diagnosis: "ICD10:J45.909"),
        Problem(title: "Gastro-esophageal reflux disease", diagnosis: "ICD10:K21.9"),
        Problem(title: "Hypothyroidism", diagnosis: "ICD10:E03.9"),
        Problem(title: "Major depressive disorder", diagnosis: "ICD10:F32.9"),
        Problem(title: "Osteoarthritis of knee", diagnosis: "ICD10:M17.9"),
        Problem(title: "Chronic kidney disease, stage 3", diagnosis: "ICD10:N18.3"),
        Problem(title: "Obesity", diagnosis: "ICD10:E66.9"),
        Problem(title: "Atrial fibrillation", diagnosis: "ICD10:I48.91"),
        Problem(title: "Migraine", diagnosis: "ICD10:G43.909"),
        Problem(title: "Anxiety disorder", diagnosis: "ICD10:F41.9"),
        Problem(title: "High blood pressure", diagnosis: "LOC:HTN"),
        Problem(title: "Sugar diabetes", diagnosis: "LOC:DM2"),
        Problem(title: "Old chart diagnosis (see paper chart)", diagnosis: "LOC:OLDDX"),
    ]

    struct Allergen {
        let code: String
        let title: String
        let reactions: [String]
    }

    static let allergens = [
        Allergen(code: "ALG:PCN", title: "Penicillin", reactions: ["hives", "rash", "anaphylaxis"]),
        Allergen(code: "ALG:AMOX", title: "Amoxicillin", reactions: ["rash", "hives"]),
        Allergen(code: "ALG:SULFA", title: "Sulfa drugs", reactions: ["rash", "itching"]),
        Allergen(code: "ALG:ASA", title: "Aspirin", reactions: ["wheezing", "hives"]),
        Allergen(code: "ALG:IBU", title: "Ibuprofen", reactions: ["stomach upset", "swelling"]),
        Allergen(code: "ALG:COD", title: "Codeine", reactions: ["nausea", "itching"]),
        Allergen(code: "ALG:LATEX", title: "Latex", reactions: ["contact dermatitis"]),
        Allergen(code: "ALG:PNUT", title: "Peanut", reactions: ["anaphylaxis", "swelling"]),
        Allergen(code: "ALG:OTHER", title: "Unknown substance per old chart", reactions: [""]),
    ]
    static let severities = ["mild", "moderate", "severe", "life_threatening_severity", ""]

    struct Drug {
        let id: Int
        let name: String
        let ndc: String
        let form: String
        let size: String
        let unit: String
        let route: String
        let dosage: String
        let interval: String
    }

    static let drugs = [
        Drug(
            id: 1, name: "Lisinopril 10 mg tablet", ndc: "68180-0514-01", form: "tablet", size: "10", unit: "mg",
            route: "oral", dosage: "1 tablet", interval: "daily"),
        Drug(
            id: 2, name: "Metformin 500 mg tablet", ndc: "65862-0008-01", form: "tablet", size: "500", unit: "mg",
            route: "oral", dosage: "1 tablet", interval: "twice daily"),
        Drug(
            id: 3, name: "Atorvastatin 20 mg tablet", ndc: "0378-3950-77", form: "tablet", size: "20", unit: "mg",
            route: "oral", dosage: "1 tablet", interval: "at bedtime"),
        Drug(
            id: 4, name: "Amlodipine 5 mg tablet", ndc: "0093-7167-56", form: "tablet", size: "5", unit: "mg",
            route: "oral", dosage: "1 tablet", interval: "daily"),
        Drug(
            id: 5, name: "Levothyroxine 50 mcg tablet", ndc: "0378-1803-01", form: "tablet", size: "50", unit: "mcg",
            route: "oral", dosage: "1 tablet", interval: "every morning"),
        Drug(
            id: 6, name: "Omeprazole 20 mg capsule", ndc: "62175-0118-37", form: "capsule", size: "20", unit: "mg",
            route: "oral", dosage: "1 capsule", interval: "daily before breakfast"),
        Drug(
            id: 7, name: "Albuterol 90 mcg inhaler", ndc: "0173-0682-20", form: "inhaler", size: "90", unit: "mcg",
            route: "inhalation", dosage: "2 puffs", interval: "every 4 hours as needed"),
        Drug(
            id: 8, name: "Sertraline 50 mg tablet", ndc: "16729-0213-01", form: "tablet", size: "50", unit: "mg",
            route: "oral", dosage: "1 tablet", interval: "daily"),
        Drug(
            id: 9, name: "Hydrochlorothiazide 25 mg tablet", ndc: "16729-0183-01", form: "tablet", size: "25",
            unit: "mg", route: "oral", dosage: "1 tablet", interval: "daily"),
        Drug(
            id: 10, name: "Compounded hydrocortisone cream 1%", ndc: "99999-0001-01", form: "cream", size: "1",
            unit: "%", route: "topical", dosage: "thin layer", interval: "twice daily"),
    ]

    struct LabTest {
        let code: String
        let name: String
        let unit: String
        let low: Double
        let high: Double
        let decimals: Int
    }

    struct Panel {
        let code: String
        let name: String
        let tests: [LabTest]
    }

    static let panels = [
        Panel(
            code: "BMP", name: "Basic metabolic panel",
            tests: [
                LabTest(code: "GLU", name: "Glucose", unit: "mg/dL", low: 70, high: 99, decimals: 0),
                LabTest(code: "NA", name: "Sodium", unit: "mmol/L", low: 136, high: 145, decimals: 0),
                LabTest(code: "K", name: "Potassium", unit: "mmol/L", low: 3.5, high: 5.1, decimals: 1),
                LabTest(code: "CL", name: "Chloride", unit: "mmol/L", low: 98, high: 107, decimals: 0),
                LabTest(code: "CO2", name: "Carbon dioxide", unit: "mmol/L", low: 22, high: 29, decimals: 0),
                LabTest(code: "BUN", name: "Urea nitrogen", unit: "mg/dL", low: 7, high: 20, decimals: 0),
                LabTest(code: "CREAT", name: "Creatinine", unit: "mg/dL", low: 0.6, high: 1.3, decimals: 2),
            ]),
        Panel(
            code: "CBC", name: "Complete blood count",
            tests: [
                LabTest(code: "WBC", name: "White blood cells", unit: "K/uL", low: 4.5, high: 11, decimals: 1),
                LabTest(code: "HGB", name: "Hemoglobin", unit: "g/dL", low: 12, high: 17, decimals: 1),
                LabTest(code: "PLT", name: "Platelets", unit: "K/uL", low: 150, high: 400, decimals: 0),
            ]),
        Panel(
            code: "LIPID", name: "Lipid panel",
            tests: [
                LabTest(code: "CHOL", name: "Cholesterol, total", unit: "mg/dL", low: 120, high: 200, decimals: 0),
                LabTest(code: "TRIG", name: "Triglycerides", unit: "mg/dL", low: 40, high: 150, decimals: 0),
                LabTest(code: "HDL", name: "HDL cholesterol", unit: "mg/dL", low: 40, high: 80, decimals: 0),
                LabTest(code: "LDL", name: "LDL cholesterol", unit: "mg/dL", low: 50, high: 130, decimals: 0),
            ]),
        Panel(
            code: "A1C", name: "Hemoglobin A1c",
            tests: [LabTest(code: "HGBA1C", name: "Hemoglobin A1c", unit: "%", low: 4, high: 5.6, decimals: 1)]),
        Panel(
            code: "TSH", name: "Thyroid stimulating hormone",
            tests: [LabTest(code: "TSH", name: "TSH", unit: "uIU/mL", low: 0.4, high: 4, decimals: 2)]),
        Panel(
            code: "MISC", name: "Send-out miscellaneous",
            tests: [LabTest(code: "XSEND", name: "Send-out test", unit: "", low: 1, high: 10, decimals: 0)]),
    ]

    static let reasons = [
        "Follow-up for blood pressure", "Annual physical", "Cough and fever for 3 days", "Medication refill",
        "Diabetes check, A1c review", "Knee pain after fall", "Headache, \"worst in weeks\"",
        "Anxiety, trouble sleeping",
        "Rash on forearm", "Pre-op clearance", "Shortness of breath on exertion", "Back pain, lifting at work",
        "Well visit; vaccines up to date", "Abdominal pain, nausea",
    ]
    static let noteTitles = ["Phone call", "Clinical note", "Care coordination", "Patient message", "Lab follow-up"]
    static let noteSentences = [
        "Patient called about refill; sent to pharmacy.", "Discussed lab results, all within range except glucose.",
        "Patient reports feeling better, \"much less tired\".", "Advised to return if symptoms worsen.",
        "Spoke with daughter, who manages medications.", "Scheduled follow-up in 3 months.",
        "BP logs reviewed: average 138/86.", "Referral to physical therapy placed.",
        "Patient prefers morning appointments; hard of hearing, speak clearly.", "No known drug interactions found.",
    ]
}
