import FHIR
import Foundation

/// A time on a site's local clock, as seconds since 1970-01-01 00:00 local.
struct LocalMoment: Comparable {
    var seconds: Int

    static func < (a: LocalMoment, b: LocalMoment) -> Bool { a.seconds < b.seconds }

    var parts: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let days = Int((Double(seconds) / 86_400).rounded(.down))
        let civil = FHIRPathTemporal.civil(days: days)
        let rest = seconds - days * 86_400
        return (civil.year, civil.month, civil.day, rest / 3600, rest % 3600 / 60, rest % 60)
    }

    static func date(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0) -> LocalMoment {
        LocalMoment(
            seconds: FHIRPathTemporal.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60)
    }

    func adding(days: Int, minutes: Int = 0) -> LocalMoment {
        LocalMoment(seconds: seconds + days * 86_400 + minutes * 60)
    }
}

/// How a site writes dates and times in its database.
struct SiteFormat {
    let site: SynthCatalog.Site

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func pad(_ n: Int, _ width: Int = 2) -> String {
        let text = String(n)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    func date(_ moment: LocalMoment) -> String {
        let p = moment.parts
        return site.usFormats
            ? "\(Self.pad(p.month))/\(Self.pad(p.day))/\(p.year)" : "\(p.year)-\(Self.pad(p.month))-\(Self.pad(p.day))"
    }

    /// A birth date: mostly the site's form, some in an older form the site used once.
    func birthDate(_ moment: LocalMoment, oldForm: Bool) -> String {
        let p = moment.parts
        guard oldForm else { return date(moment) }
        return site.usFormats
            ? "\(Self.pad(p.day))-\(Self.months[p.month - 1])-\(p.year)"
            : "\(p.year)\(Self.pad(p.month))\(Self.pad(p.day))"
    }

    func dateTime(_ moment: LocalMoment) -> String {
        let p = moment.parts
        if site.usFormats {
            let hour12 = p.hour % 12 == 0 ? 12 : p.hour % 12
            return "\(date(moment)) \(Self.pad(hour12)):\(Self.pad(p.minute)) \(p.hour < 12 ? "AM" : "PM")"
        }
        return "\(date(moment)) \(Self.pad(p.hour)):\(Self.pad(p.minute)):\(Self.pad(p.second))"
    }

    /// HL7 v2 DTM: site 1 sends local time without an offset, site 2 with its offset.
    func hl7(_ moment: LocalMoment, time: Bool = true) -> String {
        let p = moment.parts
        let day = "\(p.year)\(Self.pad(p.month))\(Self.pad(p.day))"
        guard time else { return day }
        let text = day + "\(Self.pad(p.hour))\(Self.pad(p.minute))\(Self.pad(p.second))"
        guard site.usFormats, let zone = TimeZone(identifier: site.zone) else { return text }
        let guess = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(moment.seconds)))
        let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(moment.seconds - guess)))
        let sign = offset < 0 ? "-" : "+"
        return text + sign + Self.pad(abs(offset) / 3600) + Self.pad(abs(offset) % 3600 / 60)
    }
}

/// One synthetic person as registered at a site (a duplicate registration is another record).
struct SynthPerson {
    var pid: Int
    var mrn: String
    var site: SynthCatalog.Site
    var first: String
    var nickname: String?
    var middle: String?
    var last: String
    var female: Bool
    var birth: LocalMoment
    var oldBirthForm: Bool
    var ssn: String?
    var street: String
    var city: String
    var postalCode: String
    var phoneHome: String?
    var phoneCell: String?
    var email: String?
    var language: String
    var race: String
    var ethnicity: String
    var marital: String
    var provider: SynthCatalog.Provider
    var registered: LocalMoment
    var deceased: LocalMoment?
    var mergedInto: Int?

