import AccordCalendar
import Testing

@Suite("Dates and times as written: one strict parser")
struct CalendarParsingTests {
    @Test(
        "a day that is not on the calendar, or not written YYYY-MM-DD with digits only, is refused",
        arguments: [
            "2026-02-30", "2025-02-29", "2100-02-29", "2026-04-31", "2026-13-01", "2026-00-10", "2026-01-00",
            "2026-1-05", "26-01-05", "+202-01-05", "2026-+1-05", " 2026-01-05", "2026-01-05 ", "2026/01/05", "",
        ]
    )
    func badDays(_ text: String) {
        #expect(Day(text) == nil)
    }

    @Test("real days parse, leap days included, and print as they were written")
    func goodDays() {
        for text in ["2024-02-29", "2000-02-29", "2026-12-31", "1970-01-01", "0001-01-01"] {
            #expect(Day(text)?.description == text)
        }
        #expect(Day("1970-01-02")?.startMilliseconds == 86_400_000)
    }

    @Test(
        "times with their zone: Z or an offset, seconds and a fraction optional",
        arguments: [
            ("1970-01-01T00:00Z", 0),
            ("1970-01-01T00:00:01Z", 1000),
            ("1970-01-01T00:00:01.5Z", 1500),
            ("1970-01-01T00:00:01.123456Z", 1123),
            ("1970-01-01T01:00:00+01:00", 0),
            ("1969-12-31T19:30:00-04:30", 0),
            ("2026-05-01T14:30:00Z", 1_777_645_800_000),
        ] as [(String, Int64)]
    )
    func goodMoments(_ text: String, _ milliseconds: Int64) {
        #expect(Moment.milliseconds(text) == milliseconds)
    }

    @Test(
        "a time on a day that does not exist, out of range, or without its zone is refused",
        arguments: [
            "2026-02-30T10:00:00Z", "2026-02-28T24:00:00Z", "2026-02-28T10:60:00Z", "2026-02-28T10:00:60Z",
            "2026-02-28T10:00:00", "2026-02-28T10Z", "2026-02-28T10:00:00+1:00", "2026-02-28T10:00:00+25:00",
            "2026-02-28T+1:00Z", "2026-02-28T10:00:00.Z", "2026-02-28T10:00:00.1234567890Z", "2026-02-28", "",
        ]
    )
    func badMoments(_ text: String) {
        #expect(Moment.milliseconds(text) == nil)
    }
}
