public import AccordRPC
public import AccordWire
public import Logging
import Synchronization

/// Who is calling, as the gateway asserts it to a service (ARCHITECTURE.md, "Trust").
public struct Principal: Sendable, Hashable, CustomStringConvertible {
    public enum Role: String, Sendable, Hashable, CaseIterable {
        /// A law-enforcement agency's coordinator; scoped to one agency id.
        case agency
        /// The ICE or CBP program office.
        case programOffice = "program-office"
        /// A federal supervisor; scoped to a supervisor id.
        case supervisor
        /// Reads everything, changes nothing.
        case auditor
        /// Runs the services.
        case `operator`
    }

    public var role: Role
    /// The agency id (agency role) or supervisor id (supervisor role).
    public var scope: String?
    /// For the change log: a person's or a token's name.
    public var name: String?

    public init(role: Role, scope: String? = nil, name: String? = nil) {
        self.role = role
        self.scope = scope
        self.name = name
    }

    /// `role` or `role:scope`, as carried in the `accord-principal` metadata.
    public init?(header: String) {
        let parts = header.split(separator: ":", maxSplits: 1).map(String.init)
        guard let first = parts.first, let role = Role(rawValue: first) else { return nil }
        let scope = parts.count > 1 ? parts[1] : nil
        if role == .agency || role == .supervisor {
            guard let scope, !scope.isEmpty else { return nil }
        }
        self.init(role: role, scope: scope)
    }

    public var header: String { self.scope.map { "\(self.role.rawValue):\($0)" } ?? self.role.rawValue }

    /// What the change log records as "who".
    public var description: String { self.name.map { "\($0) (\(self.header))" } ?? self.header }

    public var canWrite: Bool { self.role != .auditor }

    /// Who a call without a principal is on a server that trusts every caller (development and
    /// in-process tests): not held to the access matrix, unscoped as the program office.
    public static let unattributed = Principal(role: .programOffice, name: "unattributed")
}

/// Metadata keys of the trust between the gateway and the services.
public enum TrustMetadata {
    /// The principal the gateway vouches for: `role` or `role:scope`.
    public static let principal = "accord-principal"
    /// The principal's name, for the change log.
    public static let principalName = "accord-principal-name"
    /// The shared secret that makes a caller the gateway (or another service).
    public static let internalCredential = "accord-internal-credential"
    /// Where the interceptor leaves the principal for handlers.
    static let attribute = "accord.principal"
    static let nameAttribute = "accord.principal.name"
}

extension TrustMetadata {
    /// The metadata of a call made on `principal`'s behalf: its header and name, and the
    /// internal credential that makes the callee believe them, when there is one.
    public static func asserting(_ principal: Principal, internalCredential: String?) -> Metadata {
        var metadata: Metadata = [Self.principal: principal.header]
        if let name = principal.name { metadata.add(Self.principalName, name) }
        if let credential = internalCredential { metadata.add(Self.internalCredential, credential) }
        return metadata
    }

    /// The same with the credential `credentials` present now.
    public static func asserting(
        _ principal: Principal,
        internalCredential credentials: InternalCredentials?
    ) -> Metadata {
        Self.asserting(principal, internalCredential: credentials?.presented)
    }
}

/// The internal credentials of a process: the secret it presents (the first) and those it
/// accepts (all: two while one is rotated). They can change while it runs (a reloaded file);
/// calls read them when they are made.
public final class InternalCredentials: Sendable {
    private let secrets: Mutex<[String]>

    public init(_ secrets: [String]) {
        self.secrets = Mutex(secrets)
    }

    public convenience init(_ secret: String) {
        self.init([secret])
    }

    /// The secret this process presents.
    public var presented: String? { self.secrets.withLock { $0.first } }

    /// Every secret accepted, the presented one first.
    public var accepted: [String] { self.secrets.withLock { $0 } }

    /// Takes `secrets` instead; whether they differ from the ones before.
    @discardableResult
    public func replace(with secrets: [String]) -> Bool {
        self.secrets.withLock { current in
            guard current != secrets else { return false }
            current = secrets
            return true
        }
    }
}

extension ServerContext {
    /// A context for work a service does on its own behalf (seeding, scheduled jobs), acting as
    /// `principal`.
    public static func local(method: String, principal: Principal, logger: Logger) -> ServerContext {
        var attributes = [TrustMetadata.attribute: principal.header]
        attributes[TrustMetadata.nameAttribute] = principal.name
        return ServerContext(
            method: method,
            metadata: Metadata(),
            deadline: nil,
            peer: "local",
            logger: logger,
            attributes: attributes
        )
    }

