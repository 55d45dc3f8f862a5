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

    /// The ids of the calls whose deadline has passed, and the earliest deadline of the others.
    static func sweep<Call>(
        _ calls: [UInt32: Call],
        deadline: (Call) -> NIODeadline?
    ) -> (due: [UInt32], next: NIODeadline?) {
        let now = NIODeadline.now()
        var due: [UInt32] = []
        var next: NIODeadline?
        for (id, call) in calls {
            guard let deadline = deadline(call) else { continue }
            if deadline <= now {
                due.append(id)
            } else {
                next = min(next ?? deadline, deadline)
            }
        }
        return (due, next)
    }

    mutating func cancel() {
        self.armed?.task.cancel()
        self.armed = nil
    }
}
