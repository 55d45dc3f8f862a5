import AccordMessages
import ArgumentParser
import Foundation

struct OfficerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "officer",
        abstract: "Officers: nomination, vetting, training, certification.",
        subcommands: [
            Nominate.self, Show.self, List.self, Background.self, Enroll.self, Exam.self, Complete.self, Certify.self,
            OfficerFlag.self, OfficerTraining.self,
        ]
    )

    static let columns = ["id", "agency_id", "model", "name", "status", "background", "certified_on"]

    struct Nominate: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Nominate an officer of an agency for a model.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "The agency id.") var agency: String
        @Option(help: "JEM, WSO or TFM.") var model: String
        @Option(help: "The officer's name.") var name: String
        @Flag(help: "A U.S. citizen.") var citizen = false
        @Option(help: "Sworn since, YYYY-MM-DD.") var swornSince: String?
        @Flag(help: "Holds a security clearance.") var clearance = false
        @Option(help: "The rejected nominee this one replaces.") var substitutes: String?

        func run(_ gateway: Gateway) async throws {
            let officer = Officer(
                agencyId: self.agency,
                model: try enumValue(self.model, as: Model.self, prefix: "MODEL_", option: "--model"),
                name: self.name,
                usCitizen: self.citizen,
                swornSince: self.swornSince,
                securityClearance: self.clearance
            )
            Output.record(
                try await gateway.call(
                    QualificationMethods.nominateOfficer,
                    NominateOfficerRequest(officer: officer, substitutes: self.substitutes)
                ),
                json: self.gateway.json
            )
        }
    }

    struct Show: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "One officer.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The officer id, e.g. of_3.") var id: String

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(QualificationMethods.getOfficer, GetOfficerRequest(officerId: self.id)),
                json: self.gateway.json
            )
        }
    }

    struct List: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Officers, with filters.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "The agency id.") var agency: String?
        @Option(help: "nominated, certified, disqualified or substituted.") var status: String?
        @Option(help: "At most this many.") var limit: Int?

        func run(_ gateway: Gateway) async throws {
            let status = try optionalEnum(
                self.status,
                as: OfficerStatus.self,
                prefix: "OFFICER_STATUS_",
                option: "--status"
            )
            let items = try await gateway.all(limit: self.limit) { page in
                let response = try await gateway.call(
                    QualificationMethods.listOfficers,
                    ListOfficersRequest(agencyId: self.agency, status: status, page: page)
                )
                return (response.officers, response.page)
            }
            Output.table(items, columns: OfficerCommand.columns, json: self.gateway.json)
        }
    }

    struct Background: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Record a background investigation's result.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The officer id.") var id: String
        @Option(help: "favorable or unfavorable.") var result: String
        @Option(help: "Completed on, YYYY-MM-DD.") var on: String
        @Option(help: "A disqualifying finding (repeat for more).") var finding: [String] = []

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(
                    QualificationMethods.recordBackground,
                    RecordBackgroundRequest(
                        officerId: self.id,
                        result: try enumValue(
                            self.result,
                            as: BackgroundResult.self,
                            prefix: "BACKGROUND_RESULT_",
                            option: "--result"
                        ),
                        completedOn: self.on,
                        disqualifyingFindings: self.finding
                    )
                ),
                json: self.gateway.json
            )
        }
    }

    struct Enroll: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Enroll an officer in the model's course.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The officer id.") var id: String

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(QualificationMethods.enrollOfficer, EnrollOfficerRequest(officerId: self.id)),
                json: self.gateway.json
            )
        }
    }

    struct Exam: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Record an exam attempt.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The officer id.") var id: String
        @Option(help: "The exam, e.g. module-1 or final.") var exam: String
        @Option(help: "Score in percent.") var score: UInt32
        @Option(help: "Taken on, YYYY-MM-DD.") var on: String

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(
                    QualificationMethods.recordExamAttempt,
                    RecordExamAttemptRequest(officerId: self.id, exam: self.exam, score: self.score, takenOn: self.on)
                ),
                json: self.gateway.json
            )
        }
    }

    struct Complete: GatewayCommand {
        static let configuration = CommandConfiguration(
            abstract: "Complete an officer's course: every exam passed and the course's hours attended."
        )
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The officer id.") var id: String
        @Option(help: "Hours attended (the course needs: JEM 160, WSO 8, TFM 40).") var hours: UInt32
        @Option(help: "Completed on, YYYY-MM-DD.") var on: String

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(
                    QualificationMethods.completeCourse,
                    CompleteCourseRequest(officerId: self.id, completedOn: self.on, hours: self.hours)
                ),
                json: self.gateway.json
            )
        }
    }

    struct Certify: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Certify an officer when every requirement holds.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The officer id.") var id: String
        @Option(
            help: """
                A certification made before it was recorded here: its date (YYYY-MM-DD; needs --reason), judged \
                by the rules in force then. Default today.
                """
        )
        var on: String?
        @Option(help: "Why, for the record.") var reason: String?

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(
                    QualificationMethods.certifyOfficer,
                    CertifyOfficerRequest(officerId: self.id, certifiedOn: self.on, reason: self.reason)
                ),
                json: self.gateway.json
            )
        }
    }
}

struct Compliance: GatewayCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recurring-training status of certified officers as of a date."
    )
    @OptionGroup var gateway: GatewayOptions
    @Option(help: "YYYY-MM-DD; default today.") var asOf: String?
    @Option(help: "The agency id.") var agency: String?
    @Flag(help: "Only officers that are not current.") var exceptions = false

    func run(_ gateway: Gateway) async throws {
        let compliance = try await gateway.call(
            QualificationMethods.getCompliance,
            GetComplianceRequest(asOf: self.asOf, agencyId: self.agency, exceptionsOnly: self.exceptions)
        )
        if self.gateway.json {
            Output.record(compliance, json: true)
            return
        }
        if compliance.simulatedClock == true { print(Output.simulatedBanner(now: nil)) }
        if compliance.projection == true {
            print("PROJECTION: training as it will stand on \(compliance.asOf ?? "") if nothing more is recorded")
        }
        print(
            "as of \(compliance.asOf ?? ""): \(compliance.certifiedOfficers ?? 0) certified, \(compliance.current ?? 0) current, "
                + "\(compliance.dueSoon ?? 0) due soon, \(compliance.overdue ?? 0) overdue (rules \(compliance.rulesVersion ?? ""))"
        )
        Output.table(compliance.officers, columns: ["officer_id", "agency_id", "model", "status"], json: false)
    }
}
