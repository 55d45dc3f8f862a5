import AccordMessages
public import AccordRPC
public import AccordServiceKit
import AccordServiceRuntime
import AccordWire
import Foundation
public import Logging
public import NIOCore
import Synchronization

/// The gateway: routes every method of intake, qualification and supervision to the owning
/// service, forwarding message bytes as they are; asserts the authenticated caller to the
/// services with the internal credential; answers tokens, composite calls and backend state.
public final class GatewayService: Sendable {
    public struct Backends: Sendable {
        public var intake: BackendPool
        public var qualification: BackendPool
        public var supervision: BackendPool

        public init(intake: BackendPool, qualification: BackendPool, supervision: BackendPool) {
            self.intake = intake
            self.qualification = qualification
            self.supervision = supervision
        }

        var all: [BackendPool] { [self.intake, self.qualification, self.supervision] }
    }

    let backends: Backends
    let tokens: TokenStore
    let internalCredential: InternalCredentials?
    /// The deadline of a forwarded call whose caller set none.
    let defaultTimeout: TimeAmount
    /// Each branch of a composite call gets at most this, within the caller's deadline.
    let branchTimeout: TimeAmount
    let logger: Logger

    public init(
        backends: Backends,
        tokens: TokenStore,
        internalCredential: InternalCredentials?,
        defaultTimeout: TimeAmount = .seconds(30),
        branchTimeout: TimeAmount = .seconds(2),
        logger: Logger
    ) {
        self.backends = backends
        self.tokens = tokens
        self.internalCredential = internalCredential
        self.defaultTimeout = defaultTimeout
        self.branchTimeout = branchTimeout
        self.logger = logger
    }

    public func register(into router: inout RPCRouter) {
        let routes: [(BackendPool, [AnyRPCMethod])] = [
            (self.backends.intake, IntakeMethods.allMethods),
            (self.backends.qualification, QualificationMethods.allMethods),
            (self.backends.supervision, SupervisionMethods.allMethods),
        ]
        for (pool, methods) in routes {
            for method in methods {
                switch method.kind {
                case .unary:
                    router.registerForwarded(
                        path: method.path,
                        RouteForwarder(gateway: self, pool: pool, idempotent: method.isIdempotent)
                    )
                case .serverStreaming:
                    router.registerRaw(path: method.path) { bytes, context, stream in
                        try await pool.serverStreaming(
                            path: method.path,
                            request: bytes,
                            options: try self.forwardOptions(context),
                            send: { try await stream.send($0) }
                        )
                    }
                }
            }
        }
        self.registerEcho(into: &router)
        router.register(GatewayMethods.createToken) { try await self.createToken($0, $1) }
        router.register(GatewayMethods.listTokens) { try await self.listTokens($0, $1) }
        router.register(GatewayMethods.revokeToken) { try await self.revokeToken($0, $1) }
        router.register(GatewayMethods.getDossier) { try await self.dossier($0, $1) }
        router.register(GatewayMethods.getProgramOverview) { try await self.overview($0, $1) }
        router.register(GatewayMethods.getBackends) { _, context in
            _ = try self.caller(context)
            return GetBackendsResponse(backends: self.backends.all.flatMap(\.backends))
        }
        router.register(GatewayMethods.getClocks) { try await self.clocks($0, $1) }
        router.register(GatewayMethods.advanceClocks) { try await self.advanceClocks($0, $1) }
    }

    /// `accord.v1.Echo` on the gateway: forwarded as bytes to the backend the call names in
    /// `echo-backend` metadata (the cost and health of that path), else answered here.
    func registerEcho(into router: inout RPCRouter) {
        router.registerForwarded(
            path: EchoMethods.unary.path,
            RouteForwarder(gateway: self, pool: nil, idempotent: true)
        )
        router.registerRaw(path: EchoMethods.stream.path) { bytes, context, stream in
            if let pool = try self.echoBackend(context.metadata) {
                try await pool.serverStreaming(
                    path: EchoMethods.stream.path,
                    request: bytes,
                    options: try self.forwardOptions(context),
                    send: { try await stream.send($0) }
                )
                return
            }
            try await Diagnostics.echoStream(try Self.decodeEcho(bytes)) {
                try await stream.send(ByteBuffer(bytes: try $0.serializedBytes()))
            }
        }
    }

