import AccordMessages
import ArgumentParser
import Foundation

/// The rest of the workflows: officers' complaint flags and recurring training, rule sets,
/// evaluations and model recommendation, addenda, reviews and meetings, authorizations,
/// charging documents, the audit trail's entries.
struct OfficerFlag: GatewayCommand {
    static let configuration = CommandConfiguration(
        commandName: "complaint-flag",
        abstract: "Flag (or clear) a pending complaint that may lead to discipline."
    )
    @OptionGroup var gateway: GatewayOptions
    @Argument(help: "The officer id.") var id: String
    @Flag(help: "Clear the flag instead of setting it.") var clear = false
    @Option(help: "Why.") var reason: String

    func run(_ gateway: Gateway) async throws {
        Output.record(
            try await gateway.call(
                QualificationMethods.setComplaintFlag,
                SetComplaintFlagRequest(officerId: self.id, pending: !self.clear, reason: self.reason)
            ),
            json: self.gateway.json
        )
    }
}

struct OfficerTraining: GatewayCommand {
    static let configuration = CommandConfiguration(
        commandName: "training",
        abstract: "Record a completed recurring course (e.g. \"Systems access\")."
    )
    @OptionGroup var gateway: GatewayOptions
    @Argument(help: "The officer id.") var id: String
    @Option(help: "The course, as the rule set names it.") var course: String
    @Option(help: "Completed on, YYYY-MM-DD.") var on: String

    func run(_ gateway: Gateway) async throws {
        Output.record(
            try await gateway.call(
                QualificationMethods.recordRecurringTraining,
                RecordRecurringTrainingRequest(officerId: self.id, course: self.course, completedOn: self.on)
            ),
            json: self.gateway.json
        )
    }
}

struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Qualification's rule sets: one program-office principal proposes, another approves.",
        subcommands: [Show.self, Publish.self, Approve.self]
    )

    struct Show: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "The rule set in force.")
        @OptionGroup var gateway: GatewayOptions

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(QualificationMethods.getRules, GetRulesRequest()),
                json: self.gateway.json
            )
        }
    }

    struct Publish: GatewayCommand {
        static let configuration = CommandConfiguration(
            abstract: "Propose a new rule set (its program.json version must be new).",
            discussion: """
                The set is checked now and kept as a proposal; it applies from the moment another \
                program-office principal approves it with `accord rules approve VERSION`.
                """
        )
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "program.json of the new set.") var program: String
        @Option(help: "The State-law table (CSV).") var stateLaw: String
        @Option(help: "Why, for the record.") var reason: String

        func run(_ gateway: Gateway) async throws {
            guard let program = FileManager.default.contents(atPath: self.program) else {
                throw ValidationError("cannot read \(self.program)")
            }
            guard let table = FileManager.default.contents(atPath: self.stateLaw) else {
                throw ValidationError("cannot read \(self.stateLaw)")
            }
            Output.record(
                try await gateway.call(
                    QualificationMethods.publishRules,
                    PublishRulesRequest(
                        programJson: String(decoding: program, as: UTF8.self),
                        stateLawCsv: String(decoding: table, as: UTF8.self),
                        reason: self.reason
                    )
                ),
                json: self.gateway.json
            )
        }
    }

    struct Approve: GatewayCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a proposed rule set (proposed by someone else); it applies from now on."
        )
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The proposed version, as `accord rules publish` printed it.") var version: String
        @Option(help: "Why, for the record.") var reason: String

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(
                    QualificationMethods.approveRules,
                    ApproveRulesRequest(version: self.version, reason: self.reason)
                ),
                json: self.gateway.json
            )
        }
    }
}

struct Evaluation: GatewayCommand {
    static let configuration = CommandConfiguration(
        abstract: "Qualification's evaluation of a request, with every failed requirement."
    )
    @OptionGroup var gateway: GatewayOptions
    @Argument(help: "The request id.") var request: String
    @Option(help: "A revision; default the latest evaluated.") var revision: UInt32?

    func run(_ gateway: Gateway) async throws {
        let evaluation = try await gateway.call(
            QualificationMethods.getEvaluation,
            GetEvaluationRequest(requestId: self.request, revision: self.revision)
        )
        if self.gateway.json {
            Output.record(evaluation, json: true)
            return
        }
        print(
            "\(evaluation.requestId ?? "") revision \(evaluation.revision ?? 0): \(Output.short(.of(evaluation.status ?? .unspecified))) "
                + "on \(evaluation.decidedOn ?? "") under rules \(evaluation.rulesVersion ?? "")"
        )
        Output.table(evaluation.failed, columns: ["code", "message", "source"], json: false)
    }
}

