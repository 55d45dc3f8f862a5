import AccordCalendar
import AccordMessages
import ArgumentParser
import Foundation

struct AgreementCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agreement",
        abstract: "Agreements (MOAs) and their lifecycle.",
        subcommands: [
            Offer.self, Sign.self, Show.self, List.self, Suspend.self, Reinstate.self, Terminate.self, Renew.self,
            AgreementAddendum.self, AgreementReview.self,
        ]
    )

    static func show(_ gateway: Gateway, _ agreement: Agreement) {
        Output.record(agreement, json: gateway.options.json)
    }

    /// How many authorizations of `status` the agreement holds (every page).
    static func authorizations(
        _ gateway: Gateway,
        of agreement: String?,
        _ status: AuthorizationStatus
    ) async throws
        -> Int
    {
        try await gateway.all(limit: nil) { page in
            let listed = try await gateway.call(
                SupervisionMethods.listAuthorizations,
                ListAuthorizationsRequest(agreementId: agreement, status: status, page: page)
            )
            return (listed.authorizations, listed.page)
        }.count
    }

    struct Offer: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Offer an agreement from a qualified request.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "The qualified request.") var request: String
        @Option(help: "The ICE field office or CBP office that is party to it.") var office: String

        func run(_ gateway: Gateway) async throws {
            AgreementCommand.show(
                gateway,
                try await gateway.call(
                    SupervisionMethods.offerAgreement,
                    OfferAgreementRequest(requestId: self.request, office: self.office)
                )
            )
        }
    }

    struct Sign: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Sign for the agency or the federal partner.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The agreement id, e.g. mo_3.") var id: String
        @Option(help: "agency or federal.") var party: String
        @Option(help: "Who signs.") var by: String
        @Option(help: "YYYY-MM-DD; default today.") var on: String?

        func run(_ gateway: Gateway) async throws {
            let party = try enumValue(self.party, as: Signatory.self, prefix: "SIGNATORY_", option: "--party")
            let signed = try await gateway.call(
                SupervisionMethods.signAgreement,
                SignAgreementRequest(agreementId: self.id, party: party, signedBy: self.by, signedOn: self.on)
            )
            AgreementCommand.show(gateway, signed)
            guard !gateway.options.json, signed.status == .active, let old = signed.supersedes else { return }
            let carried = try await AgreementCommand.authorizations(gateway, of: signed.id, .active)
            print(
                "\nIn force: it supersedes \(old). The officers authorized under \(old) keep their authority "
                    + "under \(signed.id ?? "it") (\(carried) active authorization\(carried == 1 ? "" : "s") now)."
            )
        }
    }

    struct Show: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "One agreement.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The agreement id.") var id: String

        func run(_ gateway: Gateway) async throws {
            AgreementCommand.show(
                gateway,
                try await gateway.call(SupervisionMethods.getAgreement, GetAgreementRequest(agreementId: self.id))
            )
        }
    }

    struct List: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Agreements, with filters.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "The agency id.") var agency: String?
        @Option(help: "USPS code.") var state: String?
        @Option(help: "JEM, WSO or TFM.") var model: String?
        @Option(help: "ICE or CBP.") var partner: String?
        @Option(help: "offered, active, suspended, termination-noticed, terminated, superseded.") var status: String?
        @Option(help: "At most this many.") var limit: Int?
        @Option(help: "As it stood at the end of this day (YYYY-MM-DD) or at an ISO 8601 time; default now.")
        var asOf: String?

        func run(_ gateway: Gateway) async throws {
            let request = ListAgreementsRequest(
                agencyId: self.agency,
                state: self.state,
                model: try optionalEnum(self.model, as: Model.self, prefix: "MODEL_", option: "--model"),
                partner: try optionalEnum(
                    self.partner,
                    as: FederalPartner.self,
                    prefix: "FEDERAL_PARTNER_",
                    option: "--partner"
                ),
                status: try optionalEnum(
                    self.status,
                    as: AgreementStatus.self,
                    prefix: "AGREEMENT_STATUS_",
                    option: "--status"
                ),
                asOfMs: try await gateway.moment(ifGiven: self.asOf, option: "--as-of", endOfDay: true)
            )
            let items = try await gateway.all(limit: self.limit) { page in
                var paged = request
                paged.page = page
                let response = try await gateway.call(SupervisionMethods.listAgreements, paged)
                return (response.agreements, response.page)
            }
            Output.table(
                items,
                columns: [
                    "id", "agency_id", "state", "model", "partner", "status", "effective_on", "supervisor_id",
                    "agency_name",
                ],
                json: self.gateway.json
            )
        }
    }

    struct Suspend: GatewayCommand {
        static let configuration = CommandConfiguration(
            abstract: "Suspend at once; every authorization under it is revoked."
        )
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The agreement id.") var id: String
        @Option(help: "Why.") var reason: String
        @Option(help: "How many days it is meant to last.") var days: UInt32
        @Option(help: "How the agency may respond.") var response: String

        func run(_ gateway: Gateway) async throws {
            AgreementCommand.show(
                gateway,
                try await gateway.call(
                    SupervisionMethods.suspendAgreement,
                    SuspendAgreementRequest(
                        agreementId: self.id,
                        reason: self.reason,
                        days: self.days,
                        response: self.response
                    )
                )
            )
        }
    }

    struct Reinstate: GatewayCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reinstate a suspended agreement.",
            discussion: """
                The authorizations the suspension revoked stay revoked: each officer is authorized again \
                (accord authorize OFFICER --agreement ID) once the program office decides so.
                """
        )
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The agreement id.") var id: String
        @Option(help: "Why.") var reason: String

        func run(_ gateway: Gateway) async throws {
            let reinstated = try await gateway.call(
                SupervisionMethods.reinstateAgreement,
                ReinstateAgreementRequest(agreementId: self.id, reason: self.reason)
            )
            AgreementCommand.show(gateway, reinstated)
            guard !gateway.options.json else { return }
            let revoked = try await AgreementCommand.authorizations(gateway, of: reinstated.id, .revoked)
            print(
                "\nReinstated. Authority revoked under \(self.id) stays revoked (\(revoked) revoked authorization"
                    + "\(revoked == 1 ? "" : "s")): authorize each officer again with "
                    + "`accord authorize OFFICER --agreement \(self.id)`."
            )
        }
    }

    struct Terminate: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Give notice of termination; it ends 90 days later.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The agreement id.") var id: String
        @Option(help: "Why.") var reason: String
        @Option(help: "Date of the notice, YYYY-MM-DD; default today.") var on: String?

        func run(_ gateway: Gateway) async throws {
            AgreementCommand.show(
                gateway,
                try await gateway.call(
                    SupervisionMethods.noticeTermination,
                    NoticeTerminationRequest(agreementId: self.id, reason: self.reason, noticedOn: self.on)
                )
            )
        }
    }

    struct Renew: GatewayCommand {
        static let configuration = CommandConfiguration(
            abstract: "Offer a renewal; once signed it supersedes this one.",
            discussion: """
                When both parties have signed the renewal, it supersedes this agreement, and every officer \
                whose authority is in force under this one keeps it under the renewal (nothing to re-authorize).
                """
        )
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The agreement id.") var id: String
        @Option(help: "The office, if it changes.") var office: String?

        func run(_ gateway: Gateway) async throws {
            AgreementCommand.show(
                gateway,
                try await gateway.call(
                    SupervisionMethods.renewAgreement,
                    RenewAgreementRequest(agreementId: self.id, office: self.office)
                )
            )
        }
    }
}

