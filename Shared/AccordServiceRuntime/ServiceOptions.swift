import AccordCalendar
public import AccordRPC
public import AccordServiceKit
public import ArgumentParser
import Foundation
public import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The flags every Accord server takes. Each may also be set by an `ACCORD_*` environment
/// variable (named in its help); a flag wins over the variable, the variable over the default.
public struct ServiceOptions: ParsableArguments, Sendable {
    @Option(help: "Address to listen on (ACCORD_HOST). Default 127.0.0.1.")
    public var host: String?

    @Option(help: "RPC port (ACCORD_PORT); 0 picks a free port.")
    public var port: Int?

    @Option(help: "Prometheus metrics port, served at /metrics (ACCORD_ADMIN_PORT); 0 picks one, off turns it off.")
    public var adminPort: String?

    @Option(help: "Directory for this service's data (ACCORD_DATA_DIR). Default ./data.")
    public var dataDir: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (ACCORD_LOG_LEVEL). Default info.")
    public var logLevel: String?

    @Option(help: "Largest message in bytes, after decompression (ACCORD_MAX_MESSAGE_BYTES). Default 4194304.")
    public var maxMessageBytes: Int?

    @Option(
        help: "Compress messages of at least this many bytes; -1 disables (ACCORD_COMPRESSION_THRESHOLD). Default 1024."
    )
    public var compressionThreshold: Int?

    @Option(help: "Seconds in-flight calls get on shutdown (ACCORD_DRAIN_SECONDS). Default 30.")
    public var drainSeconds: Int?

    @Option(
        help: """
            File holding the secret the gateway presents to assert principals (or ACCORD_INTERNAL_CREDENTIAL). \
            Without one, every caller is trusted: for development only. To rotate it, a second line holds \
            another secret that is accepted too (ACCORD_INTERNAL_CREDENTIAL_NEXT); the first line is presented.
            """
    )
    public var internalCredentialFile: String?

    @Option(
        help: ArgumentHelp(
            """
            Run on a simulated clock that starts at this time and only moves forward, for staging and training \
            (ACCORD_SIMULATED_CLOCK). Needs --non-production. The clock is kept in the service's database: a \
            restart goes on from where it was, or moves to a later start.
            """,
            valueName: "now|YYYY-MM-DD|YYYY-MM-DDTHH:MM:SSZ"
        )
    )
    public var simulatedClock: String?

    @Flag(
        help: "Mark this deployment as not production (ACCORD_NON_PRODUCTION=1): it may then run on a simulated clock."
    )
    public var nonProduction = false

    @Option(
        help: """
            This process's TLS certificate chain, PEM (ACCORD_TLS_CERTIFICATE): its port then serves TLS 1.3 only, \
            and it presents the certificate on its calls to other services. Needs --tls-key and --tls-ca. \
            Without it the port is in clear. Replaced files are taken within 5 seconds.
            """
    )
    public var tlsCertificate: String?

    @Option(help: "The private key of --tls-certificate, PEM (ACCORD_TLS_KEY).")
    public var tlsKey: String?

    @Option(
        help: """
            The CA certificates, PEM, that peers' certificates must be from (ACCORD_TLS_CA): the services it calls, \
            and on a service's port every caller, which must present one (mutual TLS).
            """
    )
    public var tlsCA: String?

    public init() {}

    /// The options after applying `ACCORD_*` variables and defaults.
    public struct Resolved: Sendable {
        public var host: String
        public var port: Int
        public var adminPort: Int?
        public var dataDirectory: String
        public var logLevel: Logger.Level
        public var maxMessageBytes: Int
        public var compressionThreshold: Int?
        public var drainSeconds: Int
        /// The secrets this process presents (the first) and accepts (all: two during a
        /// rotation); nil trusts every caller. Taken from `internalCredentialFile` again while
        /// the process runs.
        public var internalCredential: InternalCredentials?
        /// The file they came from, when they came from one.
        public var internalCredentialFile: String?
        /// The secrets accepted now: the presented one and, during a rotation, another.
        public var acceptedCredentials: [String] { self.internalCredential?.accepted ?? [] }
        /// Real time, or the simulated clock `--simulated-clock` asked for.
        public var clock: ServiceClock
        public var nonProduction: Bool
        /// TLS on the port and the calls out; nil in clear.
        public var tls: ServiceTLS?
    }

