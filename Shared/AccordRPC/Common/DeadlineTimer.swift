import NIOCore

/// One timer per connection for the deadlines of all its calls, set for the earliest of them: a
/// call adds no timer of its own (scheduling and cancelling one per call cost a proxy about a
/// tenth of its work). When it fires, the connection ends the calls that are due and sets it for
/// the earliest deadline left.
struct DeadlineTimer {
    private var armed: (at: NIODeadline, task: Scheduled<Void>)?

    /// Whether `deadline` is earlier than the one the timer is set for (or it is not set).
    func needs(_ deadline: NIODeadline) -> Bool {
        guard let armed = self.armed else { return true }
        return deadline < armed.at
    }

    /// Sets the timer for `deadline` when that is earlier than the one it is set for.
    mutating func arm(_ deadline: NIODeadline, on loop: any EventLoop, _ fire: @escaping @Sendable () -> Void) {
        guard self.needs(deadline) else { return }
        self.armed?.task.cancel()
        self.armed = (deadline, loop.scheduleTask(deadline: deadline, fire))
    }

    /// The timer fired: it is no longer set.
    mutating func fired() {
        self.armed = nil
    }

    mutating func cancel() {
        self.armed?.task.cancel()
        self.armed = nil
    }
}