struct SupervisorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supervisor",
        abstract: "Federal supervisors.",
        subcommands: [Create.self, Assign.self, List.self]
    )

    struct Create: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Add a federal supervisor.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "Name.") var name: String
        @Option(help: "ICE or CBP.") var component: String
        @Option(help: "Office, e.g. ERO Houston.") var office: String

        func run(_ gateway: Gateway) async throws {
            let supervisor = Supervisor(
                name: self.name,
                component: try enumValue(
                    self.component,
                    as: FederalPartner.self,
                    prefix: "FEDERAL_PARTNER_",
                    option: "--component"
                ),
                office: self.office
            )
            Output.record(
                try await gateway.call(
                    SupervisionMethods.createSupervisor,
                    CreateSupervisorRequest(supervisor: supervisor)
                ),
                json: self.gateway.json
            )
        }
    }

    struct Assign: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Assign a supervisor to an agreement or an officer.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The supervisor id, e.g. sv_1.") var supervisor: String
        @Option(help: "The agreement id.") var agreement: String?
        @Option(help: "The officer id.") var officer: String?

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(
                    SupervisionMethods.assignSupervisor,
                    AssignSupervisorRequest(
                        supervisorId: self.supervisor,
                        agreementId: self.agreement,
                        officerId: self.officer
                    )
                ),
                json: self.gateway.json
            )
        }
    }

    struct List: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Federal supervisors.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "At most this many.") var limit: Int?

        func run(_ gateway: Gateway) async throws {
            let items = try await gateway.all(limit: self.limit) { page in
                let response = try await gateway.call(
                    SupervisionMethods.listSupervisors,
                    ListSupervisorsRequest(page: page)
                )
                return (response.supervisors, response.page)
            }
            Output.table(items, columns: ["id", "name", "component", "office"], json: self.gateway.json)
        }
    }
}

