import AccordRPC
import Testing

@Suite("The retry budget the client and the gateway's pools spend from")
struct RetryBudgetTests {
    @Test("retries spend a token each until none is left; successes earn them back, up to the ceiling")
    func spendAndEarn() {
        let budget = RetryBudget(maxTokens: 3, tokensPerSuccess: 0.5)
        #expect((0..<3).map { _ in budget.spend() } == [true, true, true])
        #expect(budget.spend() == false)
        budget.succeeded()
        #expect(budget.spend() == false, "half a token is not a retry")
        budget.succeeded()
        #expect(budget.spend() == true)
        for _ in 0..<100 { budget.succeeded() }
        #expect(budget.remaining == 3)
    }
}
