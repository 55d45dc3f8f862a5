import AccordCalendar
import AccordMessages
import AccordRPC
import AccordSheets
import ArgumentParser
import Foundation

struct AgencyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agency",
        abstract: "Law-enforcement agencies.",
        subcommands: [Register.self, Update.self, Show.self, List.self]
    )

    struct Register: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Register an agency.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "USPS code of its State, e.g. TX.") var state: String
        @Option(help: "Its name.") var name: String
        @Option(help: "county, municipality or state-agency.") var type: String
        @Option(help: "Its county, if any.") var county: String?
        @Option(help: "Its NCIC ORI, e.g. TX2270000.") var ori: String?
        @Flag(help: "It runs a jail or correctional facility.") var jail = false
        @Option(help: "Beds in its jail.") var capacity: UInt32?
        @Option(help: "Why, for the record.") var reason: String?

        func run(_ gateway: Gateway) async throws {
            let agency = Agency(
                state: self.state,
                name: self.name,
                type: try enumValue(self.type, as: AgencyType.self, prefix: "AGENCY_TYPE_", option: "--type"),
                county: self.county,
                ori: self.ori,
                hasJail: self.jail,
                jailCapacity: self.capacity
            )
            Output.record(
                try await gateway.call(
                    IntakeMethods.registerAgency,
                    RegisterAgencyRequest(agency: agency, reason: self.reason)
                ),
                json: self.gateway.json
            )
        }
    }

    struct Update: GatewayCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an agency's fields: those given replace the stored ones; --clear empties one."
        )
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The agency id (ag_12).") var agency: String
        @Option(help: "USPS code of its State.") var state: String?
        @Option(help: "Its name.") var name: String?
        @Option(help: "county, municipality or state-agency.") var type: String?
        @Option(help: "Its county.") var county: String?
        @Option(help: "Its NCIC ORI.") var ori: String?
        @Option(help: "Whether it runs a jail or correctional facility: true or false.") var jail: Bool?
        @Option(help: "Beds in its jail.") var capacity: UInt32?
        @Option(help: "A field to empty: county, ori, has_jail or jail_capacity (repeatable).") var clear: [String] = []
        @Option(help: "Why, for the record.") var reason: String?

        func run(_ gateway: Gateway) async throws {
            let patch = Agency(
                id: self.agency,
                state: self.state,
                name: self.name,
                type: try optionalEnum(self.type, as: AgencyType.self, prefix: "AGENCY_TYPE_", option: "--type"),
                county: self.county,
                ori: self.ori,
                hasJail: self.jail,
                jailCapacity: self.capacity
            )
            Output.record(
                try await gateway.call(
                    IntakeMethods.updateAgency,
                    UpdateAgencyRequest(agency: patch, reason: self.reason, clear: self.clear)
                ),
                json: self.gateway.json
            )
        }
    }

    struct Show: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "One agency, by id or ORI.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "An agency id (ag_12) or an ORI.") var agency: String

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(IntakeMethods.getAgency, GetAgencyRequest(agency: self.agency)),
                json: self.gateway.json
            )
        }
    }

    struct List: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Agencies, with filters.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "USPS code.") var state: String?
        @Option(help: "county, municipality or state-agency.") var type: String?
        @Option(help: "County name.") var county: String?
        @Option(help: "Names starting with this.") var namePrefix: String?
        @Option(help: "At most this many.") var limit: Int?

        func run(_ gateway: Gateway) async throws {
            let type = try optionalEnum(self.type, as: AgencyType.self, prefix: "AGENCY_TYPE_", option: "--type")
            let agencies = try await gateway.all(limit: self.limit) { page in
                let response = try await gateway.call(
                    IntakeMethods.listAgencies,
                    ListAgenciesRequest(
                        state: self.state,
                        type: type,
                        county: self.county,
                        namePrefix: self.namePrefix,
                        page: page
                    )
                )
                return (response.agencies, response.page)
            }
            Output.table(
                agencies,
                columns: ["id", "state", "name", "type", "county", "ori", "has_jail"],
                json: self.gateway.json
            )
        }
    }
}

