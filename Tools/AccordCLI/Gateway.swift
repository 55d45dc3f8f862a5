import AccordClientKit
import AccordMessages
import AccordRPC
import AccordWire
import ArgumentParser
import Foundation
import NIOCore

/// Where the gateway is and who is calling: every command takes these.
struct GatewayOptions: ParsableArguments {
    @Option(help: "The gateway, HOST:PORT (ACCORD_GATEWAY). Default 127.0.0.1:7400.")
    var gateway: String?

    @Option(help: "Bearer token (ACCORD_TOKEN).")
    var token: String?

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    @Option(help: "Seconds to wait for each call. Default 30.")
    var timeout: Int = 30

    @OptionGroup(title: "TLS")
    var tls: ClientTLSOptions

    func validate() throws {
        guard self.timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if let gateway, Endpoint(gateway) == nil {
            throw ValidationError("--gateway must be HOST:PORT, got \(gateway)")
        }
    }

    var endpoint: Endpoint {
        let text = self.gateway ?? ProcessInfo.processInfo.environment["ACCORD_GATEWAY"] ?? "127.0.0.1:7400"
        return Endpoint(text) ?? Endpoint(host: "127.0.0.1", port: 7400)
    }

    var bearer: String? { self.token ?? ProcessInfo.processInfo.environment["ACCORD_TOKEN"] }
}

/// One connection to the gateway for the life of a command.
struct Gateway {
    let client: RPCClient
    let options: GatewayOptions

    var callOptions: CallOptions {
        var metadata = Metadata()
        if let token = self.options.bearer { metadata.add(MetadataKey.authorization, "Bearer \(token)") }
        metadata.add(MetadataKey.traceID, String(UInt64.random(in: 0...UInt64.max), radix: 16))
        return CallOptions(timeout: .seconds(Int64(self.options.timeout)), metadata: metadata)
    }

    func call<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request) async throws -> Response {
        try await self.client.unary(method, request, options: self.callOptions)
    }

    func stream<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ request: Request
    ) async throws
        -> AsyncThrowingMapSequence<AsyncThrowingStream<ByteBuffer, any Error>, Response>
    {
        try await self.client.serverStreaming(method, request, options: self.callOptions)
    }

    /// A moment flag's value as Unix milliseconds (see ``parseMoment(_:option:endOfDay:)``), with
    /// "now" the services' now: on a deployment running on a simulated clock, its time, not the
    /// machine's.
    func moment(_ text: String, option: String, endOfDay: Bool = false) async throws -> Int64 {
        guard text == "now" else { return try parseMoment(text, option: option, endOfDay: endOfDay) }
        let clocks = try? await self.call(GatewayMethods.getClocks, GetClockRequest()).clocks
        if let now = clocks?.compactMap(\.nowMs).max() { return now }
        return try parseMoment(text, option: option)
    }

    /// The same for an optional flag.
    func moment(ifGiven text: String?, option: String, endOfDay: Bool = false) async throws -> Int64? {
        guard let text else { return nil }
        return try await self.moment(text, option: option, endOfDay: endOfDay)
    }

    /// Every item of a paged list, page by page, up to `limit`.
    func all<Item>(
        limit: Int?,
        _ page: (PageRequest) async throws -> ([Item], PageResponse?)
    ) async throws -> [Item] {
        var items: [Item] = []
        var token: String?
        repeat {
            let left = limit.map { $0 - items.count } ?? 1000
            let (batch, next) = try await page(PageRequest(pageSize: UInt32(max(1, min(1000, left))), pageToken: token))
            items += batch
            token = next?.nextPageToken
        } while token != nil && (limit.map { items.count < $0 } ?? true)
        if let limit, items.count > limit { items.removeLast(items.count - limit) }
        return items
    }
}

/// A command that talks to the gateway: runs `body`, and turns a failed call into the status
/// name and message on standard error and a non-zero exit.
protocol GatewayCommand: AsyncParsableCommand {
    var gateway: GatewayOptions { get }
    func run(_ gateway: Gateway) async throws
}

extension GatewayCommand {
    func run() async throws {
        var configuration = ClientConfiguration()
        configuration.tls = try self.gateway.tls.resolve()
        let client = RPCClient(endpoints: [self.gateway.endpoint], configuration: configuration)
        do {
            try await self.run(Gateway(client: client, options: self.gateway))
            await client.close()
        } catch let error as RPCError {
            await client.close()
            var message = "\(error.code.name): \(error.message)"
            if let details = error.errorDetails {
                for violation in details.fieldViolations where !error.message.hasPrefix(violation.field ?? "") {
                    message += "\n  \(violation.field ?? ""): \(violation.description ?? "")"
                }
            }
            if error.message.contains("the peer speaks TLS") {
                message +=
                    "\n  (the gateway speaks TLS: give --tls-ca FILE or ACCORD_TLS_CA, make cluster's is data/tls/ca.pem)"
            } else if error.message.contains("did not answer in TLS") {
                message += "\n  (the gateway is in clear: leave out --tls-ca and ACCORD_TLS_CA)"
            } else if error.code == .unavailable && self.gateway.bearer == nil {
                message += "\n  (is the gateway running at \(self.gateway.endpoint)?)"
            }
            if error.code == .unauthenticated && self.gateway.bearer == nil {
                message += "\n  give a token with --token or ACCORD_TOKEN"
            }
            FileHandle.standardError.write((message + "\n").data(using: .utf8)!)
            throw ExitCode(1)
        } catch {
            await client.close()
            throw error
        }
    }
}
