/// A message of the Accord schema (`proto/accord/v1`), a plain Swift value.
///
/// Singular fields are optionals (absent is `nil`), lists are arrays. Encoding and decoding go
/// through protobuf-c; see ``ProtoMessage/serializedBytes()`` and
/// ``ProtoMessage/init(serializedBytes:limits:)``.
public protocol ProtoMessage: Sendable, Hashable {
    /// An empty message: every field absent.
    init()
    /// The full protobuf name, e.g. `accord.v1.EchoRequest`.
    static var protoName: String { get }
    /// The field names in field-number order, as written in the `.proto` file.
    static var fieldNames: [String] { get }

    /// Encodes the message and passes its bytes to `body`; they are valid only inside `body`.
    /// Throws ``MessageEncodingError`` when a string holds a NUL character.
    func withSerializedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R

    /// Decodes untrusted bytes within `limits`; malformed input is an error, never a crash.
    init(serializedBytes bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(MessageDecodingError)
}

extension ProtoMessage {
    /// The message's protobuf encoding.
    public func serializedBytes() throws(MessageEncodingError) -> [UInt8] {
        do {
            return try self.withSerializedBytes { Array($0) }
        } catch let error as MessageEncodingError {
            throw error
        } catch {
            preconditionFailure("unexpected encoding error \(error)")
        }
    }

    /// Decodes untrusted bytes within `limits`.
    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits = .defaults) throws(MessageDecodingError) {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(MessageDecodingError) in try Self(serializedBytes: buffer, limits: limits) }
        }
        self = try result.get()
    }
}

/// An enum of the Accord schema. Values this build does not know decode as `.unrecognized`.
public protocol ProtoEnum: Sendable, Hashable {
    init(rawValue: Int32)
    var rawValue: Int32 { get }
    /// Every value the schema declares, `unspecified` first.
    static var knownCases: [Self] { get }
    /// The schema's name of each known value, e.g. `SERVING_STATUS_SERVING`.
    static var protoNames: [Int32: String] { get }
}

extension ProtoEnum {
    /// False for `unspecified` (0) and for values the schema does not declare.
    public var isKnownAndSpecified: Bool {
        self.rawValue != 0 && Self.protoNames[self.rawValue] != nil
    }

    /// The schema's name of this value, or its number when the schema does not declare it.
    public var protoName: String {
        Self.protoNames[self.rawValue] ?? String(self.rawValue)
    }

    /// The schema's name without the enum's own prefix (that of its `…_UNSPECIFIED` value), for
    /// people: `MODEL_JEM` is "JEM", `FEDERAL_PARTNER_CBP` "CBP".
    public var shortName: String {
        let name = self.protoName
        guard let zero = Self.protoNames[0], zero.hasSuffix("UNSPECIFIED") else { return name }
        let prefix = zero.dropLast("UNSPECIFIED".count)
        return name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : name
    }

    /// The value the schema names `protoName` (e.g. `MODEL_JEM`), or nil when it names none.
    public init?(protoName: String) {
        guard let rawValue = Self.protoNames.first(where: { $0.value == protoName })?.key else { return nil }
        self.init(rawValue: rawValue)
    }
}

/// How a method exchanges messages.
public enum RPCKind: Sendable, Hashable {
    /// One request, one response.
    case unary
    /// One request, any number of responses.
    case serverStreaming
}

/// A method of a service: its path on the wire and its request and response types.
/// A method's path, kind and idempotence without its message types, for routing by path.
public struct AnyRPCMethod: Sendable, Hashable {
    public let path: String
    public let kind: RPCKind
    public let isIdempotent: Bool

    public init<Request, Response>(_ method: RPCMethod<Request, Response>) {
        self.path = method.path
        self.kind = method.kind
        self.isIdempotent = method.isIdempotent
    }

    /// `accord.v1.Intake` of `/accord.v1.Intake/GetAgency`.
    public var serviceName: Substring { self.path.dropFirst().prefix { $0 != "/" } }
}

public struct RPCMethod<Request: ProtoMessage, Response: ProtoMessage>: Sendable, Hashable {
    /// `/accord.v1.Service/Method`.
    public let path: String
    public let kind: RPCKind
    /// Marked `// @idempotent` in the schema: the runtime may retry it after UNAVAILABLE.
    public let isIdempotent: Bool

    public init(path: String, kind: RPCKind, isIdempotent: Bool) {
        self.path = path
        self.kind = kind
        self.isIdempotent = isIdempotent
    }
}

/// Every message type of the schema, for tools outside this module that walk them all (the
/// fuzz target of the message decoders).
public enum SchemaMessages {
    public static let all: [any ProtoMessage.Type] = MessageRegistry.all.map { $0 }
}
