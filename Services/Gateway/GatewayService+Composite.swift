import AccordCalendar
import AccordMessages
import AccordRPC
import AccordServiceKit
import NIOCore

/// Composite calls: each fans out to the services in parallel, each branch with its own
/// deadline inside the caller's; a branch that fails or is late leaves its part out and is named
/// in `missing`, and the answer is marked partial.
extension GatewayService {
    /// One branch's result: what to put into the answer, or what is missing and why.
    enum Branch<Answer: Sendable>: Sendable {
        case done(@Sendable (inout Answer) -> Void)
        case missing(String)
    }

    static func branch<Answer: Sendable, Response: Sendable>(
        _ name: String,
        _ call: @escaping @Sendable () async throws -> Response,
        _ apply: @escaping @Sendable (inout Answer, Response) -> Void
    ) -> @Sendable () async -> Branch<Answer> {
        {
            do {
                let response = try await call()
                return .done { apply(&$0, response) }
            } catch let error as RPCError {
                return .missing("\(name) (\(error.code.name): \(error.message))")
            } catch {
                return .missing("\(name) (\(error))")
            }
        }
    }

    static func gather<Answer: Sendable>(
        into answer: inout Answer,
        _ branches: [@Sendable () async -> Branch<Answer>]
    ) async -> [String] {
        var missing: [String] = []
        await withTaskGroup(of: Branch<Answer>.self) { group in
            for branch in branches { group.addTask { await branch() } }
            for await result in group {
                switch result {
                case .done(let apply): apply(&answer)
                case .missing(let what): missing.append(what)
                }
            }
        }
        return missing.sorted()
    }

    func dossier(_ request: GetDossierRequest, _ context: ServerContext) async throws -> Dossier {
        let context = Self.traced(context)
        let principal = try self.caller(context)
        guard let key = request.agency?.trimmingCharacters(in: .whitespaces), !key.isEmpty else {
            throw RPCError.invalidArgument(field: "agency", "is required: an agency id or an ORI")
        }
        var dossier = Dossier()
        var missing: [String] = []
        let asOf = try self.dossierMoment(request.asOfMs)
        dossier.asOfMs = asOf
        // One budget for the whole dossier: every call ends by the same moment.
        let options = try self.forwardOptions(context, cap: self.branchTimeout)
        // An agency id is looked up beside the other branches; an ORI first, to know the id.
        let agencyID = key.hasPrefix("ag_") ? key : try await self.resolveAgency(key, into: &dossier, options)
        try await self.requireDossierReach(principal, agencyID, options)
        async let agency = self.agencyBranch(key.hasPrefix("ag_") ? agencyID : nil, options)
        let branches =
            self.qualificationBranches(agencyID, options, asOf: asOf)
            + self.supervisionBranches(agencyID, options, asOf: asOf)
        missing += await Self.gather(into: &dossier, branches)
        switch await agency {
        case .success(let found?): dossier.agency = found
        case .success(nil): break
        case .failure(let error) where error.code == .unavailable || error.code == .deadlineExceeded:
            missing.append("intake: agency (\(error.code.name): \(error.message))")
            missing.sort()
        case .failure(let error): throw error
        }
        dossier.partial = !missing.isEmpty
        if self.backends.all.contains(where: \.simulated) { dossier.simulatedClock = true }
        dossier.missing = missing
        if !missing.isEmpty {
            context.logger.warning("Partial dossier", metadata: ["agency": "\(agencyID)", "missing": "\(missing)"])
        }
        return dossier
    }

    /// An agency sees its own dossier; a supervisor the dossiers of the agencies whose
    /// agreements it supervises (asked of supervision, which must answer); others any.
    func requireDossierReach(_ principal: Principal, _ agencyID: String, _ options: CallOptions) async throws {
        switch principal.role {
        case .agency where principal.scope != agencyID:
            throw RPCError(.permissionDenied, "\(principal.header) may not see the dossier of \(agencyID)")
        case .supervisor:
            let agreements = try await self.backends.supervision.call(
                SupervisionMethods.listAgreements,
                ListAgreementsRequest(agencyId: agencyID, page: PageRequest(pageSize: 1000)),
                options: options
            )
            guard agreements.agreements.contains(where: { $0.supervisorId == principal.scope }) else {
                throw RPCError(
                    .permissionDenied,
                    "\(principal.header) supervises no agreement of \(agencyID): it sees the dossiers of those it does"
                )
            }
        default:
            return
        }
    }