struct EngagementCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engagement",
        abstract: "Outreach to Governors and local officials.",
        subcommands: [Record.self, List.self]
    )

    struct Record: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Record an outreach contact.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "USPS code.") var state: String
        @Option(help: "The official's name.") var official: String
        @Option(help: "Their office: Governor, Sheriff, Mayor…") var office: String
        @Option(help: "YYYY-MM-DD.") var on: String
        @Option(help: "meeting, call, letter or email.") var channel: String
        @Option(help: "interested, undecided, declined or no-response.") var outcome: String
        @Option(help: "The agency concerned.") var agency: String?
        @Option(help: "Follow-up date, YYYY-MM-DD.") var followUp: String?
        @Option(help: "Notes.") var notes: String?

        func run(_ gateway: Gateway) async throws {
            let engagement = Engagement(
                state: self.state,
                officialName: self.official,
                office: self.office,
                agencyId: self.agency,
                contactedOn: self.on,
                channel: try enumValue(
                    self.channel,
                    as: EngagementChannel.self,
                    prefix: "ENGAGEMENT_CHANNEL_",
                    option: "--channel"
                ),
                outcome: try enumValue(
                    self.outcome,
                    as: EngagementOutcome.self,
                    prefix: "ENGAGEMENT_OUTCOME_",
                    option: "--outcome"
                ),
                followUpOn: self.followUp,
                notes: self.notes
            )
            Output.record(
                try await gateway.call(IntakeMethods.recordEngagement, RecordEngagementRequest(engagement: engagement)),
                json: self.gateway.json
            )
        }
    }

    struct List: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Engagements, with filters.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "USPS code.") var state: String?
        @Option(help: "interested, undecided, declined or no-response.") var outcome: String?
        @Flag(help: "Only those whose follow-up date has passed.") var overdue = false
        @Option(help: "At most this many.") var limit: Int?

        func run(_ gateway: Gateway) async throws {
            let outcome = try optionalEnum(
                self.outcome,
                as: EngagementOutcome.self,
                prefix: "ENGAGEMENT_OUTCOME_",
                option: "--outcome"
            )
            let items = try await gateway.all(limit: self.limit) { page in
                let response = try await gateway.call(
                    IntakeMethods.listEngagements,
                    ListEngagementsRequest(
                        state: self.state,
                        outcome: outcome,
                        overdueFollowUp: self.overdue,
                        page: page
                    )
                )
                return (response.engagements, response.page)
            }
            Output.table(
                items,
                columns: ["id", "state", "official_name", "office", "contacted_on", "outcome", "follow_up_on"],
                json: self.gateway.json
            )
        }
    }
}