struct Authorize: GatewayCommand {
    static let configuration = CommandConfiguration(
        abstract: "Authorize a certified officer under the agency's active agreement of the officer's model."
    )
    @OptionGroup var gateway: GatewayOptions
    @Argument(help: "The officer id.") var officer: String
    @Option(help: "The agreement, when not the agency's active one of the model.") var agreement: String?
    @Option(help: "Credential serial.") var credential: String?
    @Option(help: "TFM: a detainer category the supervisors allow (repeat for more).") var category: [String] = []
    @Option(help: "The officer's own supervisor.") var supervisor: String?
    @Option(
        help:
            "Authority granted before it was recorded here: from this day (YYYY-MM-DD; needs --reason). Default now."
    )
    var on: String?
    @Option(help: "Why, for the record.") var reason: String?

    func run(_ gateway: Gateway) async throws {
        Output.record(
            try await gateway.call(
                SupervisionMethods.authorizeOfficer,
                AuthorizeOfficerRequest(
                    officerId: self.officer,
                    agreementId: self.agreement,
                    credentialSerial: self.credential,
                    detainerCategories: self.category,
                    supervisorId: self.supervisor,
                    reason: self.reason,
                    authorizedOn: self.on
                )
            ),
            json: self.gateway.json
        )
    }
}

