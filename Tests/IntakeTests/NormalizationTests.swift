import AccordMessages
import AccordSheets
import Testing

@testable import Intake

@Suite("Intake normalization and validation, without a database")
struct NormalizationTests {
    @Test("names that differ only in case, spacing and punctuation share a key")
    func nameKeys() {
        #expect(Normalize.key("Colbert County Sheriff's Office") == Normalize.key("  COLBERT COUNTY SHERIFFS  OFFICE "))
        #expect(Normalize.key("Police & Fire") == Normalize.key("police and fire"))
        #expect(Normalize.key("A County") != Normalize.key("B County"))
    }

    @Test("states by USPS code or name; others refused")
    func states() {
        #expect(USStates.code(for: "tx") == "TX")
        #expect(USStates.code(for: "NEW YORK") == "NY")
        #expect(USStates.code(for: " puerto rico ") == "PR")
        #expect(USStates.code(for: "DC") == "DC")
        #expect(USStates.code(for: "Texass") == nil)
        #expect(USStates.code(for: "XX") == nil)
        #expect(USStates.names.count == 56)
    }

    @Test("models and types from the sheets' words, in any case")
    func modelsAndTypes() {
        #expect(Normalize.model("Jail Enforcement Model") == .jem)
        #expect(Normalize.model(" warrant service officer ") == .wso)
        #expect(Normalize.model("TASK FORCE MODEL") == .tfm)
        #expect(Normalize.model("#N/A") == nil)
        #expect(Normalize.agencyType("County ") == .county)
        #expect(Normalize.agencyType("State Agency") == .stateAgency)
        #expect(Normalize.county("#N/A") == nil)
        #expect(Normalize.county(" Travis  County ") == "Travis County")
    }

    @Test(
        "sheet dates: the clean forms are read, run-together ones refused",
        arguments: [
            ("2025-05-08 00:00:00", "2025-05-08"), ("2025-05-08", "2025-05-08"), ("5/8/2025", "2025-05-08"),
            ("05/08/2025", "2025-05-08"), ("2/29/2024", "2024-02-29"),
        ]
    )
    func goodDates(text: String, expected: String) {
        #expect(CalendarDate(sheet: text)?.description == expected)
    }

    @Test(
        "refused sheet dates",
        arguments: ["7/72025", "05/082025", "2/30/2024", "2025-13-01", "", "link", "2025-05-08 13:00:00"]
    )
    func badDates(text: String) {
        #expect(CalendarDate(sheet: text) == nil)
    }

    @Test("Unix milliseconds to a UTC date")
    func unixDates() {
        #expect(CalendarDate(unixMilliseconds: 0).description == "1970-01-01")
        #expect(CalendarDate(unixMilliseconds: 1_780_315_200_000).description == "2026-06-01")
        #expect(CalendarDate(unixMilliseconds: -1).description == "1969-12-31")
    }

    @Test("sheet rows: every reason a row is refused")
    func rowRejections() {
        let today = CalendarDate(year: 2026, month: 6, day: 1)!
        func reason(_ row: SheetRow) -> String? {
            if case .rejected(let reason) = IntakeService.parse(row, kind: .participating, today: today) {
                return reason
            }
            return nil
        }
        let good = SheetRow(
            line: 2,
            state: "TEXAS",
            agency: "X County Sheriff's Office",
            type: "County",
            county: "#N/A",
            supportType: "Task Force Model",
            signed: "2025-01-02 00:00:00",
            moa: "link"
        )
        #expect(reason(good) == nil)
        var row = good
        row.agency = "  "
        #expect(reason(row) == "agency name is missing")
        row = good
        row.state = "Atlantis"
        #expect(reason(row) == "unknown state \"Atlantis\"")
        row = good
        row.supportType = "Border Model"
        #expect(reason(row) == "unknown model \"Border Model\"")
        row = good
        row.signed = "7/72025"
        #expect(reason(row) == "signed date \"7/72025\" is not a date")
        row = good
        row.signed = "5/1/5025"
        #expect(reason(row) == "signed date 5025-05-01 is implausible")
        row = good
        row.signed = "1/1/1999"
        #expect(reason(row) == "signed date 1999-01-01 is implausible")
    }

    @Test("CSV: quotes, commas inside quotes, CRLF, a byte-order mark, line numbers")
    func csv() throws {
        let text =
            "\u{FEFF}STATE,LAW ENFORCEMENT AGENCY,TYPE,COUNTY,SUPPORT TYPE\r\n"
            + "FLORIDA,\"Dept. of Highway Safety, Division \"\"A\"\"\",State Agency,#N/A,Task Force Model\r\n"
            + "\r\n"
            + "TEXAS,Y Police,Municipality,Z County,Warrant Service Officer\n"
        let rows = try ICESheet.rows(csv: text)
        #expect(rows.count == 2)
        #expect(rows[0].agency == "Dept. of Highway Safety, Division \"A\"")
        #expect(rows[0].line == 2)
        #expect(rows[1].line == 4)
        #expect(throws: ICESheet.Failure.self) { try ICESheet.rows(csv: "STATE,NAME\nTX,Y\n") }
    }
}
