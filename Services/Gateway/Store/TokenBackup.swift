public import AccordStorage

extension BackedUpStore {
    /// The gateway's store of tokens: no outbox.
    public static let gateway = BackedUpStore(service: "gateway", redelivery: [])
}
