public import AccordStorage

extension BackedUpStore {
    /// Intake's store: its outbox carries evaluations to qualification and imported agreements to
    /// supervision.
    public static let intake = BackedUpStore(
        service: "intake",
        redelivery: [DeliveryMark(table: "outbox", deliveredColumn: "delivered_at_ms")]
    )
}
