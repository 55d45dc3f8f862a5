import AccordMessages
import AccordRPC
import AccordWire
import Foundation
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Forwarded server streams go no faster than their callers read, over real processes.
@Suite("gateway: streams held back by their readers", .timeLimit(.minutes(3)))
struct GatewayStreamTests {
    @Test(
        "three callers that never read 100,000 × 1 KiB: the gateway's memory stays flat and other callers are answered"
    )
    func unreadStreams() async throws {
        let set = try CLITests.start(seedICE: false)
        defer { set.stop() }
        let gatewayProcess = try #require(set.processes["gateway"])
        let endpoint = try #require(Endpoint(set.gateway))
        let gateway = RPCClient(endpoints: [endpoint])
        defer { Task { await gateway.close() } }
        let token = set.tokens["operator"] ?? ""
        let options = CallOptions(
            metadata: [MetadataKey.authorization: "Bearer \(token)", MetadataKey.echoBackend: "intake"]
        )
        // A caller that reads gets the whole stream through the gateway.
        var read = 0
        for try await response in try await gateway.serverStreaming(
            EchoMethods.stream,
            EchoRequest(payload: Array(repeating: 7, count: 1024), count: 2_000),
            options: options
        ) {
            #expect(response.payload?.count == 1024)
            read += 1
        }
        #expect(read == 2_000)
        // Warm: the gateway's connections and buffers in use before the unread streams start.
        for _ in 0..<200 { _ = try await gateway.unary(EchoMethods.unary, EchoRequest(payload: [1]), options: options) }
        let before = try Self.residentKiB(gatewayProcess.processIdentifier)

        let sockets = try (0..<3).map { _ in try Self.openUnreadStream(port: endpoint.port, token: token) }
        defer { for socket in sockets { close(socket) } }
        let intake = try #require(set.processes["intake"]).processIdentifier
        let gatewayID = gatewayProcess.processIdentifier
        // The three streams are running once intake holds them in flight...
        let running = try await SupervisionProcessTests.eventually {
            let backends = try await gateway.unary(GatewayMethods.getBackends, GetBackendsRequest(), options: options)
            return backends.backends.first { $0.service == "intake" && ($0.inFlight ?? 0) >= 3 }
        }
        #expect(running != nil, "the unread streams never started")
        // ...and held once the kernel's socket buffers on the way are full: intake and the gateway
        // then go idle (before, the gateway read on and held everything: hundreds of MB).
        var peak = before
        let held = try await SupervisionProcessTests.eventually(seconds: 60) { () -> Bool? in
            let (intakeBefore, gatewayBefore) = (try Self.cpuTicks(intake), try Self.cpuTicks(gatewayID))
            try await Task.sleep(for: .milliseconds(300))
            let (intakeAfter, gatewayAfter) = (try Self.cpuTicks(intake), try Self.cpuTicks(gatewayID))
            return intakeAfter - intakeBefore <= 6 && gatewayAfter - gatewayBefore <= 6 ? true : nil
        }
        peak = max(peak, try Self.residentKiB(gatewayID))
        #expect(held == true, "the unread streams kept intake or the gateway busy")
        // Other callers are answered beside the held streams, and the gateway's memory stays flat.
        for _ in 0..<200 {
            _ = try await gateway.unary(EchoMethods.unary, EchoRequest(payload: [2]), options: options)
        }
        let shown = try await gateway.unary(GatewayMethods.getBackends, GetBackendsRequest(), options: options)
        #expect(shown.backends.allSatisfy { $0.state == .healthy }, "\(shown.backends)")
        peak = max(peak, try Self.residentKiB(gatewayID))
        #expect(peak - before <= 8 * 1024, "the gateway grew from \(before) KiB to \(peak) KiB")
    }

    /// CPU time a process has used (user and system), in clock ticks (10 ms).
    static func cpuTicks(_ pid: Int32) throws -> Int {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // The fields after the command (which is in parentheses and may hold spaces).
        let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
        return try #require(Int(fields[11])) + (try #require(Int(fields[12])))
    }

    /// Resident memory of a process, in KiB.
    static func residentKiB(_ pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    }

    /// A connection that asks the gateway for a stream of 100,000 × 1 KiB echoes from intake and
    /// then never reads.
    static func openUnreadStream(port: Int, token: String) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        // A small window, as a slow phone's: what this caller does not read stays mostly in the gateway's hands.
        var window: Int32 = 16 << 10
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &window, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(connected == 0, "connect: \(errno)")
        var bytes = ByteBuffer()
        bytes.writePreface(Preface(role: .client, capabilities: [], maxMessageBytes: 4 << 20))
        let headers = CallHeaders(
            method: EchoMethods.stream.path,
            timeoutMilliseconds: 60_000,
            metadata: [MetadataKey.authorization: "Bearer \(token)", MetadataKey.echoBackend: "intake"]
        )
        bytes.writeFrame(type: .headers, callID: 1) { headers.encode(into: &$0) }
        let request = try EchoRequest(payload: Array(repeating: 9, count: 1024), count: 100_000).serializedBytes()
        bytes.writeFrame(type: .message, flags: .endStream, callID: 1) { $0.writeBytes(request) }
        let sent = bytes.withUnsafeReadableBytes { write(fd, $0.baseAddress, $0.count) }
        #expect(sent == bytes.readableBytes)
        return fd
    }
}