    /// Applies the environment and defaults; `defaultPort` and `defaultAdminPort` are the service's.
    ///
    /// `clientCertificates` says whether the port asks callers for certificates when TLS is on:
    /// the services do (mutual TLS); the gateway, whose callers hold bearer tokens, does not.
    public func resolve(
        defaultPort: Int,
        defaultAdminPort: Int,
        clientCertificates: Bool = true,
        environment: [String: String] = Self.processEnvironment()
    ) throws -> Resolved {
        func value<T>(_ flag: T?, _ name: String, _ parse: (String) -> T?) throws -> T? {
            if let flag { return flag }
            guard let text = environment[name] else { return nil }
            guard let parsed = parse(text) else {
                throw ValidationError("\(name)=\(text) is not valid")
            }
            return parsed
        }
        let port = try value(self.port, "ACCORD_PORT", Int.init) ?? defaultPort
        let adminPort =
            try value(self.adminPort.map { Self.parseAdminPort($0) } ?? nil, "ACCORD_ADMIN_PORT", Self.parseAdminPort)
            ?? defaultAdminPort
        let levelText = try value(self.logLevel, "ACCORD_LOG_LEVEL", { $0 }) ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ValidationError(
                "log level \(levelText) is not one of trace, debug, info, notice, warning, error, critical"
            )
        }
        let maxMessage = try value(self.maxMessageBytes, "ACCORD_MAX_MESSAGE_BYTES", Int.init) ?? (4 << 20)
        let threshold = try value(self.compressionThreshold, "ACCORD_COMPRESSION_THRESHOLD", Int.init) ?? 1024
        let drain = try value(self.drainSeconds, "ACCORD_DRAIN_SECONDS", Int.init) ?? 30
        guard (0...65535).contains(port) else { throw ValidationError("port \(port) is not between 0 and 65535") }
        if let flag = self.adminPort, Self.parseAdminPort(flag) == nil {
            throw ValidationError("admin port \(flag) is not a port number or off")
        }
        guard (-1...65535).contains(adminPort) else {
            throw ValidationError("admin port \(adminPort) is not between 0 and 65535, or off")
        }
        guard (1024...(64 << 20)).contains(maxMessage) else {
            throw ValidationError("max message bytes \(maxMessage) is not between 1024 and 67108864")
        }
        guard drain >= 0 else { throw ValidationError("drain seconds must not be negative") }
        return try Resolved(
            host: try value(self.host, "ACCORD_HOST", { $0 }) ?? "127.0.0.1",
            port: port,
            adminPort: adminPort < 0 ? nil : adminPort,
            dataDirectory: try value(self.dataDir, "ACCORD_DATA_DIR", { $0 }) ?? "./data",
            logLevel: level,
            maxMessageBytes: maxMessage,
            compressionThreshold: threshold < 0 ? nil : threshold,
            drainSeconds: drain,
            internalCredential: nil,
            clock: .system,
            nonProduction: false,
            tls: try ServiceTLS(
                certificate: try value(self.tlsCertificate, "ACCORD_TLS_CERTIFICATE", { $0 }),
                key: try value(self.tlsKey, "ACCORD_TLS_KEY", { $0 }),
                ca: try value(self.tlsCA, "ACCORD_TLS_CA", { $0 }),
                clientCertificates: clientCertificates
            )
        )
        .withCredentials(try self.internalCredentials(environment), file: self.internalCredentialFile)
        .withClock(simulated: self.simulatedClock, nonProduction: self.nonProduction, environment)
    }

    /// The secrets, the presented one first: the file's non-empty lines (at most two), or the
    /// variables.
    private func internalCredentials(_ environment: [String: String]) throws -> [String] {
        if let path = self.internalCredentialFile {
            return try Self.credentials(inFile: path)
        }
        return ["ACCORD_INTERNAL_CREDENTIAL", "ACCORD_INTERNAL_CREDENTIAL_NEXT"].compactMap {
            environment[$0].flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    /// The secrets of an internal credential file: its non-empty lines, one or two, each of at
    /// least 16 characters.
    public static func credentials(inFile path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read the internal credential file \(path)")
        }
        do {
            let secrets = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !secrets.isEmpty, secrets.count <= 2 else {
                throw ValidationError(
                    "the internal credential file \(path) holds \(secrets.count) secrets: one, or two while rotating"
                )
            }
            for (line, secret) in secrets.enumerated() where secret.count < 16 {
                throw ValidationError(
                    "the internal credential on line \(line + 1) of \(path) is shorter than 16 characters"
                )
            }
            return secrets
        }
    }

    /// The time `--simulated-clock` names: nil for "now", else its Unix milliseconds.
    static func simulatedStart(_ text: String) throws -> Int64? {
        if text.lowercased() == "now" { return nil }
        if let moment = Moment.milliseconds(text) { return moment }
        if let day = Day(text) { return day.startMilliseconds }
        throw ValidationError(
            "--simulated-clock \(text) is not now, a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM:SSZ"
        )
    }

    /// A port number, or -1 for "off" (and for "-1", as earlier versions wrote it).
    static func parseAdminPort(_ text: String) -> Int? {
        text.lowercased() == "off" ? -1 : Int(text)
    }

    /// The endpoints of another service: `flag` if given, else the environment variable, else
    /// `fallback`; a comma-separated list of HOST:PORT.
    public static func endpoints(
        flag: String?,
        option: String,
        environment: String,
        fallback: String
    ) throws
        -> [Endpoint]
    {
        let text = flag ?? Self.processEnvironment()[environment] ?? fallback
        return try text.split(separator: ",").map { part in
            guard let endpoint = Endpoint(String(part)) else {
                throw ValidationError("--\(option): \(part) is not HOST:PORT")
            }
            return endpoint
        }
    }

    public static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}

extension ServiceOptions.Resolved {
    /// These options with the clock the flags and variables ask for: a simulated clock only on a
    /// deployment marked non-production.
    func withClock(
        simulated flag: String?,
        nonProduction flagged: Bool,
        _ environment: [String: String]
    ) throws -> Self {
        var resolved = self
        let marked = environment["ACCORD_NON_PRODUCTION"].map { ["1", "true", "yes"].contains($0.lowercased()) }
        resolved.nonProduction = flagged || (marked ?? false)
        guard let text = flag ?? environment["ACCORD_SIMULATED_CLOCK"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            return resolved
        }
        guard resolved.nonProduction else {
            throw ValidationError(
                "--simulated-clock \(text) needs --non-production (or ACCORD_NON_PRODUCTION=1): a simulated clock is for staging and training, never for production"
            )
        }
        resolved.clock = .simulated(startingAt: try ServiceOptions.simulatedStart(text))
        return resolved
    }
}

extension ServiceOptions.Resolved {
    /// These options presenting the first of `secrets` and accepting each; `file` is where they
    /// were read.
    func withCredentials(_ secrets: [String], file: String?) -> Self {
        var resolved = self
        resolved.internalCredential = secrets.isEmpty ? nil : InternalCredentials(secrets)
        resolved.internalCredentialFile = secrets.isEmpty ? nil : file
        return resolved
    }
}
