import Foundation
import Testing

@testable import Supervision

@Suite("Periodic work on one replica at a time", .timeLimit(.minutes(1)))
struct PeriodicTurnTests {
    @Test("the first replica keeps the turn while it renews it; when it stops, another takes over")
    func turns() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "accord-turns-\(UUID().uuidString)/s.sqlite"
        ).path
        let clock = TestClock(Harness.start)
        let first = try await Harness.start(path: path, clock: clock)
        let second = try await Harness.start(path: path, clock: clock)
        defer {
            Task {
                await first.stop()
                await second.stop()
            }
        }
        #expect(try await first.service.takeTurn("termination clock", lease: .seconds(180)))
        #expect(try await !second.service.takeTurn("termination clock", lease: .seconds(180)))
        clock.advance(minutes: 2)
        #expect(try await first.service.takeTurn("termination clock", lease: .seconds(180)), "renewal refused")
        clock.advance(minutes: 2)
        #expect(try await !second.service.takeTurn("termination clock", lease: .seconds(180)))
        // The first stops renewing: once its last lease has run out, the second has the turn.
        clock.advance(minutes: 2)
        #expect(try await second.service.takeTurn("termination clock", lease: .seconds(180)))
        #expect(try await !first.service.takeTurn("termination clock", lease: .seconds(180)))
        // Another job's turn is its own.
        #expect(try await first.service.takeTurn("training compliance", lease: .seconds(60)))
    }
}