struct ActionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "action",
        abstract: "Delegated actions and their review.",
        subcommands: [Record.self, List.self, Review.self, ActionShow.self, ActionSign.self]
    )

    struct Record: GatewayCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record what an officer did; refused ones are recorded as rejected and exit 1."
        )
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "The officer id.") var officer: String
        @Option(
            help:
                "interview, arrest-warrant, removal-warrant, warrantless-arrest, processing, charging-document, detainer, transport."
        )
        var function: String
        @Option(help: "jail, release or field.") var place: String
        @Option(help: "Case or booking number (never a name).") var subject: String
        @Option(help: "When: now, YYYY-MM-DD or an ISO 8601 time. Default now.") var at: String = "now"
        @Option(help: "Where, in words.") var location: String?
        @Option(help: "Outcome.") var outcome: String?
        @Flag(help: "The subject claimed U.S. citizenship.") var citizenshipClaimed = false
        @Option(help: "TFM detainers: the category.") var category: String?

        func run(_ gateway: Gateway) async throws {
            let action = DelegatedAction(
                officerId: self.officer,
                function: try enumValue(
                    self.function,
                    as: DelegatedFunction.self,
                    prefix: "DELEGATED_FUNCTION_",
                    option: "--function"
                ),
                performedAtMs: try await gateway.moment(self.at, option: "--at"),
                place: try enumValue(self.place, as: ActionPlace.self, prefix: "ACTION_PLACE_", option: "--place"),
                location: self.location,
                subjectRef: self.subject,
                outcome: self.outcome,
                citizenshipClaimed: self.citizenshipClaimed,
                detainerCategory: self.category
            )
            Output.record(
                try await gateway.call(SupervisionMethods.recordAction, RecordActionRequest(action: action)),
                json: self.gateway.json
            )
        }
    }

    struct List: GatewayCommand {
        static let configuration = CommandConfiguration(
            abstract: "Actions, with filters (a supervisor sees its queue)."
        )
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "The officer id.") var officer: String?
        @Option(help: "The agreement id.") var agreement: String?
        @Option(help: "The agency id.") var agency: String?
        @Option(help: "accepted or rejected.") var decision: String?
        @Option(help: "pending, approved, returned or rejected.") var review: String?
        @Flag(help: "Only those reported late.") var late = false
        @Option(help: "At most this many.") var limit: Int?
        @Option(help: "As it stood at the end of this day (YYYY-MM-DD) or at an ISO 8601 time; default now.")
        var asOf: String?

        func run(_ gateway: Gateway) async throws {
            let request = ListActionsRequest(
                officerId: self.officer,
                agreementId: self.agreement,
                decision: try optionalEnum(
                    self.decision,
                    as: ActionDecision.self,
                    prefix: "ACTION_DECISION_",
                    option: "--decision"
                ),
                review: try optionalEnum(
                    self.review,
                    as: ReviewStatus.self,
                    prefix: "REVIEW_STATUS_",
                    option: "--review"
                ),
                lateOnly: self.late,
                agencyId: self.agency,
                asOfMs: try await gateway.moment(ifGiven: self.asOf, option: "--as-of", endOfDay: true)
            )
            let items = try await gateway.all(limit: self.limit) { page in
                var paged = request
                paged.page = page
                let response = try await gateway.call(SupervisionMethods.listActions, paged)
                return (response.actions, response.page)
            }
            Output.table(
                items,
                columns: ["id", "officer_id", "function", "place", "decision", "review", "late", "rejection_code"],
                json: self.gateway.json
            )
        }
    }

    struct Review: GatewayCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve, return or reject an action (its supervisor)."
        )
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The action id.") var id: String
        @Option(help: "approved, returned or rejected.") var decision: String
        @Option(help: "Why (required to return or reject).") var reason: String?

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(
                    SupervisionMethods.reviewAction,
                    ReviewActionRequest(
                        actionId: self.id,
                        review: try enumValue(
                            self.decision,
                            as: ReviewStatus.self,
                            prefix: "REVIEW_STATUS_",
                            option: "--decision"
                        ),
                        reason: self.reason
                    )
                ),
                json: self.gateway.json
            )
        }
    }
}

