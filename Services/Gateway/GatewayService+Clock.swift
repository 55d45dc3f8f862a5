import AccordCalendar
import AccordMessages
import AccordRPC
import AccordServiceKit

/// The clocks of the services behind the gateway: read from every endpoint, and moved together
/// on a simulated deployment so that no two services disagree about what day it is. (The
/// gateway's tokens keep real time: a token's life is security, not the program's calendar.)
extension GatewayService {
    func clocks(_ request: GetClockRequest, _ context: ServerContext) async throws -> ClocksResponse {
        let options = try self.forwardOptions(Self.traced(context), cap: self.branchTimeout)
        return try await self.everyClock { pool in
            await pool.everyEndpoint(ClockMethods.getClock, request, options: options)
        }
    }

    func advanceClocks(_ request: AdvanceClockRequest, _ context: ServerContext) async throws -> ClocksResponse {
        let principal = try self.caller(context)
        guard let target = request.toMs else { throw RPCError.invalidArgument(field: "to_ms", "is required") }
        let options = try self.forwardOptions(Self.traced(context), cap: self.branchTimeout)
        let answer = try await self.everyClock { pool in
            await pool.everyEndpoint(ClockMethods.advanceClock, request, options: options)
        }
        self.logger.notice(
            "Clocks moved",
            metadata: [
                "to": "\(Moment.text(target))", "by": "\(principal.description)", "reason": "\(request.reason ?? "")",
            ]
        )
        return answer
    }

    /// Each endpoint's answer, named "service endpoint"; when any failed, the error of the first
    /// failure with every endpoint that failed (the others have answered, so a retry is safe).
    private func everyClock(
        _ call: (BackendPool) async -> [(endpoint: Endpoint, result: Result<ClockState, any Error>)]
    ) async throws -> ClocksResponse {
        var response = ClocksResponse()
        var failures: [(String, RPCError)] = []
        for pool in self.backends.all {
            for (endpoint, result) in await call(pool) {
                let name = "\(pool.service) \(endpoint)"
                switch result {
                case .success(var state):
                    state.server = name
                    response.clocks.append(state)
                case .failure(let error):
                    failures.append((name, error as? RPCError ?? RPCError(.unavailable, "\(error)")))
                }
            }
        }
        guard let (_, first) = failures.first else { return response }
        // Endpoints that failed alike are named together: "intake A, supervision B: the message".
        var alike: [(message: String, names: [String])] = []
        for (name, error) in failures {
            let message = "\(error.code) \(error.message)"
            if let index = alike.firstIndex(where: { $0.message == message }) {
                alike[index].names.append(name)
            } else {
                alike.append((message, [name]))
            }
        }
        let listed = alike.map { "\($0.names.joined(separator: ", ")): \($0.message)" }.joined(separator: "; ")
        let moved = response.clocks.map { $0.server ?? "" }.joined(separator: ", ")
        throw RPCError(first.code, "\(listed)\(moved.isEmpty ? "" : " (answered: \(moved))")")
    }
}