struct RequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "Participation requests.",
        subcommands: [Submit.self, Show.self, List.self, Amend.self, Withdraw.self, Preview.self]
    )

    struct Preview: GatewayCommand {
        static let configuration = CommandConfiguration(
            abstract: "What the rules in force on a date decide for a request; changes nothing.",
            discussion: """
                Judges the request as intake has it now by the rule set in force on --as-of (the first one \
                recorded, for an earlier date), each State law from its own effective date. A later date is a \
                projection. The agency's agreements (its standing) are not judged.
                """
        )
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The request id, e.g. rq_4.") var id: String
        @Option(help: "YYYY-MM-DD; default today.") var asOf: String?

        func run(_ gateway: Gateway) async throws {
            if let asOf = self.asOf, Day(asOf) == nil {
                throw ValidationError("--as-of: \(asOf) is not a date as YYYY-MM-DD")
            }
            let preview = try await gateway.call(
                QualificationMethods.previewEvaluation,
                PreviewEvaluationRequest(requestId: self.id, asOf: self.asOf)
            )
            if self.gateway.json {
                print(preview.json.serialized(indent: 2))
                return
            }
            let verdict = preview.status == .qualified ? "QUALIFIED" : "DEFICIENT"
            print(
                "\(preview.requestId ?? self.id) revision \(preview.revision ?? 0) as of \(preview.asOf ?? "?")"
                    + "\(preview.projection == true ? " (projection)" : ""): \(verdict) by rules \(preview.rulesVersion ?? "?")"
            )
            if !preview.failed.isEmpty {
                print("\nFailed requirements")
                Output.table(preview.failed, columns: ["code", "message", "source"], json: false)
            }
            if !preview.stateLaws.isEmpty {
                print("\nState law")
                Output.table(
                    preview.stateLaws,
                    columns: ["state", "stance", "effective_on", "in_force", "citation"],
                    json: false
                )
            }
            for note in preview.notes { print("\nNote: \(note)") }
        }
    }

    struct Submit: GatewayCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit a request with the consent of a State or local official."
        )
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "The agency id.") var agency: String
        @Option(help: "JEM, WSO or TFM.") var model: String
        @Option(help: "ICE or CBP.") var partner: String
        @Option(help: "The consenting official's name.") var official: String
        @Option(help: "Their office.") var office: String
        @Option(help: "When they consented, YYYY-MM-DD.") var consentedOn: String
        @Option(help: "Expected encounters a year.") var encounters: UInt32
        @Option(help: "Detention beds.") var capacity: UInt32
        @Option(help: "Officers proposed.") var officers: UInt32
        @Option(help: "Makes a retry safe: the same key returns the first result.") var idempotencyKey: String?

        func run(_ gateway: Gateway) async throws {
            let request = ParticipationRequest(
                agencyId: self.agency,
                model: try enumValue(self.model, as: Model.self, prefix: "MODEL_", option: "--model"),
                partner: try enumValue(
                    self.partner,
                    as: FederalPartner.self,
                    prefix: "FEDERAL_PARTNER_",
                    option: "--partner"
                ),
                consent: Consent(officialName: self.official, office: self.office, signedOn: self.consentedOn),
                needs: NeedsAssessment(
                    expectedAnnualEncounters: self.encounters,
                    detentionCapacity: self.capacity,
                    officersProposed: self.officers
                )
            )
            var options = gateway.callOptions
            if let key = self.idempotencyKey { options.metadata.add(MetadataKey.idempotencyKey, key) }
            let submitted = try await gateway.client.unary(
                IntakeMethods.submitRequest,
                SubmitRequestRequest(request: request),
                options: options
            )
            Output.record(submitted, json: self.gateway.json)
        }
    }

    struct Show: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "One request with its decision.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The request id, e.g. rq_4.") var id: String

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(IntakeMethods.getRequest, GetRequestRequest(requestId: self.id)),
                json: self.gateway.json
            )
        }
    }

    struct List: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Requests, with filters.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "USPS code.") var state: String?
        @Option(help: "received, under-review, qualified, deficient, agreement-offered, signed, withdrawn, denied.")
        var status: String?
        @Option(help: "JEM, WSO or TFM.") var model: String?
        @Option(help: "ICE or CBP.") var partner: String?
        @Option(help: "The agency id.") var agency: String?
        @Option(help: "Only requests at least this many days old.") var minAgeDays: UInt32?
        @Option(help: "At most this many.") var limit: Int?

        func run(_ gateway: Gateway) async throws {
            let request = ListRequestsRequest(
                state: self.state,
                status: try optionalEnum(
                    self.status,
                    as: RequestStatus.self,
                    prefix: "REQUEST_STATUS_",
                    option: "--status"
                ),
                model: try optionalEnum(self.model, as: Model.self, prefix: "MODEL_", option: "--model"),
                partner: try optionalEnum(
                    self.partner,
                    as: FederalPartner.self,
                    prefix: "FEDERAL_PARTNER_",
                    option: "--partner"
                ),
                agencyId: self.agency,
                minAgeDays: self.minAgeDays
            )
            let items = try await gateway.all(limit: self.limit) { page in
                var paged = request
                paged.page = page
                let response = try await gateway.call(IntakeMethods.listRequests, paged)
                return (response.requests, response.page)
            }
            Output.table(
                items,
                columns: ["id", "agency_id", "model", "partner", "status", "revision", "source"],
                json: self.gateway.json
            )
        }
    }

    struct Amend: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Amend a deficient request.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The request id.") var id: String
        @Option(help: "The revision being amended (from request show).") var revision: UInt32
        @Option(help: "Expected encounters a year.") var encounters: UInt32?
        @Option(help: "Detention beds.") var capacity: UInt32?
        @Option(help: "Officers proposed.") var officers: UInt32?
        @Option(help: "Why.") var reason: String?

        func run(_ gateway: Gateway) async throws {
            var needs: NeedsAssessment?
            if self.encounters != nil || self.capacity != nil || self.officers != nil {
                needs = NeedsAssessment(
                    expectedAnnualEncounters: self.encounters,
                    detentionCapacity: self.capacity,
                    officersProposed: self.officers
                )
            }
            Output.record(
                try await gateway.call(
                    IntakeMethods.amendRequest,
                    AmendRequestRequest(requestId: self.id, revision: self.revision, needs: needs, reason: self.reason)
                ),
                json: self.gateway.json
            )
        }
    }

    struct Withdraw: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw an open request.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The request id.") var id: String
        @Option(help: "Why.") var reason: String?

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(
                    IntakeMethods.withdrawRequest,
                    WithdrawRequestRequest(requestId: self.id, reason: self.reason)
                ),
                json: self.gateway.json
            )
        }
    }
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import ICE's published lists.",
        subcommands: [IceSheet.self]
    )

    struct IceSheet: GatewayCommand {
        static let configuration = CommandConfiguration(
            commandName: "ice-sheet",
            abstract: "Import an ICE sheet (CSV): participating agencies, or pending ones with --pending.",
            discussion: """
                Rows go in chunks of 1,000; every row that cannot be taken is listed with its line and reason, \
                and the others are imported. A row that is not UTF-8, holds a NUL character or is longer than \
                \(ICESheet.maxRowBytes) bytes cannot be read, and is listed so.
                """
        )
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The CSV file.") var file: String
        @Flag(help: "A list of pending agencies (default: participating).") var pending = false
        @Option(help: "Names the sheet in the records; default the file name.") var sheet: String?

        func run(_ gateway: Gateway) async throws {
            guard let data = FileManager.default.contents(atPath: self.file) else {
                throw ValidationError("cannot read \(self.file)")
            }
            let reading: ICESheet.Reading
            do {
                reading = try ICESheet.read(csv: [UInt8](data))
            } catch {
                throw ValidationError("\(self.file): \(error)")
            }
            let rows = reading.rows
            guard !rows.isEmpty || !reading.refused.isEmpty else {
                throw ValidationError("\(self.file): no rows: the file holds the header and nothing else")
            }
            let name = self.sheet ?? URL(fileURLWithPath: self.file).deletingPathExtension().lastPathComponent
            let terminal = isatty(STDERR_FILENO) != 0 && !self.gateway.json
            // Rows that could not be read are counted and listed beside those intake refuses.
            let unreadable = UInt32(reading.refused.count)
            var total = ImportSheetResponse(
                read: unreadable,
                imported: 0,
                unchanged: 0,
                rejected: unreadable,
                rejections: reading.refused.map { RowRejection(line: $0.line, reason: $0.reason) }
            )
            var sent = 0
            for start in stride(from: 0, to: rows.count, by: 1000) {
                let chunk = Array(rows[start..<min(start + 1000, rows.count)])
                let result = try await gateway.call(
                    IntakeMethods.importSheet,
                    ImportSheetRequest(kind: self.pending ? .pending : .participating, sheet: name, rows: chunk)
                )
                total.read! += result.read ?? 0
                total.imported! += result.imported ?? 0
                total.unchanged! += result.unchanged ?? 0
                total.rejected! += result.rejected ?? 0
                total.rejections += result.rejections
                sent += chunk.count
                if terminal {
                    let width = 30
                    let filled = rows.isEmpty ? width : width * sent / rows.count
                    FileHandle.standardError.write(
                        "\r[\(String(repeating: "#", count: filled))\(String(repeating: " ", count: width - filled))] \(sent)/\(rows.count) rows"
                            .data(using: .utf8)!
                    )
                }
            }
            if terminal { FileHandle.standardError.write("\n".data(using: .utf8)!) }
            total.rejections.sort { ($0.line ?? 0) < ($1.line ?? 0) }
            if self.gateway.json {
                let rejections = JSONValue.array(
                    total.rejections.map { .object([("line", .of($0.line ?? 0)), ("reason", .of($0.reason ?? ""))]) }
                )
                let summary = JSONValue.object([
                    ("read", .of(total.read ?? 0)), ("imported", .of(total.imported ?? 0)),
                    ("unchanged", .of(total.unchanged ?? 0)), ("rejected", .of(total.rejected ?? 0)),
                    ("rejections", rejections),
                ])
                print(summary.serialized(indent: 2))
                return
            }
            print(
                "\(name): \(total.read ?? 0) rows read, \(total.imported ?? 0) imported, \(total.unchanged ?? 0) unchanged, \(total.rejected ?? 0) rejected"
            )
            for rejection in total.rejections {
                print("  line \(rejection.line ?? 0): \(rejection.reason ?? "")")
            }
        }
    }
}
