/// Conventional metadata keys.
public enum MetadataKey {
    /// `Bearer <token>`.
    public static let authorization = "authorization"
    /// A caller-chosen id that follows the call through every service.
    public static let traceID = "trace-id"
    /// Makes a non-idempotent call safe to retry: the server returns the first result again.
    public static let idempotencyKey = "idempotency-key"
    /// On an `accord.v1.Echo` call to the gateway: the backend (intake, qualification or
    /// supervision) to forward it to, bytes as they are, to measure or check that path. Without
    /// it the gateway answers the echo itself.
    public static let echoBackend = "echo-backend"
}
