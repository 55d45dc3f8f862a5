import AccordRPC
import Logging
import ServiceLifecycle

/// Reads the TLS files again every few seconds, so that a certificate, its key or the CA can be
/// replaced without a restart: connections opened afterwards use the new files, those already
/// open keep theirs until they close. Files that cannot be used (a key that is not the
/// certificate's, half of a replacement) are logged once and the ones before them stay.
struct TLSReloader: Service {
    let sources: [TLSContextSource]
    let interval: Duration
    let logger: Logger

    init(sources: [TLSContextSource], interval: Duration = .seconds(5), logger: Logger) {
        self.sources = sources
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastProblem: String?
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                do {
                    var changed = false
                    for source in self.sources where try source.reload() { changed = true }
                    lastProblem = nil
                    if changed, let certificate = self.sources.first?.certificate {
                        self.logger.notice(
                            "TLS certificates reloaded",
                            metadata: [
                                "file": "\(self.sources.first?.files.certificate ?? "")",
                                "certificate": "\(certificate.commonName ?? "?")",
                                "valid_until": "\(TLSContextSource.iso(Int(certificate.notValidAfter)))",
                            ]
                        )
                    }
                } catch {
                    let problem = "\(error)"
                    if problem != lastProblem {
                        self.logger.error(
                            "TLS files not taken; the certificates before them stay",
                            metadata: ["error": "\(problem)"]
                        )
                    }
                    lastProblem = problem
                }
            }
        }
    }
}
