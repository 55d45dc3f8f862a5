public import AccordRPC
import ArgumentParser

/// A server process's TLS: the listener's context and the one its calls to other services use,
/// both from the same files (ServiceOptions' `--tls-*` flags).
public struct ServiceTLS: Sendable {
    public let files: TLSFiles
    /// The listener's: with the CA when the port requires client certificates.
    public let server: TLSContextSource
    /// Outgoing calls': presents this process's certificate, trusts the CA.
    public let client: TLSContextSource

    /// Nil when no flag or variable names a certificate; refuses a partial set.
    init?(certificate: String?, key: String?, ca: String?, clientCertificates: Bool) throws {
        guard certificate != nil || key != nil || ca != nil else { return nil }
        guard let certificate else {
            throw ValidationError("--tls-key and --tls-ca need --tls-certificate (or ACCORD_TLS_CERTIFICATE)")
        }
        guard let key else { throw ValidationError("--tls-certificate needs --tls-key (or ACCORD_TLS_KEY)") }
        guard let ca else {
            throw ValidationError(
                "--tls-certificate needs --tls-ca (or ACCORD_TLS_CA): the CA the other services' certificates are from"
            )
        }
        self.files = TLSFiles(certificate: certificate, privateKey: key, trustedCA: ca)
        do {
            var listener = self.files
            if !clientCertificates { listener.trustedCA = nil }
            self.server = try TLSContextSource(files: listener, role: .server)
            self.client = try TLSContextSource(files: self.files, role: .client)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// How to call `service` (intake, qualification, supervision): its certificate must be for
    /// that name, whatever address it is reached at.
    public func calling(_ service: String) -> ClientTLS {
        ClientTLS(source: self.client, serverName: service)
    }

    /// The certificate names whose holders may assert a principal to a service: the gateway, and
    /// the services for the calls of their outboxes. Any other certificate from the CA (the
    /// tools' `client`) may reach health and echo only.
    public static let components: Set<String> = ["gateway", "intake", "qualification", "supervision"]
}

extension ServiceOptions.Resolved {
    /// A client configuration for calls to `service`, over TLS when this process runs it.
    public func clientConfiguration(calling service: String) -> ClientConfiguration {
        var configuration = ClientConfiguration()
        configuration.tls = self.tls?.calling(service)
        return configuration
    }
}
