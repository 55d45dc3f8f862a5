public import NIOCore

/// Runs Swift tasks on one SwiftNIO event loop.
///
/// Handlers run with this as their task executor preference, so that a call is read, handled
/// and answered on its connection's thread, without waking another thread on every call.
/// The price: a handler must not block; blocking work goes to a thread pool.
public final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
