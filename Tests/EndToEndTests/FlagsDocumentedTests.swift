import Foundation
import Testing

/// docs/OPERATIONS.md names every flag each executable's `--help` lists (the servers, the
/// gateway's commands and the load harness), so that an operator reading it misses none.
@Suite("every flag documented")
struct FlagsDocumentedTests {
    static let commands: [(String, [String])] = [
        ("accord-intake", []), ("accord-qualification", []), ("accord-supervision", []),
        ("accord-gateway", ["serve"]), ("accord-gateway", ["create-token"]), ("accord-gateway", ["access-matrix"]),
        ("accord-echo", []), ("accord-load", []), ("accord-backup", ["create"]), ("accord-backup", ["restore"]),
    ]

    /// The long flags of a `--help` text, without `--help` and `--version`.
    static func flags(_ help: String) -> Set<String> {
        let pattern = try! NSRegularExpression(pattern: "--[a-z][a-z0-9-]*")
        let range = NSRange(help.startIndex..., in: help)
        let found = pattern.matches(in: help, range: range).map { String(help[Range($0.range, in: help)!]) }
        return Set(found).subtracting(["--help", "--version"])
    }

    @Test("each flag of each executable's --help is in docs/OPERATIONS.md")
    func documented() throws {
        let document = try String(contentsOfFile: "\(CLITests.root)/docs/OPERATIONS.md", encoding: .utf8)
        var missing: [String] = []
        var seen = 0
        for (executable, subcommand) in Self.commands {
            let help = try CLITests.run(executable, subcommand + ["--help"])
            #expect(help.status == 0, "\(executable) \(subcommand) --help: \(help.errors)")
            for flag in Self.flags(help.output).sorted() {
                seen += 1
                // Named as a whole flag (not the start of a longer one).
                let named = try NSRegularExpression(
                    pattern: NSRegularExpression.escapedPattern(for: flag) + "(?![a-z0-9-])"
                )
                if named.firstMatch(in: document, range: NSRange(document.startIndex..., in: document)) == nil {
                    missing.append("\(executable) \(subcommand.joined()) \(flag)")
                }
            }
        }
        #expect(seen > 40, "\(seen) flags read")
        #expect(missing.isEmpty, "not in docs/OPERATIONS.md: \(missing.joined(separator: ", "))")
    }
}