    static func make(pid: Int, random r: inout SynthRandom) -> SynthPerson {
        let site = r.pick(SynthCatalog.sites)
        let female = r.chance(0.52)
        let (first, nickname) = r.pick(female ? SynthCatalog.female : SynthCatalog.male)
        let last = r.pick(SynthCatalog.last)
        let birth = LocalMoment.date(r.int(in: 1932...2021), r.int(in: 1...12), r.int(in: 1...28))
        let (city, zip) = r.pick(site.cities)
        let number = r.int(in: 1...9800)
        let street = "\(number) \(r.pick(SynthCatalog.streets)) \(r.pick(SynthCatalog.streetKinds))"
        let area = site.usFormats ? r.pick(["303", "720", "719"]) : r.pick(["617", "857", "781"])
        let ssnArea = r.int(in: 1...665)
        let ssn =
            r.chance(0.8)
            ? "\(SiteFormat.pad(ssnArea, 3))-\(SiteFormat.pad(r.int(in: 1...99)))-\(SiteFormat.pad(r.int(in: 1...9999), 4))"
            : nil
        let registered = LocalMoment.date(
            r.int(in: 2015...2024), r.int(in: 1...12), r.int(in: 1...28), r.int(in: 8...17), r.int(60))
        let providers = SynthCatalog.providers.filter { $0.site == site.id }
        let ascii = (first + "." + last).lowercased().filter { $0.isASCII && ($0.isLetter || $0 == ".") }
        return SynthPerson(
            pid: pid, mrn: "\(site.mrnPrefix)-\(SiteFormat.pad(pid, 7))", site: site, first: first, nickname: nickname,
            middle: r.chance(0.5) ? String(r.pick(Array("ABCDEFGHJKLMNPRSTW"))) : nil, last: last, female: female,
            birth: birth, oldBirthForm: r.chance(0.05), ssn: ssn, street: street, city: city,
            postalCode: zip + SiteFormat.pad(r.int(100), 2),
            phoneHome: r.chance(0.7) ? "\(area)-555-\(r.digits(4))" : nil,
            phoneCell: r.chance(0.6) ? "(\(area)) 555-\(r.digits(4))" : nil,
            email: r.chance(0.55) ? "\(ascii)\(r.int(100))@example.com" : nil, language: r.pick(SynthCatalog.languages),
            race: r.pick(SynthCatalog.races), ethnicity: r.pick(SynthCatalog.ethnicities),
            marital: r.pick(SynthCatalog.maritalStatus), provider: r.pick(providers), registered: registered,
            deceased: r.chance(0.01) ? registered.adding(days: r.int(in: 30...2000)) : nil, mergedInto: nil)
    }

    /// The same person registered again: a typo, a nickname, transposed day and month, a new address.
    func duplicate(pid: Int, random r: inout SynthRandom) -> (SynthPerson, String) {
        var copy = self
        copy.pid = pid
        let other = SynthCatalog.sites.first { $0.id != site.id }!
        copy.site = r.chance(0.6) ? other : site
        copy.mrn = "\(copy.site.mrnPrefix)-\(SiteFormat.pad(pid, 7))"
        copy.provider = r.pick(SynthCatalog.providers.filter { $0.site == copy.site.id })
        copy.registered = registered.adding(days: r.int(in: 30...900))
        copy.oldBirthForm = false
        var kinds: [String] = []
        switch r.int(4) {
        case 0 where last.count > 3:
            var letters = Array(last)
            let i = r.int(in: 1...(letters.count - 2))
            letters.swapAt(i, i + 1)
            copy.last = String(letters)
            kinds.append("typo")
        case 1 where nickname != nil:
            copy.first = nickname!
            kinds.append("nickname")
        case 2 where birth.parts.day <= 12 && birth.parts.day != birth.parts.month:
            let p = birth.parts
            copy.birth = LocalMoment.date(p.year, p.day, p.month)
            kinds.append("transposed-date")
        default:
            copy.street = "\(r.int(in: 1...9800)) \(r.pick(SynthCatalog.streets)) \(r.pick(SynthCatalog.streetKinds))"
            copy.phoneHome = nil
            kinds.append("moved")
        }
        if r.chance(0.3) {
            copy.middle = nil
            kinds.append("no-middle")
        }
        if r.chance(0.4) { copy.ssn = nil }
        return (copy, kinds.joined(separator: "+"))
    }
}
