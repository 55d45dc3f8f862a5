public import AccordRPC
public import ArgumentParser
import Foundation

/// How a tool (the CLI, accord-load) connects over TLS: the flags, each with an `ACCORD_*`
/// variable; a flag wins over its variable. Without `--tls-ca` or `--tls` it connects in clear.
public struct ClientTLSOptions: ParsableArguments, Sendable {
    @Option(
        help: """
            Connect over TLS, trusting the CA certificates in this PEM file (ACCORD_TLS_CA): \
            make cluster's is data/tls/ca.pem.
            """
    )
    public var tlsCA: String?

    @Flag(help: "Connect over TLS, trusting the system's CA certificates (ACCORD_TLS=1).")
    public var tls = false

    @Option(
        help: "A client certificate, PEM, for a port that requires one: a service's own port (ACCORD_TLS_CERTIFICATE)."
    )
    public var tlsCertificate: String?

    @Option(help: "The private key of --tls-certificate, PEM (ACCORD_TLS_KEY).")
    public var tlsKey: String?

    @Option(
        help: """
            The name the server's certificate must be for (ACCORD_TLS_SERVER_NAME). Default: the host connected \
            to; a service's own port needs its name (intake, qualification, supervision).
            """
    )
    public var tlsServerName: String?

    public init() {}

    /// The TLS to connect with, nil in clear; refuses files that cannot be used, naming them.
    public func resolve() throws -> ClientTLS? {
        try self.resolve(environment: ProcessInfo.processInfo.environment)
    }

    /// The same, with `environment` in place of the process's.
    public func resolve(environment: [String: String]) throws -> ClientTLS? {
        func value(_ flag: String?, _ name: String) -> String? {
            flag ?? environment[name].flatMap { $0.isEmpty ? nil : $0 }
        }
        let ca = value(self.tlsCA, "ACCORD_TLS_CA")
        let on = self.tls || ["1", "true", "yes"].contains(environment["ACCORD_TLS"]?.lowercased() ?? "")
        let certificate = value(self.tlsCertificate, "ACCORD_TLS_CERTIFICATE")
        let key = value(self.tlsKey, "ACCORD_TLS_KEY")
        let serverName = value(self.tlsServerName, "ACCORD_TLS_SERVER_NAME")
        guard ca != nil || on else {
            if certificate != nil || key != nil || serverName != nil {
                throw ValidationError("--tls-certificate, --tls-key and --tls-server-name need --tls-ca (or --tls)")
            }
            return nil
        }
        guard (certificate == nil) == (key == nil) else {
            throw ValidationError("--tls-certificate and --tls-key go together")
        }
        do {
            let source = try TLSContextSource(
                files: TLSFiles(certificate: certificate, privateKey: key, trustedCA: ca),
                role: .client
            )
            return ClientTLS(source: source, serverName: serverName)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