struct ComplaintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "complaint",
        abstract: "Complaints and their deadlines.",
        subcommands: [File.self, Update.self, List.self]
    )

    struct File: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "File a complaint about an agreement or an officer.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "The agreement id.") var agreement: String
        @Option(help: "The officer id, if it is about one.") var officer: String?
        @Option(help: "Who complained: public, detainee, officer, attorney…") var source: String
        @Option(help: "What happened.") var summary: String
        @Option(help: "When it was received: now, YYYY-MM-DD or ISO 8601. Default now.") var received: String = "now"
        @Flag(help: "It may lead to discipline: the officer's authority is suspended while it is open.")
        var discipline = false

        func run(_ gateway: Gateway) async throws {
            let complaint = Complaint(
                agreementId: self.agreement,
                officerId: self.officer,
                source: self.source,
                summary: self.summary,
                receivedAtMs: try await gateway.moment(self.received, option: "--received"),
                mayLeadToDiscipline: self.discipline
            )
            Output.record(
                try await gateway.call(SupervisionMethods.fileComplaint, FileComplaintRequest(complaint: complaint)),
                json: self.gateway.json
            )
        }
    }

    struct Update: GatewayCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record the notice, the resolution or the outcome report."
        )
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The complaint id.") var id: String
        @Option(help: "When the federal side was told.") var notified: String?
        @Option(help: "When it was resolved.") var resolved: String?
        @Option(help: "The resolution.") var resolution: String?
        @Option(help: "When the outcome was reported.") var reported: String?

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(
                    SupervisionMethods.updateComplaint,
                    UpdateComplaintRequest(
                        complaintId: self.id,
                        notifiedAtMs: try await gateway.moment(ifGiven: self.notified, option: "--notified"),
                        resolvedAtMs: try await gateway.moment(ifGiven: self.resolved, option: "--resolved"),
                        resolution: self.resolution,
                        outcomeReportedAtMs: try await gateway.moment(ifGiven: self.reported, option: "--reported")
                    )
                ),
                json: self.gateway.json
            )
        }
    }

    struct List: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Complaints, with filters.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "The agreement id.") var agreement: String?
        @Option(help: "The agency id.") var agency: String?
        @Option(help: "open or resolved.") var status: String?
        @Flag(help: "Only those past a deadline.") var overdue = false
        @Option(help: "At most this many.") var limit: Int?
        @Option(help: "As it stood at the end of this day (YYYY-MM-DD) or at an ISO 8601 time; default now.")
        var asOf: String?

        func run(_ gateway: Gateway) async throws {
            let status = try optionalEnum(
                self.status,
                as: ComplaintStatus.self,
                prefix: "COMPLAINT_STATUS_",
                option: "--status"
            )
            let items = try await gateway.all(limit: self.limit) { page in
                let response = try await gateway.call(
                    SupervisionMethods.listComplaints,
                    ListComplaintsRequest(
                        agreementId: self.agreement,
                        status: status,
                        overdueOnly: self.overdue,
                        page: page,
                        agencyId: self.agency,
                        asOfMs: try await gateway.moment(ifGiven: self.asOf, option: "--as-of", endOfDay: true)
                    )
                )
                return (response.complaints, response.page)
            }
            Output.table(
                items,
                columns: ["id", "agreement_id", "officer_id", "source", "status", "overdue", "summary"],
                json: self.gateway.json
            )
        }
    }
}

struct InspectionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspection",
        abstract: "Inspections of agreements (every model, WSO included).",
        subcommands: [Schedule.self, Record.self, Close.self, InspectionList.self]
    )

    struct Schedule: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Schedule an inspection.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "The agreement id.") var agreement: String
        @Option(help: "YYYY-MM-DD.") var on: String

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(
                    SupervisionMethods.scheduleInspection,
                    ScheduleInspectionRequest(agreementId: self.agreement, scheduledOn: self.on)
                ),
                json: self.gateway.json
            )
        }
    }

    struct Record: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Record findings and corrective actions.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The inspection id.") var id: String
        @Option(help: "YYYY-MM-DD; default today.") var on: String?
        @Option(help: "A finding (repeat for more).") var finding: [String] = []
        @Option(help: "A corrective action (repeat for more).") var corrective: [String] = []

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(
                    SupervisionMethods.recordInspection,
                    RecordInspectionRequest(
                        inspectionId: self.id,
                        inspectedOn: self.on,
                        findings: self.finding,
                        correctiveActions: self.corrective
                    )
                ),
                json: self.gateway.json
            )
        }
    }

    struct Close: GatewayCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close an inspection once its corrective actions are done."
        )
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The inspection id.") var id: String
        @Option(help: "YYYY-MM-DD; default today.") var on: String?
        @Option(help: "Why, for the record.") var reason: String?

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(
                    SupervisionMethods.closeInspection,
                    CloseInspectionRequest(inspectionId: self.id, closedOn: self.on, reason: self.reason)
                ),
                json: self.gateway.json
            )
        }
    }
}