    func echoBackend(_ metadata: Metadata) throws -> BackendPool? {
        guard let name = metadata[MetadataKey.echoBackend] else { return nil }
        switch name {
        case "intake": return self.backends.intake
        case "qualification": return self.backends.qualification
        case "supervision": return self.backends.supervision
        default:
            throw RPCError.invalidArgument(
                field: MetadataKey.echoBackend,
                "names no backend: \(name) (intake, qualification or supervision)"
            )
        }
    }

    static func decodeEcho(_ bytes: ByteBuffer) throws -> EchoRequest {
        do {
            return try EchoRequest(serializedBytes: Array(bytes.readableBytesView))
        } catch {
            throw RPCError(.invalidArgument, "the echo request does not decode: \(error)")
        }
    }

    func caller(_ context: ServerContext) throws -> Principal {
        guard let principal = context.principal else {
            throw RPCError(.unauthenticated, "the call carries no principal")
        }
        return principal
    }

    /// The metadata a forwarded call carries: the caller as principal (with the internal
    /// credential), its trace id (one is made when the caller sent none), its idempotency key
    /// if it sent one, and what is left of its deadline.
    func forwardOptions(
        _ context: ServerContext,
        principal override: Principal? = nil,
        cap: TimeAmount? = nil
    ) throws
        -> CallOptions
    {
        let principal = try override ?? self.caller(context)
        return try self.forwardOptions(
            principal: principal,
            header: principal.header,
            callerMetadata: context.metadata,
            trace: context.attributes[Self.traceAttribute],
            deadline: context.deadline,
            cap: cap
        )
    }

    /// The same from the parts of a call: its principal (and the principal's header, made once
    /// per token), the caller's metadata, a trace id made for it, its deadline.
    func forwardOptions(
        principal: Principal,
        header: String,
        callerMetadata: Metadata,
        trace: String?,
        deadline: NIODeadline?,
        cap: TimeAmount? = nil
    ) throws -> CallOptions {
        var metadata = Metadata()
        metadata.reserveCapacity(5)
        metadata.add(TrustMetadata.principal, header)
        if let name = principal.name { metadata.add(TrustMetadata.principalName, name) }
        if let credential = self.internalCredential?.presented {
            metadata.add(TrustMetadata.internalCredential, credential)
        }
        metadata.add(MetadataKey.traceID, callerMetadata[MetadataKey.traceID] ?? trace ?? Self.traceID())
        if let key = callerMetadata[MetadataKey.idempotencyKey] { metadata.add(MetadataKey.idempotencyKey, key) }
        var timeout = deadline.map { $0 - .now() } ?? self.defaultTimeout
        if let cap { timeout = min(timeout, cap) }
        guard timeout > .zero else { throw RPCError(.deadlineExceeded, "the deadline passed in the gateway") }
        // Capped (a composite call's budget): every call made with these options, one after
        // another included, ends by the same moment.
        return CallOptions(timeout: timeout, metadata: metadata, deadline: cap.map { _ in .now() + timeout })
    }

    /// The context attribute holding the trace id the gateway made for a call that came without one.
    static let traceAttribute = "trace.id"

    /// The context of a call that fans out: with a trace id (the caller's, else a new one) that
    /// every call made for it carries.
    static func traced(_ context: ServerContext) -> ServerContext {
        guard context.metadata[MetadataKey.traceID] == nil, context.attributes[Self.traceAttribute] == nil else {
            return context
        }
        var traced = context
        traced.attributes[Self.traceAttribute] = Self.traceID()
        return traced
    }