struct Recommend: GatewayCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rank the three models for an agency (EO 13768 section 8(c))."
    )
    @OptionGroup var gateway: GatewayOptions
    @Argument(help: "An agency id or ORI.") var agency: String
    @Option(help: "Expected encounters a year.") var encounters: UInt32?
    @Option(help: "Officers available.") var officers: UInt32?
    @Option(help: "The model asked for, to be told whether it is the best fit.") var model: String?

    func run(_ gateway: Gateway) async throws {
        let agency = try await gateway.call(IntakeMethods.getAgency, GetAgencyRequest(agency: self.agency))
        let recommendation = try await gateway.call(
            QualificationMethods.recommendModel,
            RecommendModelRequest(
                agency: agency,
                needs: NeedsAssessment(expectedAnnualEncounters: self.encounters, officersProposed: self.officers),
                requested: try optionalEnum(self.model, as: Model.self, prefix: "MODEL_", option: "--model")
            )
        )
        if self.gateway.json {
            Output.record(recommendation, json: true)
            return
        }
        Output.table(recommendation.ranking, columns: ["model", "score", "reasons"], json: false)
        if let note = recommendation.requestedNote { print(note) }
    }
}

struct AgreementAddendum: GatewayCommand {
    static let configuration = CommandConfiguration(
        commandName: "addendum",
        abstract: "Add an addendum to an agreement."
    )
    @OptionGroup var gateway: GatewayOptions
    @Argument(help: "The agreement id.") var id: String
    @Option(help: "Its title.") var title: String
    @Option(help: "Where it is published.") var link: String?
    @Option(help: "Signed on, YYYY-MM-DD.") var on: String

    func run(_ gateway: Gateway) async throws {
        Output.record(
            try await gateway.call(
                SupervisionMethods.addAddendum,
                AddAddendumRequest(
                    agreementId: self.id,
                    addendum: Addendum(title: self.title, link: self.link, signedOn: self.on)
                )
            ),
            json: self.gateway.json
        )
    }
}

struct AgreementReview: GatewayCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Record the three-yearly review: the next one falls due three years on."
    )
    @OptionGroup var gateway: GatewayOptions
    @Argument(help: "The agreement id.") var id: String
    @Option(help: "YYYY-MM-DD; default today.") var on: String?
    @Option(help: "Notes.") var reason: String?

    func run(_ gateway: Gateway) async throws {
        Output.record(
            try await gateway.call(
                SupervisionMethods.recordReview,
                RecordReviewRequest(agreementId: self.id, reviewedOn: self.on, reason: self.reason)
            ),
            json: self.gateway.json
        )
    }
}

struct MeetingCommand: GatewayCommand {
    static let configuration = CommandConfiguration(
        commandName: "meeting",
        abstract: "Record a meeting of the field office and the agency (yearly, or the first review)."
    )
    @OptionGroup var gateway: GatewayOptions
    @Option(help: "The agreement id.") var agreement: String
    @Option(help: "yearly or first-review.") var kind: String
    @Option(help: "YYYY-MM-DD; default today.") var on: String?
    @Option(help: "Notes.") var notes: String?

    func run(_ gateway: Gateway) async throws {
        Output.record(
            try await gateway.call(
                SupervisionMethods.recordMeeting,
                RecordMeetingRequest(
                    agreementId: self.agreement,
                    kind: try enumValue(self.kind, as: MeetingKind.self, prefix: "MEETING_KIND_", option: "--kind"),
                    heldOn: self.on,
                    notes: self.notes
                )
            ),
            json: self.gateway.json
        )
    }
}

