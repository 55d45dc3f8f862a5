import Logging
import ServiceLifecycle

/// Runs `reload` every `interval` until graceful shutdown; an error is logged once with
/// `failure`, `metadata` and its text,, not again until it changes or a reload succeeds.
func reloadPeriodically(
    every interval: Duration,
    logger: Logger,
    failure: Logger.Message,
    metadata: Logger.Metadata = [:],
    _ reload: @escaping @Sendable () throws -> Void
) async {
    await cancelWhenGracefulShutdown {
        var lastProblem: String?
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            do {
                try reload()
                lastProblem = nil
            } catch {
                let problem = "\(error)"
                if problem != lastProblem {
                    logger.error(failure, metadata: metadata.merging(["error": "\(problem)"]) { $1 })
                }
                lastProblem = problem
            }
        }
    }
}
