import Foundation

/// Where the services a test starts keep their data. On the SQLite pass of `make test`, as the test
/// says (`--data-dir D`). On the PostgreSQL pass (ACCORD_TEST_POSTGRES names a server), each
/// service started with `--data-dir D` gets `--postgres` with a database of its own for (D, that
/// service): the same database again when a test restarts it on the same folder, as after a
/// SIGKILL, and a fresh one for every new folder.
enum ProcessStorage {
    /// The PostgreSQL server of this pass, if any.
    static var server: String? {
        ProcessInfo.processInfo.environment["ACCORD_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var onPostgres: Bool { Self.server != nil }

    /// The services that keep data, by executable.
    private static let services = [
        "accord-intake": "intake", "accord-qualification": "qualification",
        "accord-supervision": "supervision", "accord-gateway": "gateway",
    ]

    /// `arguments` for `executable`, with `--postgres` added on the PostgreSQL pass.
    static func arguments(for executable: String, _ arguments: [String]) throws -> [String] {
        guard let server = Self.server, let service = Self.services[(executable as NSString).lastPathComponent],
            !arguments.contains("--postgres"), let flag = arguments.firstIndex(of: "--data-dir"),
            flag + 1 < arguments.count
        else { return arguments }
        return arguments + ["--postgres", try Self.database(for: service, folder: arguments[flag + 1], on: server)]
    }

    /// The URL of the database for `service` with its data in `folder`, made if it is new.
    static func database(for service: String, folder: String, on server: String) throws -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in folder.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let name = "accord_e2e_\(String(hash, radix: 16))_\(service)"
        let exists = try Self.psql(server, "SELECT 1 FROM pg_database WHERE datname = '\(name)'")
        if exists.trimmingCharacters(in: .whitespacesAndNewlines) != "1" {
            _ = try Self.psql(server, "CREATE DATABASE \(name)")
        }
        guard var parts = URLComponents(string: server) else { throw ProcessStorageError("\(server) is not a URL") }
        parts.path = "/\(name)"
        return parts.string ?? server
    }

    /// Runs one statement with psql on the database of `url`; its output, unaligned.
    @discardableResult
    static func psql(_ url: String, _ statement: String) throws -> String {
        let result = try CLITests.run("/usr/lib/postgresql/15/bin/psql", [url, "-tAc", statement])
        guard result.status == 0 else { throw ProcessStorageError("psql \(statement): \(result.errors)") }
        return result.output
    }
}

struct ProcessStorageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