struct Dossier: GatewayCommand {
    static let configuration = CommandConfiguration(
        abstract: "Everything about an agency, gathered from every service at once.",
        discussion:
            "When a service does not answer in time the rest still comes, marked partial, naming what is missing."
    )
    @OptionGroup var gateway: GatewayOptions
    @Argument(help: "An agency id or an ORI.") var agency: String
    @Option(
        help: """
            As it stood at the end of this day (YYYY-MM-DD) or at an ISO 8601 time: agreements, authorizations, \
            training, actions and complaints then (the agency, its requests and officers as they are now).
            """
    )
    var asOf: String?

    func run(_ gateway: Gateway) async throws {
        let moment = try await gateway.moment(ifGiven: self.asOf, option: "--as-of", endOfDay: true)
        let dossier = try await gateway.call(
            GatewayMethods.getDossier,
            GetDossierRequest(agency: self.agency, asOfMs: moment)
        )
        if self.gateway.json {
            var json = dossier.json
            if case .object(var fields) = json, dossier.missing.isEmpty {
                fields.append(("missing", .array([])))
                json = .object(fields)
            }
            print(json.serialized(indent: 2))
            return
        }
        if let agency = dossier.agency {
            print("\(agency.name ?? "") (\(agency.id ?? ""), \(agency.state ?? ""), ORI \(agency.ori ?? "none"))")
        }
        if dossier.simulatedClock == true { print(Output.simulatedBanner(now: nil)) }
        if let moment = dossier.asOfMs {
            print("as of \(Moment.text(moment)): agreements, authorizations, training, actions and complaints then")
        }
        if dossier.partial == true {
            print("PARTIAL: missing \(dossier.missing.joined(separator: "; "))")
        }
        func section<T: JSONRepresentable>(_ title: String, _ items: [T], _ columns: [String]) {
            print("\n\(title)")
            Output.table(items, columns: columns, json: false)
        }
        section("Requests", dossier.requests, ["id", "model", "partner", "status", "revision"])
        section("Officers", dossier.officers, ["id", "name", "model", "status", "certified_on"])
        section("Training", dossier.training, ["officer_id", "model", "status"])
        section(
            "Agreements",
            dossier.agreements,
            ["id", "model", "partner", "status", "effective_on", "supervisor_id"]
        )
        section("Supervisors", dossier.supervisors, ["id", "name", "component", "office"])
        section(
            "Authorizations",
            dossier.authorizations,
            ["id", "officer_id", "agreement_id", "status", "supervisor_id"]
        )
        section(
            "Recent actions",
            dossier.recentActions,
            ["id", "officer_id", "function", "decision", "review", "late"]
        )
        section("Open complaints", dossier.openComplaints, ["id", "officer_id", "source", "overdue"])
    }
}

struct Report: GatewayCommand {
    static let configuration = CommandConfiguration(
        abstract: "The program overview: requests, training, agreements, oversight."
    )
    @OptionGroup var gateway: GatewayOptions
    @Option(
        help: """
            As of the end of this day (YYYY-MM-DD; today: now) or an ISO 8601 time; default now. A later day, up to \
            three years ahead, gives a projection: what is on record now carried to then.
            """
    ) var asOf: String?

