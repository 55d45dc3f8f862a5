import Synchronization

/// A retry budget (a token bucket): every retry spends a token, every success earns back part of
/// one, up to a ceiling; retries stop when less than one token is left. When a service fails
/// everywhere, its callers' retries stop adding to its load. The one budget the RPC client and
/// the gateway's backend pools both spend from.
public final class RetryBudget: Sendable {
    private let tokens: Mutex<Double>
    private let maxTokens: Double
    private let tokensPerSuccess: Double

    public init(maxTokens: Double, tokensPerSuccess: Double) {
        self.tokens = Mutex(maxTokens)
        self.maxTokens = maxTokens
        self.tokensPerSuccess = tokensPerSuccess
    }

    /// A budget of the policy's size.
    public convenience init(_ policy: ClientConfiguration.RetryPolicy) {
        self.init(maxTokens: policy.maxTokens, tokensPerSuccess: policy.tokensPerSuccess)
    }

    /// A call succeeded: earn part of a token back.
    public func succeeded() {
        self.tokens.withLock { $0 = min(self.maxTokens, $0 + self.tokensPerSuccess) }
    }

    /// Takes a token for one retry; false when the budget is spent.
    public func spend() -> Bool {
        self.tokens.withLock { tokens in
            guard tokens >= 1 else { return false }
            tokens -= 1
            return true
        }
    }

    /// The tokens left (for tests and metrics).
    public var remaining: Double { self.tokens.withLock { $0 } }
}
