import AccordMessages
import AccordRPC

/// What intake's store refuses, with the status each is answered with.
enum IntakeStoreError: Error, RPCErrorConvertible {
    /// Another agency has this state and name (or, when `sameORI`, this ORI).
    case duplicateAgency(Agency, sameORI: Bool)
    case agencyNotFound(String)
    case requestNotFound(String)
    /// The agency already has an open request of this model with this partner.
    case openRequestExists(id: String, status: RequestStatus, model: Model, partner: FederalPartner)

    var rpcError: RPCError {
        switch self {
        case .duplicateAgency(let agency, let sameORI):
            let what = sameORI ? "ORI \(agency.ori ?? "")" : "name in \(agency.state ?? "")"
            return RPCError(
                .alreadyExists,
                "agency \(agency.id ?? "") (\(agency.name ?? ""), \(agency.state ?? "")) already has this \(what)",
                details: ErrorDetails(
                    reason: "DUPLICATE_AGENCY",
                    metadata: [KeyValue(key: "agency_id", value: agency.id)]
                )
            )
        case .agencyNotFound(let id):
            return RPCError(.notFound, "agency \(id) not found")
        case .requestNotFound(let id):
            return RPCError(.notFound, "request \(id) not found")
        case .openRequestExists(let id, let status, let model, let partner):
            return RPCError(
                .alreadyExists,
                "agency already has open request \(id) (\(status.protoName)) for \(model.protoName) with \(partner.protoName)",
                details: ErrorDetails(reason: "OPEN_REQUEST_EXISTS", metadata: [KeyValue(key: "request_id", value: id)])
            )
        }
    }
}
