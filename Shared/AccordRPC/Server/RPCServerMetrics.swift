import AccordWire
import Metrics
import NIOCore

/// Request counts, statuses, latencies and connections of a server, through swift-metrics.
///
/// Series: `accord_rpc_server_started_total{method}`, `accord_rpc_server_handled_total{method,code}`,
/// `accord_rpc_server_duration_seconds{method}` (a histogram), `accord_rpc_server_connections`
/// (open now) and `accord_rpc_server_connections_total`.
final class RPCServerMetrics: Sendable {
    /// The series of one method, looked up once per call.
    struct MethodMetrics: Sendable {
        let startedCounter: Counter
        let handled: [Counter]
        let duration: Timer

        func started() {
            self.startedCounter.increment()
        }

        func finished(code: StatusCode, startedAt: NIODeadline) {
            self.handled[Int(code.rawValue)].increment()
            self.duration.recordNanoseconds((NIODeadline.now() - startedAt).nanoseconds)
        }

        /// A call answered before it started (limits, shutdown).
        func refused(code: StatusCode) {
            self.startedCounter.increment()
            self.handled[Int(code.rawValue)].increment()
        }
    }

    private let methods: [String: MethodMetrics]
    /// The series of calls to methods the server does not host.
    let unknownMethod: MethodMetrics
    private let openConnections: Meter
    private let acceptedConnections: Counter

    init(paths: [String]) {
        func make(_ method: String) -> MethodMetrics {
            MethodMetrics(
                startedCounter: Counter(label: "accord_rpc_server_started_total", dimensions: [("method", method)]),
                handled: StatusCode.allCases.map {
                    Counter(
                        label: "accord_rpc_server_handled_total",
                        dimensions: [("method", method), ("code", $0.name)]
                    )
                },
                duration: Timer(
                    label: "accord_rpc_server_duration_seconds",
                    dimensions: [("method", method)],
                    preferredDisplayUnit: .seconds
                )
            )
        }
        self.methods = Dictionary(uniqueKeysWithValues: paths.map { ($0, make($0)) })
        self.unknownMethod = make("unknown")
        self.openConnections = Meter(label: "accord_rpc_server_connections")
        self.acceptedConnections = Counter(label: "accord_rpc_server_connections_total")
    }

    /// The series of `method`; methods the server does not host share the "unknown" series.
    func method(_ method: String) -> MethodMetrics {
        self.methods[method] ?? self.unknownMethod
    }

    func connectionOpened() {
        self.openConnections.increment()
        self.acceptedConnections.increment()
    }

    func connectionClosed() {
        self.openConnections.decrement()
    }
}
