public import AccordStorage

extension BackedUpStore {
    /// Qualification's store: decisions not yet reported to intake and certified officers not yet
    /// notified to supervision are its outboxes.
    public static let qualification = BackedUpStore(
        service: "qualification",
        redelivery: [
            DeliveryMark(table: "evaluation", deliveredColumn: "reported_at_ms"),
            DeliveryMark(table: "officer", deliveredColumn: "supervision_notified_at_ms"),
        ]
    )
}