    /// An overview's `as_of_ms`: a moment up to the projection horizon ahead of the services' now.
    func requireWithinHorizon(_ moment: Int64?) throws {
        guard let moment else { return }
        let horizon = self.servicesNow() + ProjectionHorizon.days * 86_400_000
        guard moment > 0, moment <= horizon else {
            throw RPCError.invalidArgument(
                field: "as_of_ms",
                "is not a moment up to \(ProjectionHorizon.days) days ahead (at most \(Moment.text(horizon)))"
            )
        }
    }

    /// The services' time: a simulated clock's, from their last health checks, or real time.
    func servicesNow() -> Int64 {
        let real = ServiceClock.realTime()
        return self.backends.all.compactMap { $0.simulatedNow(atRealTime: real) }.max() ?? real
    }

    /// A dossier's `as_of_ms`, checked against the services' time (a simulated clock's, when they
    /// run on one): a moment up to now.
    func dossierMoment(_ moment: Int64?) throws -> Int64? {
        guard let moment else { return nil }
        let now = self.servicesNow()
        if moment >= now && Day(unixMilliseconds: moment) == Day(unixMilliseconds: now) { return nil }  // today
        guard moment > 0, moment <= now + 60_000 else {
            throw RPCError.invalidArgument(
                field: "as_of_ms",
                "\(Moment.text(moment)) is not a moment up to now (\(Moment.text(now))): a dossier shows what was on record"
            )
        }
        return moment
    }

    /// The agency of a dossier given by ORI, from intake; its id. Without intake an ORI cannot
    /// be resolved: the call fails.
    func resolveAgency(_ key: String, into dossier: inout Dossier, _ options: CallOptions) async throws -> String {
        let agency = try await self.backends.intake.call(
            IntakeMethods.getAgency,
            GetAgencyRequest(agency: key),
            options: options
        )
        dossier.agency = agency
        return agency.id ?? key
    }

    /// The agency of a dossier given by id, from intake, beside the other branches (nil `id`:
    /// resolved already). NOT_FOUND ends the dossier; UNAVAILABLE or a deadline leaves it out.
    func agencyBranch(_ id: String?, _ options: CallOptions) async -> Result<Agency?, RPCError> {
        guard let id else { return .success(nil) }
        do {
            return .success(
                try await self.backends.intake.call(
                    IntakeMethods.getAgency,
                    GetAgencyRequest(agency: id),
                    options: options
                )
            )
        } catch let error as RPCError {
            return .failure(error)
        } catch {
            return .failure(RPCError(.unavailable, "\(error)"))
        }
    }

    /// The dossier's branches from intake (requests) and qualification (officers, training).
    func qualificationBranches(
        _ agencyID: String,
        _ options: CallOptions,
        asOf: Int64?
    ) -> [@Sendable () async -> Branch<Dossier>] {
        let day = asOf.map { Day(unixMilliseconds: $0).description }
        let intake = self.backends.intake
        let qualification = self.backends.qualification
        let all = PageRequest(pageSize: 1000)
        return [
            Self.branch(
                "intake: requests",
                {
                    try await intake.call(
                        IntakeMethods.listRequests,
                        ListRequestsRequest(agencyId: agencyID, page: all),
                        options: options
                    )
                },
                { $0.requests = $1.requests }
            ),
            Self.branch(
                "qualification: officers",
                {
                    try await qualification.call(
                        QualificationMethods.listOfficers,
                        ListOfficersRequest(agencyId: agencyID, page: all),
                        options: options
                    )
                },
                { $0.officers = $1.officers }
            ),
            Self.branch(
                "qualification: training",
                {
                    try await qualification.call(
                        QualificationMethods.getCompliance,
                        GetComplianceRequest(asOf: day, agencyId: agencyID),
                        options: options
                    )
                },
                { $0.training = $1.officers }
            ),
        ]
    }

