public import AccordStorage
import Foundation
import Logging

/// Where a test keeps a service's data: a fresh SQLite file, or, when `make test` runs the suites
/// on PostgreSQL (ACCORD_TEST_POSTGRES names its server), a fresh database on that server.
public enum TestStorage {
    /// The PostgreSQL server the suites run on this time, if any.
    public static var postgresServer: String? {
        ProcessInfo.processInfo.environment["ACCORD_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The storage for `file`: that SQLite file, or on PostgreSQL a database of its own for each
    /// file (the same one when a test opens the same file again, as a restart does).
    public static func location(file: String) async throws -> StorageLocation {
        guard let server = Self.postgresServer else { return .sqlite(path: file) }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in file.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let name = "accord_test_\(String(hash, radix: 16))"
        let url = try await PostgresDatabase.createDatabase(
            named: name,
            onServerOf: server,
            logger: Logger(label: "test.storage")
        )
        // The suites share one busy server: a connection may take longer than a service's 3 s.
        var configuration = PostgresDatabase.Configuration(url: url, poolSize: 4)
        configuration.connectSeconds = 10
        return .postgres(configuration)
    }
}