    /// Establishes the caller for the handlers that follow (an authenticating interceptor does).
    public mutating func setPrincipal(_ principal: Principal) {
        self.attributes[TrustMetadata.attribute] = principal.header
        self.attributes[TrustMetadata.nameAttribute] = principal.name
    }

    /// The caller, as established by the ``PrincipalInterceptor``; nil when it did not run.
    public var principal: Principal? {
        guard let header = self.attributes[TrustMetadata.attribute], var principal = Principal(header: header) else {
            return nil
        }
        principal.name = self.attributes[TrustMetadata.nameAttribute]
        return principal
    }
}

/// Accepts the principal in `accord-principal` only from callers that present the internal
/// credential, and refuses other calls with UNAUTHENTICATED. Health and echo stay open.
///
/// The principal's role must be allowed the method by the ``AccessPolicy`` matrix; otherwise the
/// call is refused with PERMISSION_DENIED before any handler runs.
///
/// Without a configured credential (development and tests) every caller is trusted: its asserted
/// principal is taken as it is (and held to the matrix), and a call without one is unattributed:
/// it may call any method, acting as the program office where a handler checks a scope.
public struct PrincipalInterceptor: ServerInterceptor {
    /// The credentials accepted (two during a rotation), read at each call; none trusts every caller.
    public let credentials: InternalCredentials
    /// Paths that need no principal.
    public let openPrefixes = ["/accord.v1.Health/", "/accord.v1.Echo/"]
    /// Over mutual TLS: the certificate names whose holders may assert a principal (Accord's
    /// components); nil in clear, where only the credential is checked.
    public let certifiedCallers: Set<String>?

    public init(internalCredential: String?) {
        self.credentials = InternalCredentials(internalCredential.map { [$0] } ?? [])
        self.certifiedCallers = nil
    }

    /// Accepting any of `credentials` (the current one and, while it is rotated, the next).
    public init(accepting credentials: [String]) {
        self.credentials = InternalCredentials(credentials)
        self.certifiedCallers = nil
    }

    /// Accepting what `credentials` hold at each call (they may be reloaded) and, over mutual
    /// TLS, an asserted principal only from a peer whose certificate names one of
    /// `certifiedCallers`.
    public init(credentials: InternalCredentials, certifiedCallers: Set<String>? = nil) {
        self.credentials = credentials
        self.certifiedCallers = certifiedCallers
    }

    public func intercept<Result: Sendable>(
        context: ServerContext,
        next: @Sendable (ServerContext) async throws -> Result
    ) async throws -> Result {
        if self.openPrefixes.contains(where: { context.method.hasPrefix($0) }) {
            return try await next(context)
        }
        var context = context
        let asserted = context.metadata[TrustMetadata.principal]
        if let callers = self.certifiedCallers {
            guard let name = context.peerCertificateName, callers.contains(name) else {
                throw RPCError(
                    .unauthenticated,
                    "this service takes calls from Accord's components only: the caller's certificate (\(context.peerCertificateName.map { "CN=\($0)" } ?? "none")) is not one of \(callers.sorted().joined(separator: ", "))"
                )
            }
        }
        let accepted = self.credentials.accepted
        if !accepted.isEmpty {
            guard let presented = context.metadata[TrustMetadata.internalCredential],
                accepted.contains(where: { Self.constantTimeEqual(presented, $0) })
            else {
                throw RPCError(
                    .unauthenticated,
                    "this service takes calls from the gateway only (no internal credential)"
                )
            }
            guard asserted != nil else {
                throw RPCError(.unauthenticated, "the call carries no \(TrustMetadata.principal)")
            }
        }
        guard let asserted else {
            // Development: a caller that names no principal is unattributed and may call
            // anything, acting as the program office in the handlers' scope checks.
            context.attributes[TrustMetadata.attribute] = Principal.unattributed.header
            context.attributes[TrustMetadata.nameAttribute] =
                context.metadata[TrustMetadata.principalName] ?? Principal.unattributed.name
            return try await next(context)
        }
        guard let principal = Principal(header: asserted) else {
            throw RPCError(.unauthenticated, "\(TrustMetadata.principal) \"\(asserted)\" is not role or role:scope")
        }
        try AccessPolicy.require(principal, calling: context.method)
        context.attributes[TrustMetadata.attribute] = asserted
        context.attributes[TrustMetadata.nameAttribute] = context.metadata[TrustMetadata.principalName]
        return try await next(context)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
