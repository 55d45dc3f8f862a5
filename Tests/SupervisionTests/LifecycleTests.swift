import AccordCalendar
import AccordMessages
import AccordRPC
import Testing

@testable import Supervision

@Suite("Agreements, authority and deadlines over time", .timeLimit(.minutes(1)))
struct LifecycleTests {
    @Test("supervision is checked as of the action: one from before the supervisor was assigned is refused")
    func supervisorAsOfTheAction() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world(supervise: false)
        let unsupervised = h.clock.now + 5 * 60_000
        h.clock.advance(minutes: 10)
        _ = try await h.call(
            SupervisionMethods.assignSupervisor,
            AssignSupervisorRequest(supervisorId: world.supervisor, agreementId: world.agreements[.jem])
        )
        h.clock.advance(minutes: 1)
        let officer = try #require(world.officers[.jem])
        let early = await h.actionCode(officer, .detainer, .jail, at: unsupervised)
        #expect(early?.code == .failedPrecondition && early?.errorDetails?.reason == "NO_SUPERVISOR")
        #expect(await h.actionCode(officer, .detainer, .jail) == nil)
        // The report as of each moment names the agreements with officers and no supervisor then.
        func unsupervisedAt(_ moment: Int64) async throws -> Set<String> {
            Set(
                try await h.call(SupervisionMethods.getProgramReport, ProgramReportRequest(asOfMs: moment))
                    .agreementsWithoutSupervisor
            )
        }
        let all = Set(world.agreements.values)
        #expect(try await unsupervisedAt(unsupervised) == all)
        #expect(try await unsupervisedAt(h.clock.now) == all.subtracting([world.agreements[.jem]!]))
        // The assignment history is in the audit trail like every other record.
        let verdict = try await h.call(SupervisionMethods.verifyAudit, VerifyAuditRequest(), as: "auditor")
        #expect(verdict.intact == true, "\(verdict.problem ?? "")")
    }

    @Test("the report as of a moment before a renewal counts the officers under the agreement they were under then")
    func reportBeforeRenewal() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world(supervise: false)
        let old = try #require(world.agreements[.jem])
        let before = h.clock.now + 5 * 60_000
        h.clock.advance(minutes: 10)
        let renewal = try await h.call(
            SupervisionMethods.renewAgreement,
            RenewAgreementRequest(agreementId: old, office: "ERO Houston")
        )
        _ = try await h.call(
            SupervisionMethods.signAgreement,
            SignAgreementRequest(agreementId: renewal.id, party: .agency, signedBy: "Sheriff"),
            as: "agency:ag_1"
        )
        _ = try await h.call(
            SupervisionMethods.signAgreement,
            SignAgreementRequest(agreementId: renewal.id, party: .federal, signedBy: "ERO Field Office Director")
        )
        h.clock.advance(minutes: 1)
        func unsupervised(at moment: Int64) async throws -> Set<String> {
            Set(
                try await h.call(SupervisionMethods.getProgramReport, ProgramReportRequest(asOfMs: moment))
                    .agreementsWithoutSupervisor
            )
        }
        // Then: the old agreement held the officer; now the renewal does.
        #expect(try await unsupervised(at: before).contains(old))
        let now = try await unsupervised(at: h.clock.now)
        #expect(now.contains(renewal.id!) && !now.contains(old))
    }

    @Test("lapsed TFM authority is listed as expired, not as active")
    func lapsedAuthorityInLists() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world()
        func listed(_ status: AuthorizationStatus) async throws -> Set<String> {
            let page = try await h.call(
                SupervisionMethods.listAuthorizations,
                ListAuthorizationsRequest(agencyId: "ag_1", status: status)
            )
            #expect(page.authorizations.allSatisfy { $0.status == status })
            return Set(page.authorizations.compactMap(\.id))
        }
        let all = Set(world.authorizations.values)
        #expect(try await listed(.active) == all)
        #expect(try await listed(.expired).isEmpty)
        h.clock.advance(days: 731)
        let tfm = try #require(world.authorizations[.tfm])
        #expect(try await listed(.active) == all.subtracting([tfm]))
        #expect(try await listed(.expired) == [tfm])
    }

    @Test("suspending an agreement revokes every authorization under it at once; later actions are refused")
    func suspensionCascade() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world()
        let jem = world.agreements[.jem]!
        let before = h.clock.now
        h.clock.advance(minutes: 10)
        let suspended = try await h.call(
            SupervisionMethods.suspendAgreement,
            SuspendAgreementRequest(
                agreementId: jem,
                reason: "terms not followed",
                days: 30,
                response: "written reply in 10 days"
            )
        )
        #expect(suspended.status == .suspended)
        let authorization = try await h.call(
            SupervisionMethods.getAuthorization,
            GetAuthorizationRequest(authorizationId: world.authorizations[.jem])
        )
        #expect(authorization.status == .revoked)
        #expect(authorization.revokedBecause?.contains("suspended") == true)
        // The other models' authority is untouched.
        let tfm = try await h.call(
            SupervisionMethods.getAuthorization,
            GetAuthorizationRequest(authorizationId: world.authorizations[.tfm])
        )
        #expect(tfm.status == .active)
        h.clock.advance(minutes: 1)
        let after = await h.actionCode(world.officers[.jem]!, .detainer, .jail)
        #expect(after?.code == .failedPrecondition)
        #expect(after?.errorDetails?.reason == "AGREEMENT_NOT_ACTIVE")
        // An action performed before the suspension, reported afterwards, was within authority.
        #expect(await h.actionCode(world.officers[.jem]!, .detainer, .jail, at: before) == nil)
        // Reinstatement does not bring back revoked authority.
        _ = try await h.call(
            SupervisionMethods.reinstateAgreement,
            ReinstateAgreementRequest(agreementId: jem, reason: "corrected")
        )
        h.clock.advance(minutes: 1)
        let reinstated = await h.actionCode(world.officers[.jem]!, .detainer, .jail)
        #expect(reinstated?.errorDetails?.reason == "AUTHORIZATION_REVOKED")
        // The rejected attempts were recorded as rejected.
        let rejected = try await h.call(
            SupervisionMethods.listActions,
            ListActionsRequest(officerId: world.officers[.jem], decision: .rejected)
        )
        #expect(rejected.actions.count == 2)
    }

    @Test("termination takes effect 90 days after notice: day 89 accepted, day 90 refused, then revoked")
    func terminationClock() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world()
        let tfm = world.agreements[.tfm]!
        let noticed = try await h.call(
            SupervisionMethods.noticeTermination,
            NoticeTerminationRequest(agreementId: tfm, reason: "agency withdrew")
        )
        let today = Day(unixMilliseconds: h.clock.now)
        #expect(noticed.status == .terminationNoticed)
        #expect(noticed.terminationEffectiveOn == today.adding(90).description)
        h.clock.set(today.adding(89).startMilliseconds + 3_600_000)
        #expect(await h.actionCode(world.officers[.tfm]!, .warrantlessArrest, .field) == nil)
        #expect(try await h.service.applyDueTerminations() == 0)
        h.clock.set(today.adding(90).startMilliseconds + 60_000)
        // Refused from the effective date even before the clock has run.
        let late = await h.actionCode(world.officers[.tfm]!, .warrantlessArrest, .field)
        #expect(late?.errorDetails?.reason == "AGREEMENT_NOT_ACTIVE")
        #expect(try await h.service.applyDueTerminations() == 1)
        let ended = try await h.call(SupervisionMethods.getAgreement, GetAgreementRequest(agreementId: tfm))
        #expect(ended.status == .terminated)
        let authorization = try await h.call(
            SupervisionMethods.getAuthorization,
            GetAuthorizationRequest(authorizationId: world.authorizations[.tfm])
        )
        #expect(authorization.status == .revoked)
        // A report as of the day before still shows it in force.
        let report = try await h.call(
            SupervisionMethods.getProgramReport,
            ProgramReportRequest(asOfMs: today.adding(89).startMilliseconds)
        )
        #expect(report.agreements.contains { $0.model == .tfm && $0.status == .terminationNoticed && $0.count == 1 })
        let now = try await h.call(SupervisionMethods.getProgramReport, ProgramReportRequest())
        #expect(now.agreements.contains { $0.model == .tfm && $0.status == .terminated && $0.count == 1 })
    }

    @Test("TFM authority lapses after two years: 729 days accepted, 2 years and 1 day refused; JEM does not lapse")
    func tfmExpiry() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world()
        let granted = h.clock.now
        h.clock.set(granted + 729 * 86_400_000)
        #expect(await h.actionCode(world.officers[.tfm]!, .interview, .field) == nil)
        h.clock.set(granted + 731 * 86_400_000)
        let expired = await h.actionCode(world.officers[.tfm]!, .interview, .field)
        #expect(expired?.code == .permissionDenied)
        #expect(expired?.errorDetails?.reason == "AUTHORIZATION_EXPIRED")
        let shown = try await h.call(
            SupervisionMethods.getAuthorization,
            GetAuthorizationRequest(officerId: world.officers[.tfm])
        )
        #expect(shown.status == .expired)
        #expect(await h.actionCode(world.officers[.jem]!, .interview, .jail) == nil)
    }

    @Test("notification deadlines: detainer 24 h, citizenship claim 1 h, WSO warrant at once")
    func deadlines() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world()
        h.clock.advance(days: 3)
        let now = h.clock.now
        let onTime = try await h.act(world.officers[.jem]!, .detainer, .jail, at: now - 23 * 3_600_000)
        #expect(onTime.late == false && onTime.notifyByMs == now + 3_600_000)
        let late = try await h.act(world.officers[.jem]!, .detainer, .jail, at: now - 25 * 3_600_000)
        #expect(late.late == true)
        let claim = try await h.act(
            world.officers[.tfm]!,
            .interview,
            .field,
            at: now - 61 * 60_000,
            citizenshipClaimed: true
        )
        #expect(claim.late == true)
        let claimOnTime = try await h.act(
            world.officers[.tfm]!,
            .interview,
            .field,
            at: now - 30 * 60_000,
            citizenshipClaimed: true
        )
        #expect(claimOnTime.late == false)
        let warrant = try await h.act(world.officers[.wso]!, .arrestWarrant, .jail, at: now - 10 * 60_000)
        #expect(warrant.late == true)
        let atOnce = try await h.act(world.officers[.wso]!, .arrestWarrant, .release, at: now - 60_000)
        #expect(atOnce.late == false)
        let transport = try await h.act(world.officers[.wso]!, .transport, .field, at: now - 3 * 86_400_000 + 60_000)
        #expect(transport.notifyByMs == nil && transport.late == false)
        let lateOnes = try await h.call(SupervisionMethods.listActions, ListActionsRequest(lateOnly: true))
        #expect(Set(lateOnes.actions.map(\.id)) == Set([late.id, claim.id, warrant.id]))
        let report = try await h.call(SupervisionMethods.getProgramReport, ProgramReportRequest())
        #expect(report.notificationsLate == 3)
    }

    @Test("review queue: only the assigned supervisor reviews; charging documents stay drafts until signed")
    func review() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world()
        let other = try await h.call(
            SupervisionMethods.createSupervisor,
            CreateSupervisorRequest(supervisor: Supervisor(name: "Lee Park", component: .ice, office: "ERO Dallas"))
        )
        let action = try await h.act(world.officers[.tfm]!, .chargingDocument, .field)
        #expect(action.review == .pending && action.draft == true && action.supervisorId == world.supervisor)
        let stranger = await h.code(
            SupervisionMethods.reviewAction,
            ReviewActionRequest(actionId: action.id, review: .approved),
            as: "supervisor:\(other.id!)"
        )
        #expect(stranger?.code == .permissionDenied)
        let byOffice = await h.code(
            SupervisionMethods.reviewAction,
            ReviewActionRequest(actionId: action.id, review: .approved)
        )
        #expect(byOffice?.code == .permissionDenied)
        let noReason = await h.code(
            SupervisionMethods.reviewAction,
            ReviewActionRequest(actionId: action.id, review: .returned),
            as: "supervisor:\(world.supervisor)"
        )
        #expect(noReason?.code == .invalidArgument && noReason?.message.hasPrefix("reason") == true)
        let returned = try await h.call(
            SupervisionMethods.reviewAction,
            ReviewActionRequest(actionId: action.id, review: .returned, reason: "add the A-number"),
            as: "supervisor:\(world.supervisor)"
        )
        #expect(returned.review == .returned)
        let approved = try await h.call(
            SupervisionMethods.reviewAction,
            ReviewActionRequest(actionId: action.id, review: .approved),
            as: "supervisor:\(world.supervisor)"
        )
        #expect(approved.review == .approved && approved.draft == true)
        let signed = try await h.call(
            SupervisionMethods.signChargingDocument,
            SignChargingDocumentRequest(actionId: action.id, signedBy: "SDDO J. Alvarez"),
            as: "supervisor:\(world.supervisor)"
        )
        #expect(signed.draft == false && signed.signedBy == "SDDO J. Alvarez")
        let twice = await h.code(
            SupervisionMethods.signChargingDocument,
            SignChargingDocumentRequest(actionId: action.id, signedBy: "x"),
            as: "supervisor:\(world.supervisor)"
        )
        #expect(twice?.code == .failedPrecondition)
        // The supervisor's queue shows only their actions.
        let queue = try await h.call(
            SupervisionMethods.listActions,
            ListActionsRequest(review: .pending),
            as: "supervisor:\(other.id!)"
        )
        #expect(queue.actions.isEmpty)
    }

    @Test("no supervisor assigned: an action is refused; an agreement with officers and no supervisor is an exception")
    func noSupervisor() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let signed = Day(unixMilliseconds: h.clock.now).adding(-30).description
        let agreement = try await h.call(
            SupervisionMethods.importAgreement,
            ImportAgreementRequest(
                agencyId: "ag_9",
                agencyName: "Collier County",
                state: "FL",
                model: .jem,
                signedOn: signed
            )
        )
        let again = try await h.call(
            SupervisionMethods.importAgreement,
            ImportAgreementRequest(
                agencyId: "ag_9",
                agencyName: "Collier County",
                state: "FL",
                model: .jem,
                signedOn: signed
            )
        )
        #expect(again.id == agreement.id)
        _ = try await h.call(
            SupervisionMethods.notifyCertified,
            NotifyCertifiedRequest(
                officerId: "of_77",
                agencyId: "ag_9",
                model: .jem,
                name: "A. Officer",
                certifiedOn: signed
            )
        )
        // Another agency may not record for this officer.
        let foreign = await h.actionCode("of_77", .detainer, .jail)
        #expect(foreign?.code == .permissionDenied && foreign?.message.contains("only for its own officers") == true)
        let error = try #require(await h.actionCode("of_77", .detainer, .jail, as: "agency:ag_9"))
        #expect(error.code == .failedPrecondition && error.errorDetails?.reason == "NO_SUPERVISOR")
        let report = try await h.call(SupervisionMethods.getProgramReport, ProgramReportRequest())
        #expect(report.agreementsWithoutSupervisor == [agreement.id!])
        #expect(report.officersAuthorized == 1)
    }

    @Test("complaints: 48 h notice not counting weekends; a disciplinary complaint suspends the officer until resolved")
    func complaints() async throws {
        // Friday 2026-06-05 10:00 UTC + 48 business hours = Tuesday 2026-06-09 10:00 UTC.
        let friday = Day("2026-06-05")!.startMilliseconds + 10 * 3_600_000
        #expect(
            SupervisionService.addingBusinessHours(48, to: friday) == Day("2026-06-09")!.startMilliseconds + 10
                * 3_600_000
        )
        // Received on a Saturday: the clock starts on Monday.
        let saturday = Day("2026-06-06")!.startMilliseconds + 15 * 3_600_000
        #expect(SupervisionService.addingBusinessHours(48, to: saturday) == Day("2026-06-10")!.startMilliseconds)

        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world()
        let complaint = try await h.call(
            SupervisionMethods.fileComplaint,
            FileComplaintRequest(
                complaint: Complaint(
                    agreementId: world.agreements[.tfm],
                    officerId: world.officers[.tfm],
                    source: "public",
                    summary: "excessive force alleged during arrest",
                    mayLeadToDiscipline: true
                )
            ),
            as: "agency:ag_1"
        )
        #expect(complaint.status == .open && complaint.overdue.isEmpty)
        h.clock.advance(minutes: 1)
        let suspended = await h.actionCode(world.officers[.tfm]!, .interview, .field)
        #expect(suspended?.errorDetails?.reason == "AUTHORITY_SUSPENDED")
        h.clock.advance(days: 3)
        let listed = try await h.call(SupervisionMethods.listComplaints, ListComplaintsRequest(overdueOnly: true))
        #expect(listed.complaints.map(\.id) == [complaint.id] && listed.complaints[0].overdue == ["notice"])
        _ = try await h.call(
            SupervisionMethods.updateComplaint,
            UpdateComplaintRequest(
                complaintId: complaint.id,
                notifiedAtMs: h.clock.now,
                resolvedAtMs: h.clock.now,
                resolution: "unfounded"
            )
        )
        h.clock.advance(minutes: 1)
        #expect(await h.actionCode(world.officers[.tfm]!, .interview, .field) == nil)
        h.clock.advance(days: 31)
        let report = try await h.call(SupervisionMethods.getProgramReport, ProgramReportRequest())
        #expect(
            report.complaintsPastNotice == 1 && report.complaintsPastOutcomeReport == 1 && report.complaintsOpen == 0
        )
    }

    @Test("overdue recurring training suspends an officer's authority; completing it lifts only that suspension")
    func trainingCompliance() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world()
        let jem = world.officers[.jem]!
        #expect(try await h.service.applyTrainingCompliance(overdue: [jem]) == (1, 0))
        #expect(try await h.service.applyTrainingCompliance(overdue: [jem]) == (0, 0))
        h.clock.advance(minutes: 1)
        let refused = await h.actionCode(jem, .detainer, .jail)
        #expect(refused?.errorDetails?.reason == "AUTHORITY_SUSPENDED")
        #expect(refused?.message.contains("recurring training overdue") == true)
        // A supervisor's own suspension is not lifted by the training sweep.
        _ = try await h.call(
            SupervisionMethods.suspendAuthorization,
            SuspendAuthorizationRequest(
                authorizationId: world.authorizations[.jem],
                suspend: true,
                reason: "under review"
            ),
            as: "supervisor:\(world.supervisor)"
        )
        #expect(try await h.service.applyTrainingCompliance(overdue: []) == (0, 1))
        h.clock.advance(minutes: 1)
        let still = await h.actionCode(jem, .detainer, .jail)
        #expect(still?.message.contains("under review") == true)
        _ = try await h.call(
            SupervisionMethods.suspendAuthorization,
            SuspendAuthorizationRequest(
                authorizationId: world.authorizations[.jem],
                suspend: false,
                reason: "review done"
            ),
            as: "supervisor:\(world.supervisor)"
        )
        h.clock.advance(minutes: 1)
        #expect(await h.actionCode(jem, .detainer, .jail) == nil)
        let report = try await h.call(SupervisionMethods.getProgramReport, ProgramReportRequest())
        #expect(report.officersAuthorized == 3 && report.officersSuspended == 0)
    }

    @Test("renewal supersedes the old agreement and carries its officers")
    func renewal() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world()
        let old = world.agreements[.jem]!
        let beforeRenewal = h.clock.now
        h.clock.advance(minutes: 10)
        let renewal = try await h.call(
            SupervisionMethods.renewAgreement,
            RenewAgreementRequest(agreementId: old, office: "ERO Houston")
        )
        #expect(renewal.status == .offered && renewal.supersedes == old)
        // A signature dated before the offer is refused, naming the offer's date.
        let offeredOn = Day(unixMilliseconds: h.clock.now)
        let early = await h.code(
            SupervisionMethods.signAgreement,
            SignAgreementRequest(
                agreementId: renewal.id,
                party: .agency,
                signedBy: "Sheriff",
                signedOn: offeredOn.adding(-1).description
            ),
            as: "agency:ag_1"
        )
        #expect(early?.code == .invalidArgument && early?.message.contains("offered, on \(offeredOn)") == true)
        _ = try await h.call(
            SupervisionMethods.signAgreement,
            SignAgreementRequest(agreementId: renewal.id, party: .agency, signedBy: "Sheriff"),
            as: "agency:ag_1"
        )
        let foreign = await h.code(
            SupervisionMethods.signAgreement,
            SignAgreementRequest(agreementId: renewal.id, party: .federal, signedBy: "Sheriff"),
            as: "agency:ag_1"
        )
        #expect(foreign?.code == .permissionDenied)
        let active = try await h.call(
            SupervisionMethods.signAgreement,
            SignAgreementRequest(agreementId: renewal.id, party: .federal, signedBy: "ERO Field Office Director")
        )
        #expect(
            active.status == .active
                && active.reviewDueOn == Day(unixMilliseconds: h.clock.now).adding(years: 3).description
        )
        #expect(active.supersedes == old, "the renewal no longer names the agreement it replaced")
        let superseded = try await h.call(SupervisionMethods.getAgreement, GetAgreementRequest(agreementId: old))
        #expect(superseded.status == .superseded && superseded.supersededBy == renewal.id)
        let authorization = try await h.call(
            SupervisionMethods.getAuthorization,
            GetAuthorizationRequest(authorizationId: world.authorizations[.jem])
        )
        #expect(authorization.agreementId == renewal.id && authorization.status == .active)
        h.clock.advance(minutes: 1)
        let now = try await h.act(world.officers[.jem]!, .detainer, .jail)
        #expect(now.decision == .accepted && now.agreementId == renewal.id)
        // An action performed before the renewal and reported after it counts under the old agreement.
        let earlier = try await h.act(world.officers[.jem]!, .detainer, .jail, at: beforeRenewal + 60_000)
        #expect(earlier.decision == .accepted && earlier.agreementId == old)
    }
}