    /// The dossier's branches from supervision: agreements with their supervisors,
    /// authorizations, recent actions, open complaints.
    func supervisionBranches(
        _ agencyID: String,
        _ options: CallOptions,
        asOf: Int64?
    ) -> [@Sendable () async -> Branch<Dossier>] {
        let supervision = self.backends.supervision
        let all = PageRequest(pageSize: 1000)
        return [
            Self.branch(
                "supervision: agreements",
                { try await Self.agreementsWithSupervisors(agencyID, supervision, options, asOf: asOf) },
                {
                    $0.agreements = $1.0.agreements
                    $0.supervisors = $1.1
                }
            ),
            Self.branch(
                "supervision: authorizations",
                {
                    try await supervision.call(
                        SupervisionMethods.listAuthorizations,
                        ListAuthorizationsRequest(agencyId: agencyID, page: all, asOfMs: asOf),
                        options: options
                    )
                },
                { $0.authorizations = $1.authorizations }
            ),
            Self.branch(
                "supervision: actions",
                {
                    try await supervision.call(
                        SupervisionMethods.listActions,
                        ListActionsRequest(
                            page: PageRequest(pageSize: 20),
                            agencyId: agencyID,
                            newestFirst: true,
                            asOfMs: asOf
                        ),
                        options: options
                    )
                },
                { $0.recentActions = $1.actions }
            ),
            Self.branch(
                "supervision: complaints",
                {
                    try await supervision.call(
                        SupervisionMethods.listComplaints,
                        ListComplaintsRequest(status: .open, page: all, agencyId: agencyID, asOfMs: asOf),
                        options: options
                    )
                },
                { $0.openComplaints = $1.complaints }
            ),
        ]
    }

    /// An agency's agreements, and the supervisors they name.
    static func agreementsWithSupervisors(
        _ agencyID: String,
        _ supervision: BackendPool,
        _ options: CallOptions,
        asOf: Int64?
    ) async throws -> (ListAgreementsResponse, [Supervisor]) {
        let all = PageRequest(pageSize: 1000)
        let agreements = try await supervision.call(
            SupervisionMethods.listAgreements,
            ListAgreementsRequest(agencyId: agencyID, page: all, asOfMs: asOf),
            options: options
        )
        let wanted = Set(agreements.agreements.compactMap(\.supervisorId))
        guard !wanted.isEmpty else { return (agreements, []) }
        let supervisors = try await supervision.call(
            SupervisionMethods.listSupervisors,
            ListSupervisorsRequest(page: all),
            options: options
        )
        return (agreements, supervisors.supervisors.filter { wanted.contains($0.id ?? "") })
    }

    func overview(_ request: GetProgramOverviewRequest, _ context: ServerContext) async throws -> ProgramOverview {
        let context = Self.traced(context)
        _ = try self.caller(context)
        try self.requireWithinHorizon(request.asOfMs)
        let options = try self.forwardOptions(context, cap: self.branchTimeout)
        // Every section at one moment: training as of that moment's day.
        let trainingDay = request.asOfMs.map { Day(unixMilliseconds: $0).description }
        let intake = self.backends.intake
        let qualification = self.backends.qualification
        let supervision = self.backends.supervision
        var overview = ProgramOverview()
        let missing = await Self.gather(
            into: &overview,
            [
                Self.branch(
                    "intake: requests",
                    {
                        try await intake.call(
                            IntakeMethods.getRequestReport,
                            RequestReportRequest(asOfMs: request.asOfMs),
                            options: options
                        )
                    },
                    { $0.requests = $1 }
                ),
                Self.branch(
                    "qualification: training",
                    {
                        try await qualification.call(
                            QualificationMethods.getCompliance,
                            GetComplianceRequest(asOf: trainingDay, exceptionsOnly: true),
                            options: options
                        )
                    },
                    { $0.training = $1 }
                ),
                Self.branch(
                    "supervision: report",
                    {
                        try await supervision.call(
                            SupervisionMethods.getProgramReport,
                            ProgramReportRequest(asOfMs: request.asOfMs),
                            options: options
                        )
                    },
                    { $0.supervision = $1 }
                ),
            ]
        )
        overview.partial = !missing.isEmpty
        overview.missing = missing
        if self.backends.all.contains(where: \.simulated) { overview.simulatedClock = true }
        return overview
    }
}
