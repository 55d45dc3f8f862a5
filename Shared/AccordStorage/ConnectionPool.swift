import PostgresNIO

/// The pool's connections: handed out one transaction at a time, opened when needed (up to the
/// pool's size), and dropped when they fail so that the next transaction opens a fresh one.
actor ConnectionPool {
    private let size: Int
    private let open: @Sendable () async throws -> PostgresConnection
    private var idle: [PostgresConnection] = []
    private var opened = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var closed = false

    init(size: Int, open: @escaping @Sendable () async throws -> PostgresConnection) {
        self.size = size
        self.open = open
    }

    deinit {
        // A database dropped without close(): close its connections, each kept alive until it is.
        for connection in self.idle {
            connection.close().whenComplete { _ in _ = connection }
        }
    }

    func acquire() async throws -> PostgresConnection {
        while true {
            if self.closed { throw StorageError("the database is closed") }
            while let connection = self.idle.popLast() {
                if !connection.isClosed { return connection }
                self.opened -= 1
            }
            if self.opened < self.size {
                self.opened += 1
                do {
                    return try await self.open()
                } catch {
                    self.opened -= 1
                    self.wakeOne()
                    throw error
                }
            }
            await withCheckedContinuation { self.waiters.append($0) }
        }
    }

    func release(_ connection: PostgresConnection) {
        if connection.isClosed || self.closed {
            self.opened -= 1
            if !connection.isClosed { Task { try? await connection.close() } }
        } else {
            self.idle.append(connection)
        }
        self.wakeOne()
    }

    /// Closes every idle connection (after the server was seen going away), so that the next
    /// transactions open fresh ones instead of sending statements to a server that left.
    func dropIdle() {
        let connections = self.idle
        self.idle = []
        self.opened -= connections.count
        // Each kept alive until it is closed (postgres-nio wants a connection closed before it goes).
        for connection in connections { connection.close().whenComplete { _ in _ = connection } }
        for _ in connections { self.wakeOne() }
    }

    private func wakeOne() {
        if !self.waiters.isEmpty { self.waiters.removeFirst().resume() }
    }

    func close() async {
        self.closed = true
        let connections = self.idle
        self.idle = []
        for connection in connections { try? await connection.close() }
        for waiter in self.waiters { waiter.resume() }
        self.waiters = []
    }
}
