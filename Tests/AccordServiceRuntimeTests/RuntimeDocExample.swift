import AccordMessages
import AccordRPC
import AccordServiceRuntime
import ArgumentParser
import Foundation
import Testing

// The example of docs/RUNTIME.md ("Writing a service"), compiled here; the test below checks that
// the document shows exactly this code.
// doc-example begin
/// A server with one method of its own beside the health and echo every server has.
struct AccordExample: AsyncParsableCommand {
    static let greet = RPCMethod<EchoRequest, EchoResponse>(
        path: "/example.v1.Example/Greet",
        kind: .unary,
        isIdempotent: true
    )

    @OptionGroup var options: ServiceOptions

    mutating func run() async throws {
        let resolved = try self.options.resolve(defaultPort: 7499, defaultAdminPort: 9499)
        try await ServiceRunner.run(.init(name: "accord-example", version: "0.1.0"), options: resolved) {
            router,
            logger in
            router.register(Self.greet) { request, context in
                context.logger.debug("Greeting", metadata: ["bytes": "\(request.payload?.count ?? 0)"])
                return EchoResponse(payload: Array("hello, ".utf8) + (request.payload ?? []))
            }
            logger.info("Example methods registered")
            return []  // the service's background work (outbox senders), stopped with the server
        }
    }
}
// doc-example end

@Suite("docs/RUNTIME.md")
struct RuntimeDocExampleTests {
    @Test("the code example is this file's, which compiles")
    func exampleIsCompiled() throws {
        let here = try String(contentsOfFile: #filePath, encoding: .utf8)
        let start = try #require(here.range(of: "// doc-example begin\n"))
        let end = try #require(here.range(of: "// doc-example end\n"))
        let code = String(here[start.upperBound..<end.lowerBound])
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("docs/RUNTIME.md"), encoding: .utf8)
        #expect(document.contains("```swift\n\(code)```\n"), "docs/RUNTIME.md should show:\n\(code)")
    }
}
