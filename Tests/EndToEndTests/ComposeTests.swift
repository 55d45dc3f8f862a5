import Foundation
import Testing

/// compose/compose.yaml must stay consistent with the executables: every flag it passes exists,
/// every service another one points at exists with that port, every seed path it reads is
/// shipped by the Dockerfile.
@Suite("the compose deployment matches the executables")
struct ComposeTests {
    static var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
    }

    struct Service {
        var name: String
        var command: [String]

        func value(of flag: String) -> String? {
            guard let index = self.command.firstIndex(of: flag), index + 1 < self.command.count else { return nil }
            return self.command[index + 1]
        }
    }

    /// The services and their command lines (each written as a JSON array on one line).
    static func services() throws -> [Service] {
        let text = try String(contentsOfFile: "\(Self.root)/compose/compose.yaml", encoding: .utf8)
        var services: [Service] = []
        var current: String?
        var inServices = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "services:" {
                inServices = true
                continue
            }
            guard inServices else { continue }
            if line.hasPrefix("  "), !line.hasPrefix("   "), line.hasSuffix(":") {
                current = String(line.dropFirst(2).dropLast())
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("command:"), let name = current {
                let array = trimmed.dropFirst("command:".count).trimmingCharacters(in: .whitespaces)
                let command = try JSONDecoder().decode([String].self, from: Data(array.utf8))
                services.append(Service(name: name, command: command))
            }
        }
        return services
    }

    /// The Accord service a compose service runs: `intake-2` runs intake.
    static func base(_ name: String) -> String {
        guard let dash = name.lastIndex(of: "-"), Int(name[name.index(after: dash)...]) != nil else { return name }
        return String(name[..<dash])
    }

    @Test("every flag exists, every endpoint names a service and its port, every seed path is shipped")
    func consistent() throws {
        let services = try Self.services()
        #expect(Set(services.map { Self.base($0.name) }) == ["intake", "qualification", "supervision", "gateway"])
        for replicated in ["intake", "qualification", "supervision"] {
            #expect(
                services.filter { Self.base($0.name) == replicated }.count == 2,
                "\(replicated) has not two replicas"
            )
        }
        let ports = Dictionary(uniqueKeysWithValues: services.map { ($0.name, $0.value(of: "--port") ?? "") })
        let expected = ["gateway": "7400", "intake": "7401", "qualification": "7402", "supervision": "7403"]
        for (name, port) in ports { #expect(port == expected[Self.base(name)], "\(name) listens on \(port)") }
        for service in services {
            let executable = try #require(service.command.first)
            #expect(executable == "accord-\(Self.base(service.name))")
            var help = try CLITests.run(executable, ["--help"]).output
            if help.contains("SUBCOMMANDS") { help = try CLITests.run(executable, ["serve", "--help"]).output }
            for flag in service.command.dropFirst() where flag.hasPrefix("--") {
                #expect(help.contains(flag), "\(executable) has no \(flag)")
            }
            // Every replica of a service on that service's own database, on the postgres service.
            let url = try #require(service.value(of: "--postgres"), "\(service.name) is not on PostgreSQL")
            #expect(url.hasPrefix("postgres://") && url.contains("@postgres:5432/accord_\(Self.base(service.name))"))
            for flag in ["--intake", "--qualification", "--supervision"] {
                guard let endpoints = service.value(of: flag) else { continue }
                let replicas = endpoints.split(separator: ",").map { $0.split(separator: ":").map(String.init) }
                #expect(replicas.count == 2, "\(service.name) \(flag) \(endpoints) does not list both replicas")
                for parts in replicas {
                    #expect(
                        parts.count == 2 && Self.base(parts[0]) == String(flag.dropFirst(2))
                            && ports[parts[0]] == parts[1],
                        "\(service.name) \(flag) \(endpoints)"
                    )
                }
            }
            for argument in service.command where argument.hasPrefix("/opt/accord/seeds/") {
                let local = "\(Self.root)/seeds/\(argument.dropFirst("/opt/accord/seeds/".count))"
                #expect(FileManager.default.fileExists(atPath: local), "\(argument) is not in seeds/")
            }
        }
        let compose = try String(contentsOfFile: "\(Self.root)/compose/compose.yaml", encoding: .utf8)
        #expect(compose.contains("image: postgres:15") && compose.contains("pg_isready"))
        let initSQL = try String(contentsOfFile: "\(Self.root)/compose/postgres-init.sql", encoding: .utf8)
        for name in ["intake", "qualification", "supervision", "gateway"] {
            #expect(initSQL.contains("CREATE DATABASE accord_\(name);"))
        }
        let dockerfile = try String(contentsOfFile: "\(Self.root)/compose/Dockerfile", encoding: .utf8)
        #expect(dockerfile.contains("COPY seeds /opt/accord/seeds"))
        for service in services { #expect(dockerfile.contains("accord-\(Self.base(service.name))")) }
    }
}
