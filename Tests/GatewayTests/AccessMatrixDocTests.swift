import Foundation
import Gateway
import Testing

@Suite("the access matrix in docs/OPERATIONS.md")
struct AccessMatrixDocTests {
    @Test("the document shows the matrix the code enforces, every method a row")
    func documented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("docs/OPERATIONS.md"), encoding: .utf8)
        let table = AccessMatrix.markdown
        #expect(
            document.contains(table),
            "docs/OPERATIONS.md does not show the matrix the code enforces; `accord-gateway access-matrix` prints it:\n\(table)"
        )
        #expect(table.split(separator: "\n").count == AccessMatrix.methods.count + 2)
    }
}
