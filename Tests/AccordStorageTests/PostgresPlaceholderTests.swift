import Testing

@testable import AccordStorage

@Suite("PostgreSQL placeholders: the stores' ? become $n")
struct PostgresPlaceholderTests {
    @Test(
        "each ? is numbered in order, ?N keeps its number, literals and other characters are left as they are",
        arguments: [
            ("SELECT 1", "SELECT 1"),
            ("INSERT INTO t (a, b) VALUES (?, ?)", "INSERT INTO t (a, b) VALUES ($1, $2)"),
            ("WHERE a = ?1 OR b = ?1 AND c = ?2", "WHERE a = $1 OR b = $1 AND c = $2"),
            ("WHERE note = 'why?' AND a = ?", "WHERE note = 'why?' AND a = $1"),
            (
                "WHERE name = 'Condado de Doña Ana ✓' AND a = ? AND b = ?",
                "WHERE name = 'Condado de Doña Ana ✓' AND a = $1 AND b = $2"
            ),
            ("WHERE a IN (?, ?, ?) LIMIT ?", "WHERE a IN ($1, $2, $3) LIMIT $4"),
            ("?", "$1"),
            ("?12", "$12"),
        ]
    )
    func numbering(_ sql: String, _ expected: String) {
        #expect(PostgresSession.numbered(sql) == expected)
    }
}