    /// This process's random prefix and a counter: unique without a system call per call, and
    /// at most 15 bytes (a string Swift keeps inline, with no allocation): 6 hex digits, a dash,
    /// up to 8 hex digits of a counter that wraps after 4 billion calls.
    private static let tracePrefix = String(UInt32.random(in: 0...0xFF_FFFF), radix: 16)
    private static let traceCounter = Atomic<UInt32>(0)

    static func traceID() -> String {
        let number = Self.traceCounter.wrappingAdd(1, ordering: .relaxed).newValue
        let prefix = Self.tracePrefix.utf8
        let digits = max(1, (32 - number.leadingZeroBitCount + 3) / 4)
        return String(unsafeUninitializedCapacity: prefix.count + 1 + digits) { bytes in
            var index = 0
            for byte in prefix {
                bytes[index] = byte
                index += 1
            }
            bytes[index] = UInt8(ascii: "-")
            index += 1
            for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
                let nibble = UInt8(truncatingIfNeeded: number >> UInt32(shift)) & 0xF
                bytes[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                index += 1
            }
            return index
        }
    }

    public func close() async {
        for pool in self.backends.all { await pool.close() }
    }

    // MARK: Tokens (operators only: AccessPolicy)

    func createToken(_ request: CreateTokenRequest, _ context: ServerContext) async throws -> CreateTokenResponse {
        let principal = try self.caller(context)
        guard let role = request.role else { throw RPCError.invalidArgument(field: "role", "is required") }
        try await self.requireScopeExists(role: role, scope: request.scope, context)
        let created = try await self.tokens.create(
            role: role,
            scope: request.scope,
            name: request.name ?? "",
            expiresInSeconds: request.expiresInSeconds,
            by: principal.description
        )
        context.logger.notice(
            "Token created",
            metadata: ["token": "\(created.info?.id ?? "")", "role": "\(role)", "by": "\(principal)"]
        )
        return created
    }

    /// An agency token's scope is an agency intake has; a supervisor token's, a supervisor
    /// supervision has (NOT_FOUND otherwise). A malformed scope is left to the token store to refuse.
    func requireScopeExists(role: String, scope: String?, _ context: ServerContext) async throws {
        guard let scope, !scope.isEmpty else { return }
        // By id only: intake would find an agency by its ORI too.
        if role == "agency", !scope.hasPrefix("ag_") {
            throw RPCError.invalidArgument(field: "scope", "\(scope) is not an agency id (ag_…)")
        }
        // Looked up as a reader: the operator who mints the token may not read program records.
        let options = try self.forwardOptions(
            context,
            principal: Principal(role: .auditor, name: "gateway: token scope")
        )
        do {
            switch role {
            case "agency":
                _ = try await self.backends.intake.call(
                    IntakeMethods.getAgency,
                    GetAgencyRequest(agency: scope),
                    options: options
                )
            case "supervisor":
                _ = try await self.backends.supervision.call(
                    SupervisionMethods.getSupervisor,
                    GetSupervisorRequest(supervisorId: scope),
                    options: options
                )
            default:
                return
            }
        } catch let error as RPCError where error.code == .notFound || error.code == .invalidArgument {
            throw RPCError(
                .notFound,
                "scope: no \(role) \(scope) (\(error.message))",
                details: ErrorDetails(reason: "SCOPE_NOT_FOUND", metadata: [KeyValue(key: "scope", value: scope)])
            )
        }
    }

    func listTokens(_ request: ListTokensRequest, _ context: ServerContext) async throws -> ListTokensResponse {
        _ = try self.caller(context)
        return ListTokensResponse(tokens: self.tokens.list(includeRevoked: request.includeRevoked ?? false))
    }

    func revokeToken(_ request: RevokeTokenRequest, _ context: ServerContext) async throws -> TokenInfo {
        let principal = try self.caller(context)
        guard let id = request.tokenId else { throw RPCError.invalidArgument(field: "token_id", "is required") }
        let info = try await self.tokens.revoke(id: id)
        context.logger.notice("Token revoked", metadata: ["token": "\(id)", "by": "\(principal)"])
        return info
    }
}
