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
        await reloadPeriodically(
            every: self.interval,
            logger: self.logger,
            failure: "TLS files not taken; the certificates before them stay"
        ) {
            var changed = false
            for source in self.sources where try source.reload() { changed = true }
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
        }
    }
}
