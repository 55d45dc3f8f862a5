public import AccordMessages
import AccordServiceKit

/// The access matrix over every method Accord serves, in the order of the `.proto` files: what
/// `accord-gateway access-matrix` prints and docs/OPERATIONS.md shows.
public enum AccessMatrix {
    /// Every method of every service, the gateway's first, then those every server hosts.
    public static let methods: [AnyRPCMethod] =
        GatewayMethods.allMethods + IntakeMethods.allMethods + QualificationMethods.allMethods
        + SupervisionMethods.allMethods + ClockMethods.allMethods + EchoMethods.allMethods
        + HealthMethods.allMethods

    /// The Markdown table of the matrix.
    public static var markdown: String { AccessPolicy.markdown(methods: self.methods.map(\.path)) }
}