    func run(_ gateway: Gateway) async throws {
        let moment = try await gateway.moment(ifGiven: self.asOf, option: "--as-of", endOfDay: true)
        let overview = try await gateway.call(
            GatewayMethods.getProgramOverview,
            GetProgramOverviewRequest(asOfMs: moment)
        )
        if self.gateway.json {
            print(overview.json.serialized(indent: 2))
            return
        }
        if overview.simulatedClock == true {
            print(Output.simulatedBanner(now: nil))
        }
        if let moment = overview.supervision?.asOfMs {
            let projected = overview.supervision?.projection == true
            print("Report as of \(Moment.text(moment))\(projected ? " — PROJECTION of what is on record now" : "")")
        }
        if overview.partial == true { print("PARTIAL: missing \(overview.missing.joined(separator: "; "))") }
        if let requests = overview.requests {
            print(
                "Requests (\(requests.decided ?? 0) decided; median \(requests.medianDaysToDecision ?? 0) days to a decision)"
            )
            Output.table(requests.counts, columns: ["state", "model", "partner", "status", "count"], json: false)
        }
        if let training = overview.training {
            print(
                "\nTraining as of \(training.asOf ?? ""): \(training.certifiedOfficers ?? 0) certified officers, "
                    + "\(training.current ?? 0) current, \(training.dueSoon ?? 0) due soon, \(training.overdue ?? 0) overdue"
            )
        }
        if let report = overview.supervision {
            print("\nAgreements")
            Output.table(report.agreements, columns: ["state", "model", "partner", "status", "count"], json: false)
            print("\nOfficers authorized \(report.officersAuthorized ?? 0), suspended \(report.officersSuspended ?? 0)")
            print("Actions")
            Output.table(report.actions, columns: ["function", "decision", "review", "count"], json: false)
            print(
                """

                Oversight
                agreements without a supervisor: \(report.agreementsWithoutSupervisor.count)
                agreements without a yearly meeting: \(report.agreementsWithoutYearlyMeeting.count)
                agreements without their first review: \(report.agreementsWithoutFirstReview.count)
                complaints open: \(report.complaintsOpen ?? 0), past notice: \(report.complaintsPastNotice ?? 0), \
                past resolution: \(report.complaintsPastResolution ?? 0), past outcome report: \(report.complaintsPastOutcomeReport ?? 0)
                actions awaiting review: \(report.actionsAwaitingReview ?? 0) (oldest \((report.oldestReviewAgeMs ?? 0) / 3_600_000) h)
                notifications sent late: \(report.notificationsLate ?? 0)
                """
            )
            Output.table(
                report.inspections,
                columns: ["model", "active_agreements", "inspected_in_last_year"],
                json: false
            )
            Self.printProjection(report)
        }
    }

    /// What a projection carries to its moment: the authority that lapses and the notices that run out.
    static func printProjection(_ report: ProgramReport) {
        guard report.projection == true else { return }
        print("\nBy then (projection)")
        func listed(_ ids: [String]) -> String { ids.isEmpty ? "(none)" : ids.joined(separator: ", ") }
        print("TFM authority lapsing: \(listed(report.authorizationsLapsing))")
        print("terminations taking effect: \(listed(report.terminationsTakingEffect))")
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The tamper-evident audit trail.",
        subcommands: [Verify.self, AuditList.self]
    )

    struct Verify: GatewayCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the chain and every record; exit 1 when broken."
        )
        @OptionGroup var gateway: GatewayOptions

        func run(_ gateway: Gateway) async throws {
            let verdict = try await gateway.call(SupervisionMethods.verifyAudit, VerifyAuditRequest())
            if self.gateway.json {
                Output.record(verdict, json: true)
            } else {
                print(
                    "entries checked: \(verdict.entriesChecked ?? 0), records checked: \(verdict.recordsChecked ?? 0)"
                )
                print("head hash: \(verdict.headHash ?? "")")
                print(
                    verdict.intact == true ? "intact" : "BROKEN at \(verdict.firstBad ?? "?"): \(verdict.problem ?? "")"
                )
            }
            if verdict.intact != true { throw ExitCode(1) }
        }
    }
}
