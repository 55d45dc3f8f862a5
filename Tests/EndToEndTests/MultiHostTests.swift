import Foundation
import Testing

/// Hosts simulated with network namespaces (Tools/simulated-hosts.sh): `address` 198.18.0.N on
/// each, joined by veth pairs to a bridge; the test's own namespace reaches none of them.
struct SimulatedHosts {
    let name: String
    let hosts: [ClusterHost]

    /// Root, and `ip` to make namespaces with.
    static var available: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") }

    static func up(_ count: Int) throws -> SimulatedHosts {
        let name = "ac\(String(UInt32.random(in: 0..<UInt32.max), radix: 16).prefix(6))"
        let made = try CLITests.run("\(CLITests.root)/Tools/simulated-hosts.sh", ["up", name, "\(count)"])
        let hosts = SimulatedHosts(
            name: name,
            hosts: (0..<count).map {
                ClusterHost(address: "198.18.0.\($0 + 1)", prefix: ["/usr/sbin/ip", "netns", "exec", "\(name)-\($0)"])
            }
        )
        guard made.status == 0 else {
            hosts.down()
            throw ProcessStorageError("simulated-hosts.sh up: \(made.errors)")
        }
        return hosts
    }

    func down() {
        _ = try? CLITests.run("\(CLITests.root)/Tools/simulated-hosts.sh", ["down", self.name, "\(self.hosts.count)"])
    }
}

@Suite(
    "the cluster across hosts",
    .enabled(if: PrivatePostgres.installed, "needs PostgreSQL 15 (make test installs it)"),
    .enabled(if: SimulatedHosts.available, "needs root and ip(8) to make network namespaces"),
    .timeLimit(.minutes(3))
)
struct MultiHostTests {
    @Test(
        "PostgreSQL on one host, a replica of each service on two others, the gateway on a fourth: the lifecycle runs through the gateway from a fifth"
    )
    func acrossHosts() async throws {
        let network = try SimulatedHosts.up(5)
        defer { network.down() }
        let (database, first, second, front, user) = (
            network.hosts[0], network.hosts[1], network.hosts[2], network.hosts[3], network.hosts[4]
        )
        let cluster = try await Cluster.start(postgres: database, replicas: [first, second], gateway: front)
        defer { cluster.stop() }
        let gateway = "\(front.address):\(cluster.gateway.endpoint.port)"
        let environment = ["ACCORD_GATEWAY": gateway, "ACCORD_TOKEN": cluster.tokens["operator"]!]
        // The gateway reaches every replica on its host's address.
        var health = try Cluster.run(on: user, "accord", ["health", "--json"], environment: environment)
        let deadline = ContinuousClock.now + .seconds(30)
        while health.output.components(separatedBy: "BACKEND_STATE_HEALTHY").count != 7, ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(200))
            health = try Cluster.run(on: user, "accord", ["health", "--json"], environment: environment)
        }
        #expect(health.output.components(separatedBy: "BACKEND_STATE_HEALTHY").count == 7, "\(health.output)")
        for host in [first, second] {
            for replica in Cluster.services.compactMap({ cluster.replicas[$0] }).joined()
            where replica.endpoint.host == host.address {
                #expect(health.output.contains("\(host.address):\(replica.endpoint.port)"))
            }
        }
        #expect(!health.output.contains("127.0.0.1"), "\(health.output)")
        // The whole lifecycle, from a host of its own.
        let demo = try Cluster.run(
            on: user,
            "\(CLITests.root)/Tools/demo.sh",
            [EchoProcessTests.binDirectory.path],
            environment: ["ACCORD_GATEWAY": gateway, "ACCORD_TOKENS_FILE": "\(cluster.data)/tokens.env"]
        )
        #expect(demo.status == 0, "\(demo.output.suffix(2000))\n\(demo.errors.suffix(2000))")
        for marker in ["QUALIFIED", "CERTIFIED", "ACTIVE", "APPROVED", "RESOLVED", "intact"] {
            #expect(demo.output.contains(marker), "the walk-through never showed \(marker)")
        }
    }
}
