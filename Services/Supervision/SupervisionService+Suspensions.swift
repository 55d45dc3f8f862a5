import AccordCalendar
import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit

/// Suspensions of authority: opened and lifted by cause (by hand, a complaint, overdue training).
extension SupervisionService {
    /// Why an authority is suspended; each kind of suspension is lifted by its own event.
    enum SuspensionCause: Sendable, Equatable {
        case manual
        case complaint(Int64)
        case training

        var name: String {
            switch self {
            case .manual: "manual"
            case .complaint: "complaint"
            case .training: "training"
            }
        }

        var complaint: Int64? {
            if case .complaint(let rowid) = self { return rowid }
            return nil
        }
    }

    /// Suspends an authority in force (opens a suspension interval); the change's reason is the
    /// suspension's.
    static func suspend(_ tx: any SupervisionRecords, _ rowid: Int64, cause: SuspensionCause, _ change: Change) throws {
        try Self.requireInForce(try tx.requireAuthorization(rowid))
        let reason = change.why ?? cause.name
        let suspension = try tx.openSuspension(
            authorization: rowid,
            from: change.at,
            reason: reason,
            complaint: cause.complaint,
            cause: cause.name
        )
        try tx.audit("authorization_suspension", suspension, "open", change)
        try tx.updateAuthorization(rowid, AuthorizationUpdate(status: .suspended, suspendedBecause: .some(reason)))
        try tx.audit("authorization", rowid, "suspend", change)
    }

    /// Ends the open suspensions of one cause, and makes the authority active again when none is
    /// left open. Returns whether it closed any.
    @discardableResult
    static func lift(
        _ tx: any SupervisionRecords,
        _ rowid: Int64,
        cause: SuspensionCause,
        _ change: Change
    ) throws
        -> Bool
    {
        let open = try tx.openSuspensions(authorization: rowid, cause: cause.name, complaint: cause.complaint)
        for suspension in open {
            try tx.closeSuspension(suspension, at: change.at)
            try tx.audit("authorization_suspension", suspension, "close", change)
        }
        if try tx.openSuspensionCount(authorization: rowid) == 0,
            try tx.requireAuthorization(rowid).status == .suspended
        {
            try tx.updateAuthorization(rowid, AuthorizationUpdate(status: .active, suspendedBecause: .some(nil)))
            try tx.audit("authorization", rowid, "reinstate", change)
        }
        return !open.isEmpty
    }

    /// Suspends the authority of every authorized officer whose recurring training is overdue
    /// (`overdue`, from qualification's compliance as of now) and lifts the training suspension of
    /// those who are current again. Returns how many it suspended and lifted.
    public func applyTrainingCompliance(overdue: Set<String>) async throws -> (suspended: Int, lifted: Int) {
        let sweep = ChangeStamp(who: "supervision (compliance)", at: self.clock.now(), why: nil)
        return try await self.store.write { tx in
            var suspended = 0
            var lifted = 0
            for live in try tx.liveAuthorizationsWithTraining() {
                let isOverdue = overdue.contains(live.officerID)
                if isOverdue && !live.training {
                    try Self.suspend(tx, live.rowid, cause: .training, sweep.because("recurring training overdue"))
                    suspended += 1
                } else if !isOverdue && live.training {
                    try Self.lift(tx, live.rowid, cause: .training, sweep.because("recurring training current"))
                    lifted += 1
                }
            }
            return (suspended, lifted)
        }
    }
}
