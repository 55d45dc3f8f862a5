public import AccordStorage

extension BackedUpStore {
    /// Supervision's store: its outbox carries requests' agreement progress to intake.
    public static let supervision = BackedUpStore(
        service: "supervision",
        redelivery: [DeliveryMark(table: "outbox", deliveredColumn: "delivered_at_ms")]
    )
}
