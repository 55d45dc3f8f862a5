import AccordServiceRuntime
import ArgumentParser
import NIOCore
import NIOPosix

/// A server that hosts only the methods every Accord server has: health and the echo
/// diagnostics. It is the target of protocol tests and benchmarks.

@main
struct AccordEcho: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accord-echo",
        abstract: "Accord diagnostics server: accord.v1.Health and accord.v1.Echo over the Accord protocol.",
        discussion:
            "Default RPC port 7409, metrics on 9409. Stop it with SIGTERM or Ctrl-C; in-flight calls finish first."
    )

    /// Runs Swift concurrency on SwiftNIO's event loops before anything else starts, so that a
    /// call's task and its connection share threads instead of hopping between two pools.
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await Self.main(nil)
    }

    @OptionGroup var options: ServiceOptions

    mutating func run() async throws {
        let resolved = try self.options.resolve(defaultPort: 7409, defaultAdminPort: 9409)
        try await ServiceRunner.run(.init(name: "accord-echo", version: "0.1.0"), options: resolved)
    }
}