struct AuthorizationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authorization",
        abstract: "Officers' authority: show, list, suspend, resume, revoke, TFM detainer categories.",
        subcommands: [Show.self, List.self, Suspend.self, Resume.self, Revoke.self, Categories.self]
    )

    static let columns = ["id", "officer_id", "agency_id", "agreement_id", "model", "status", "supervisor_id"]

    struct Show: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "One authorization, or an officer's latest.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "An authorization id (az_3) or an officer id.") var id: String

        func run(_ gateway: Gateway) async throws {
            let request =
                self.id.hasPrefix("az_")
                ? GetAuthorizationRequest(authorizationId: self.id) : GetAuthorizationRequest(officerId: self.id)
            Output.record(try await gateway.call(SupervisionMethods.getAuthorization, request), json: self.gateway.json)
        }
    }

    struct List: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Authorizations, with filters.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "The agreement id.") var agreement: String?
        @Option(help: "The agency id.") var agency: String?
        @Option(help: "active, suspended, revoked or expired.") var status: String?
        @Option(help: "At most this many.") var limit: Int?
        @Option(help: "As it stood at the end of this day (YYYY-MM-DD) or at an ISO 8601 time; default now.")
        var asOf: String?

        func run(_ gateway: Gateway) async throws {
            let status = try optionalEnum(
                self.status,
                as: AuthorizationStatus.self,
                prefix: "AUTHORIZATION_STATUS_",
                option: "--status"
            )
            let moment = try await gateway.moment(ifGiven: self.asOf, option: "--as-of", endOfDay: true)
            let items = try await gateway.all(limit: self.limit) { page in
                let response = try await gateway.call(
                    SupervisionMethods.listAuthorizations,
                    ListAuthorizationsRequest(
                        agreementId: self.agreement,
                        agencyId: self.agency,
                        status: status,
                        page: page,
                        asOfMs: moment
                    )
                )
                return (response.authorizations, response.page)
            }
            Output.table(items, columns: AuthorizationCommand.columns, json: self.gateway.json)
        }
    }

    static func suspend(_ gateway: Gateway, _ id: String, _ suspend: Bool, _ reason: String) async throws {
        Output.record(
            try await gateway.call(
                SupervisionMethods.suspendAuthorization,
                SuspendAuthorizationRequest(authorizationId: id, suspend: suspend, reason: reason)
            ),
            json: gateway.options.json
        )
    }

    struct Suspend: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Suspend an officer's authority.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The authorization id.") var id: String
        @Option(help: "Why.") var reason: String

        func run(_ gateway: Gateway) async throws {
            try await AuthorizationCommand.suspend(gateway, self.id, true, self.reason)
        }
    }

    struct Resume: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Lift a suspension you made.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The authorization id.") var id: String
        @Option(help: "Why.") var reason: String

        func run(_ gateway: Gateway) async throws {
            try await AuthorizationCommand.suspend(gateway, self.id, false, self.reason)
        }
    }

    struct Revoke: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an officer's authority.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The authorization id.") var id: String
        @Option(help: "Why.") var reason: String

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(
                    SupervisionMethods.revokeAuthorization,
                    RevokeAuthorizationRequest(authorizationId: self.id, reason: self.reason)
                ),
                json: self.gateway.json
            )
        }
    }

    struct Categories: GatewayCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the detainer categories a TFM officer may issue."
        )
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The authorization id.") var id: String
        @Option(help: "A category (repeat for more; none clears them).") var category: [String] = []
        @Option(help: "Why.") var reason: String?

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(
                    SupervisionMethods.setDetainerCategories,
                    SetDetainerCategoriesRequest(
                        authorizationId: self.id,
                        categories: self.category,
                        reason: self.reason
                    )
                ),
                json: self.gateway.json
            )
        }
    }
}

struct ActionShow: GatewayCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One delegated action.")
    @OptionGroup var gateway: GatewayOptions
    @Argument(help: "The action id.") var id: String

    func run(_ gateway: Gateway) async throws {
        Output.record(
            try await gateway.call(SupervisionMethods.getAction, GetActionRequest(actionId: self.id)),
            json: self.gateway.json
        )
    }
}

struct ActionSign: GatewayCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a charging document as the federal officer: it stops being a draft."
    )
    @OptionGroup var gateway: GatewayOptions
    @Argument(help: "The action id.") var id: String
    @Option(help: "The federal officer who signs.") var by: String

    func run(_ gateway: Gateway) async throws {
        Output.record(
            try await gateway.call(
                SupervisionMethods.signChargingDocument,
                SignChargingDocumentRequest(actionId: self.id, signedBy: self.by)
            ),
            json: self.gateway.json
        )
    }
}

struct InspectionList: GatewayCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Inspections, with filters.")
    @OptionGroup var gateway: GatewayOptions
    @Option(help: "The agreement id.") var agreement: String?
    @Option(help: "scheduled, findings or closed.") var status: String?
    @Option(help: "At most this many.") var limit: Int?

    func run(_ gateway: Gateway) async throws {
        let status = try optionalEnum(
            self.status,
            as: InspectionStatus.self,
            prefix: "INSPECTION_STATUS_",
            option: "--status"
        )
        let items = try await gateway.all(limit: self.limit) { page in
            let response = try await gateway.call(
                SupervisionMethods.listInspections,
                ListInspectionsRequest(agreementId: self.agreement, status: status, page: page)
            )
            return (response.inspections, response.page)
        }
        Output.table(
            items,
            columns: ["id", "agreement_id", "scheduled_on", "status", "findings", "closed_on"],
            json: self.gateway.json
        )
    }
}

struct AuditList: GatewayCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Entries of the audit trail.",
        discussion: """
            AT is when the change was recorded; HAPPENED_AT, for a fact recorded after it happened (a backdated \
            certification or authorization, an action or complaint reported later), when it happened.
            """
    )
    @OptionGroup var gateway: GatewayOptions
    @Option(help: "A table, e.g. agreement or action.") var entity: String?
    @Option(help: "A record, e.g. mo_3.") var id: String?
    @Option(help: "At most this many.") var limit: Int?

    func run(_ gateway: Gateway) async throws {
        let items = try await gateway.all(limit: self.limit) { page in
            let response = try await gateway.call(
                SupervisionMethods.listAudit,
                ListAuditRequest(entity: self.entity, entityId: self.id, page: page)
            )
            return (response.entries, response.page)
        }
        Output.table(
            items,
            columns: ["sequence", "at_ms", "happened_at_ms", "who", "entity", "entity_id", "action", "why"],
            json: self.gateway.json
        )
    }
}
