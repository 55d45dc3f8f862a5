import AccordMessages
import AccordRPC
import AccordServiceKit
import AccordWire
import Foundation
import Intake
import Testing

/// The simulated clock of a staging or training deployment, on a real intake service and its
/// database: kept with the data, moved only forward, by operators only, followed by replicas.
@Suite("simulated clock")
struct SimulatedClockTests {
    static let start: Int64 = 1_799_020_800_000  // 2027-01-03T00:00:00Z
    static let day: Int64 = 86_400_000

    static func advance(
        _ intake: IntakeHarness,
        to: Int64?,
        reason: String? = "training cohort 4",
        as role: String = "operator"
    )
        async throws -> ClockState
    {
        try await intake.client.unary(
            ClockMethods.advanceClock,
            AdvanceClockRequest(toMs: to, reason: reason),
            options: AccessTests.options(role)
        )
    }

    static func clock(_ intake: IntakeHarness) async throws -> ClockState {
        try await intake.client.unary(ClockMethods.getClock, GetClockRequest(), options: AccessTests.options("auditor"))
    }

    @Test("kept with the data: a restart goes on from it, a later start moves it, real time refuses the database")
    func keptWithTheData() async throws {
        var intake = try await IntakeHarness.start(clock: .simulated(startingAt: Self.start))
        let path = intake.databasePath
        let first = try await Self.clock(intake)
        #expect(first.simulated == true && first.movedToMs == Self.start)
        #expect((Self.start..<(Self.start + 60_000)).contains(first.nowMs ?? 0))

        let later = Self.start + 400 * Self.day
        let moved = try await Self.advance(intake, to: later)
        #expect((moved.nowMs ?? 0) >= later && moved.movedBy?.contains("operator") == true)
        #expect(moved.reason == "training cohort 4")
        let again = try await Self.advance(intake, to: later)
        #expect(again.movedToMs == later && (again.offsetMs ?? 0) == (moved.offsetMs ?? -1), "asked twice: moved once")
        // Facts are stamped with the simulated time.
        let agency = try await intake.client.unary(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(agency: Agency(state: "TX", name: "Bexar County Sheriff's Office", type: .county)),
            options: AccessTests.options("program-office")
        )
        #expect((agency.created?.atMs ?? 0) >= later)

        let refusals: [(Int64?, String?, String, StatusCode, String)] = [
            (Self.start, "back", "operator", .failedPrecondition, "never goes back"),
            (later + Self.day, nil, "operator", .invalidArgument, "reason"),
            (
                later + Self.day, "why", "program-office", .permissionDenied,
                "may not call Clock/AdvanceClock: only operator may"
            ),
            (nil, "why", "operator", .invalidArgument, "to_ms"),
        ]
        for (to, reason, role, code, text) in refusals {
            do {
                _ = try await Self.advance(intake, to: to, reason: reason, as: role)
                Issue.record("moved the clock to \(to ?? 0) as \(role)")
            } catch let error as RPCError {
                #expect(error.code == code && error.message.contains(text), "\(error)")
            }
        }
        #expect((try await Self.clock(intake).nowMs ?? 0) < later + Self.day, "a refused move changes nothing")
        await intake.stop()

        // A restart with the original start goes on from the stored time; a later one moves on.
        intake = try await IntakeHarness.start(clock: .simulated(startingAt: Self.start), path: path)
        #expect((try await Self.clock(intake).nowMs ?? 0) >= later)
        await intake.stop()
        let restartedAt = Self.start + 800 * Self.day
        intake = try await IntakeHarness.start(clock: .simulated(startingAt: restartedAt), path: path)
        let restarted = try await Self.clock(intake)
        #expect((restarted.nowMs ?? 0) >= restartedAt && restarted.reason == "restarted with a later --simulated-clock")
        await intake.stop()

        // "now" on a restart goes on from the stored time, even one behind real time.
        intake = try await IntakeHarness.start(clock: .simulated(startingAt: nil), path: path)
        #expect((try await Self.clock(intake).nowMs ?? 0) >= restartedAt)
        await intake.stop()
        let past = try await IntakeHarness.start(clock: .simulated(startingAt: Self.start - 5000 * Self.day))
        let pastPath = past.databasePath
        await past.stop()
        let resumed = try await IntakeHarness.start(clock: .simulated(startingAt: nil), path: pastPath)
        #expect((try await Self.clock(resumed).nowMs ?? 0) < Self.start - 4000 * Self.day, "not moved to real time")
        await resumed.stop()

        do {
            _ = try await IntakeHarness.start(clock: .system, path: path)
            Issue.record("a database run on a simulated clock was opened on real time")
        } catch let refusal as ClockKeeper.Refusal {
            #expect(refusal.description.contains("ran on a simulated clock"))
        }
    }

    @Test("real time cannot be moved, and says so")
    func realTime() async throws {
        let intake = try await IntakeHarness.start(clock: .system)
        defer { Task { await intake.stop() } }
        #expect(try await Self.clock(intake).simulated == false)
        do {
            _ = try await Self.advance(intake, to: Self.start)
            Issue.record("moved real time")
        } catch let error as RPCError {
            #expect(error.code == .failedPrecondition && error.message.contains("runs on real time"), "\(error)")
        }
    }

    @Test("a replica follows the move another replica records in the shared database")
    func replicasFollow() async throws {
        let one = try await IntakeHarness.start(clock: .simulated(startingAt: Self.start))
        let clock = ServiceClock.simulated(startingAt: Self.start)
        let two = try await IntakeHarness.start(clock: clock, path: one.databasePath)
        let follower = try #require(two.service.clockKeeper.follower)
        let following = Task { try await follower.run() }
        let target = Self.start + 90 * Self.day
        _ = try await Self.advance(one, to: target)
        var followed = false
        for _ in 0..<100 where !followed {
            followed = clock.now() >= target
            if !followed { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(followed, "the other replica read the move within 10 s")
        following.cancel()
        _ = await following.result
        await two.stop()
        await one.stop()
    }
}
