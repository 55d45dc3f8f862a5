import AccordServiceKit
import Foundation
import Logging
import ServiceLifecycle

/// Reads the internal credential file again every second, so that the credential can be rotated
/// without a restart: add the new secret as the second line everywhere (every process then
/// accepts both), move it to the first line (each presents it), then remove the old one. A file
/// that cannot be read or holds no valid secrets is logged and the secrets before it are kept.
struct CredentialReloader: Service {
    let path: String
    let credentials: InternalCredentials
    let interval: Duration
    let logger: Logger

    init(path: String, credentials: InternalCredentials, interval: Duration = .seconds(1), logger: Logger) {
        self.path = path
        self.credentials = credentials
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        await reloadPeriodically(
            every: self.interval,
            logger: self.logger,
            failure: "Internal credential file not taken; the secrets before it stay",
            metadata: ["file": "\(self.path)"]
        ) {
            let secrets = try ServiceOptions.credentials(inFile: self.path)
            if self.credentials.replace(with: secrets) {
                self.logger.notice(
                    "Internal credentials reloaded",
                    metadata: ["file": "\(self.path)", "secrets": "\(secrets.count)"]
                )
            }
        }
    }
}
