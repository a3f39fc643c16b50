"""The authorisation matrix's expectations, transcribed by hand from SECURITY.md's role table.

Never derived from the code under test. Each web route name (and, in
``API``, each API operation id) maps a method to who may use it on their OWN
city's objects:

- ``PUBLIC``: anyone, logged in or not.
- ``ANY``: any logged-in person (their own things: account, tokens).
- a set of personas: these succeed; other logged-in personas of the city are
  refused with 403 (``DENY_AS_404`` routes answer 404 instead: they do not exist
  for others).

For ANOTHER city's objects every persona gets 404, except the programme admin,
who sees every city. Missing objects are 404 for everyone. Anonymous people are
sent to the login page (web) or get 401 (API).
"""

from __future__ import annotations

CITY_PERSONAS = ("admin", "coach", "panalyst", "leader", "analyst", "expert", "viewer")
PUBLIC = "public"
ANY = "any"
EVERYONE = frozenset(CITY_PERSONAS)  # city.read
ROWS = EVERYONE - {"viewer"}  # rows.read: no row-level data for viewers
INVENTORY = frozenset({"admin", "leader", "analyst"})
DATA = frozenset({"admin", "analyst"})  # upload, map, classify
MANAGE = frozenset({"admin", "leader"})  # agreements, team
ADMIN = frozenset({"admin"})
# the programme (SECURITY.md's table; PROGRAM.md §2-3, 8-9)
TEAM = frozenset({"admin", "coach", "panalyst", "leader", "analyst", "expert"})  # edit a project, comment
LEADER = frozenset({"admin", "leader"})  # start a project, sign-offs, choose its team
RATERS = frozenset({"admin", "coach", "panalyst", "leader"})  # rate the five criteria
COACH = frozenset({"admin", "coach"})  # decide, bless, override a gate
ADVANCE = frozenset({"admin", "coach", "leader"})  # move a project on when its gate passes
PROGRAMME = frozenset({"admin", "coach", "panalyst"})  # the cohort view

#: route name -> {method: who}
WEB: dict[str, dict[str, object]] = {
    "home": {"GET": ANY},
    "login": {"GET": PUBLIC, "POST": PUBLIC},
    "two_factor_verify": {"GET": ANY, "POST": ANY},
    "two_factor_setup": {"GET": ANY, "POST": ANY},
    "logout": {"POST": PUBLIC},
    "account": {"GET": ANY},
    "logout_everywhere": {"POST": ANY},
    "token_create": {"POST": ANY},
    "token_revoke": {"POST": ANY},
    "invitation_accept": {"GET": PUBLIC, "POST": PUBLIC},
    "password_reset": {"GET": PUBLIC, "POST": PUBLIC},
    "password_reset_done": {"GET": PUBLIC},
    "password_reset_confirm": {"GET": PUBLIC, "POST": PUBLIC},
    "password_reset_complete": {"GET": PUBLIC},
    "password_change": {"GET": ANY, "POST": ANY},
    "password_change_done": {"GET": ANY},
    "audit_log": {"GET": ADMIN},
    "city": {"GET": EVERYONE},
    # the catalog
    "datasets": {"GET": EVERYONE},
    "dataset_new": {"GET": INVENTORY, "POST": INVENTORY},
    "upload": {"GET": DATA, "POST": DATA},
    "upload_status": {"GET": DATA},
    "dataset": {"GET": EVERYONE},
    "dataset_inventory": {"GET": INVENTORY, "POST": INVENTORY},
    "dataset_versions": {"GET": EVERYONE},
    "dataset_preview": {"GET": ROWS},
    "dataset_mapping": {"GET": EVERYONE, "POST": DATA},
    "dataset_columns": {"GET": EVERYONE, "POST": DATA},
    # agreements
    "agreements": {"GET": EVERYONE},
    "agreement_new": {"GET": MANAGE, "POST": MANAGE},
    "agreement": {"GET": EVERYONE},
    "agreement_review": {"POST": MANAGE},
    "agreement_sign": {"GET": MANAGE, "POST": MANAGE},
    "agreement_activate": {"POST": MANAGE},
    "agreement_terminate": {"POST": MANAGE},
    "agreement_document": {"GET": ROWS},
    # the team
    "team": {"GET": EVERYONE},
    "team_invite": {"POST": MANAGE},
    "invitation_revoke": {"POST": MANAGE},
    "member_remove": {"POST": MANAGE},
    # projects: list, intake, overview
    "projects": {"GET": EVERYONE},
    "project_new": {"GET": LEADER, "POST": LEADER},
    "project": {"GET": EVERYONE},
    "project_intake": {"GET": TEAM, "POST": TEAM},
    # @@projects-web
    # scoping and the charter
    "project_scoping": {"GET": EVERYONE},
    "scoping_rate": {"POST": RATERS},
    "scoping_value": {"POST": RATERS},
    "scoping_decide": {"POST": COACH},
    "charter": {"GET": EVERYONE},
    "charter_edit": {"GET": TEAM, "POST": TEAM},
    "charter_history": {"GET": EVERYONE},
    "charter_version": {"GET": EVERYONE},
    "charter_sign": {"POST": LEADER},
    # @@scoping-web
    # the project's team, meetings, follow-ups, comments, calendar feed
    "project_team": {"GET": EVERYONE},
    "project_team_add": {"POST": LEADER},
    "project_team_remove": {"POST": LEADER},
    "meetings": {"GET": EVERYONE},
    "meetings_plan": {"POST": TEAM},
    "meeting_new": {"GET": TEAM, "POST": TEAM},
    "meeting": {"GET": EVERYONE},
    "meeting_record": {"GET": TEAM, "POST": TEAM},
    "meeting_bless": {"POST": COACH},
    "follow_up_add": {"POST": TEAM},
    "follow_up_status": {"POST": TEAM},
    "comment_add": {"POST": TEAM},
    "project_calendar": {"GET": EVERYONE},
    # @@meetings-web
    # phase gates
    "gates": {"GET": EVERYONE},
    "gate_advance": {"POST": ADVANCE},
    "gate_override": {"POST": COACH},
    # @@gates-web
    # cohorts: the coach's cohort view and the calendar
    "cohort_view": {"GET": PROGRAMME},
    "cohort_calendar": {"GET": EVERYONE},
    "cohort_phase_edit": {"GET": ADMIN, "POST": ADMIN},
    "cohort_new": {"GET": ADMIN, "POST": ADMIN},
    # @@cohorts-web
    # --- metric specs (issue 6) ---
    "metrics": {"GET": EVERYONE},
    "metric_add": {"POST": TEAM},
    "metric_success": {"POST": TEAM},
    # --- readiness (issue 6) ---
    "readiness": {"GET": EVERYONE},
    "readiness_run": {"POST": ROWS},
    "readiness_progress": {"GET": EVERYONE},
    "readiness_report": {"GET": EVERYONE},
    "readiness_checks": {"POST": DATA},
    # --- analysis (issue 7) ---
    "analysis": {"GET": EVERYONE},
    "analysis_start": {"POST": ROWS},
    "analysis_result": {"GET": EVERYONE},
    "analysis_export": {"GET": EVERYONE},
    "briefing_finding": {"POST": TEAM},
    "briefing_add": {"POST": TEAM},
    "briefing_bless": {"POST": COACH},
    "analysis_targets": {"POST": DATA},
    "analysis_calendar": {"POST": INVENTORY},
    "analysis_composite": {"GET": ROWS},
    "metric_baseline": {"POST": TEAM},
    # --- pilots (issue 9) ---
    # the data analyst (and the programme admin) design pilots, freeze plans and evaluate; everyone in the city
    # reads; a confirmation is a second person's who may read rows (the maker's own is sent back: not 403);
    # reanalysis: anyone who may read rows
    "pilots": {"GET": EVERYONE, "POST": DATA},
    "pilot": {"GET": EVERYONE},
    "pilot_power": {"POST": DATA},
    "pilot_randomise": {"POST": DATA},
    "pilot_confirm": {"POST": ROWS},
    "plan_save": {"POST": DATA},
    "plan_freeze": {"POST": DATA},
    "plan_deviate": {"POST": DATA},
    "pilot_outcomes": {"POST": DATA},
    "pilot_evaluate": {"POST": DATA},
    "pilot_reanalyse": {"POST": ROWS},
    # --- quasi-experiments and the adoption decision (issue 10): anyone who may read rows runs a method on a
    # dataset; everyone in the city reads the decisions; the senior leader (and the programme admin) decides ---
    "dataset_quasi": {"GET": ROWS, "POST": ROWS},
    "adoption": {"GET": EVERYONE, "POST": LEADER},
}
#: Routes whose success ends the session (so they answer with the login page).
ENDS_SESSION = {"logout", "logout_everywhere"}
#: Routes that do not exist for those who may not use them (404, not 403).
DENY_AS_404 = {"audit_log"}
#: Django admin: the programme admin only; everyone else gets 404 (anonymous: the login page).
ADMIN_PREFIX = "admin:"

#: API operation id -> who (the same role table; 401 for anonymous callers).
API: dict[str, object] = {
    "me": ANY,
    "list_cities": ANY,
    "get_city": EVERYONE,
    "list_datasets": EVERYONE,
    "create_dataset": INVENTORY,
    "get_dataset": EVERYONE,
    "update_dataset": INVENTORY,
    "list_versions": EVERYONE,
    "preview_dataset": ROWS,
    "get_mapping": EVERYONE,
    "update_mapping": DATA,
    "list_columns": EVERYONE,
    "classify_columns": DATA,
    "start_upload": DATA,
    "get_upload": DATA,
    "list_agreements": EVERYONE,
    "create_agreement": MANAGE,
    "get_agreement": EVERYONE,
    "review_agreement": MANAGE,
    "sign_agreement": MANAGE,
    "activate_agreement": MANAGE,
    "terminate_agreement": MANAGE,
    "get_agreement_document": ROWS,
    "list_members": EVERYONE,
    "remove_member": MANAGE,
    "list_invitations": MANAGE,
    "create_invitation": MANAGE,
    "revoke_invitation": MANAGE,
    "list_tokens": ANY,
    "create_token": ANY,
    "revoke_token": ANY,
    "list_audit_entries": ADMIN,
    "list_projects": EVERYONE,
    "create_project": LEADER,
    "get_project": EVERYONE,
    "update_intake": TEAM,
    # @@projects-api
    "get_scoping": EVERYONE,
    "rate_criterion": RATERS,
    "set_value_complexity": RATERS,
    "decide_project": COACH,
    "get_charter": EVERYONE,
    "update_charter": TEAM,
    "list_charter_versions": EVERYONE,
    "get_charter_version": EVERYONE,
    "diff_charter": EVERYONE,
    "sign_charter": LEADER,
    # @@scoping-api
    "list_project_members": EVERYONE,
    "add_project_member": LEADER,
    "remove_project_member": LEADER,
    "get_team_status": EVERYONE,
    "list_meetings": EVERYONE,
    "plan_meetings": TEAM,
    "create_meeting": TEAM,
    "get_meeting": EVERYONE,
    "record_meeting": TEAM,
    "bless_meeting": COACH,
    "list_follow_ups": EVERYONE,
    "create_follow_up": TEAM,
    "update_follow_up": TEAM,
    "list_comments": EVERYONE,
    "create_comment": TEAM,
    "get_project_calendar": EVERYONE,
    # @@meetings-api
    "get_gate": EVERYONE,
    "advance_phase": ADVANCE,
    "override_gate": COACH,
    "list_phase_changes": EVERYONE,
    # @@gates-api
    "get_cohort_view": PROGRAMME,
    "list_cohorts": EVERYONE,
    "get_cohort": EVERYONE,
    "update_cohort_phase": ADMIN,
    "create_cohort": ADMIN,
    # @@cohorts-api
    # --- metric specs (issue 6) ---
    "list_metrics": EVERYONE,
    "save_metrics": TEAM,
    "get_metric": EVERYONE,
    "set_success_metric": TEAM,
    # --- readiness (issue 6) ---
    "run_readiness": ROWS,
    "get_readiness": EVERYONE,
    "get_readiness_run": EVERYONE,
    "get_readiness_checks": EVERYONE,
    "set_readiness_checks": DATA,
    # --- analysis (issue 7) ---
    "run_analysis": ROWS,
    "list_analyses": EVERYONE,
    "get_analysis": EVERYONE,
    "get_targets": EVERYONE,
    "set_targets": DATA,
    "get_work_calendar": EVERYONE,
    "set_work_calendar": INVENTORY,
    "compute_baseline": TEAM,
    "list_briefings": EVERYONE,
    "create_briefing": TEAM,
    "get_briefing": EVERYONE,
    "add_finding": TEAM,
    "bless_briefing": COACH,
    "get_composite": ROWS,
    # --- places (issue 8) ---
    "assign_areas": ROWS,
    "list_area_assignments": EVERYONE,
    "check_boundaries": ROWS,
    "get_analysis_map": EVERYONE,
    # --- pilots (issue 9): the data analyst designs, freezes plans and evaluates; a second person who may read
    # rows confirms a randomisation and reruns a reanalysis; everyone in the city reads what was recorded ---
    "create_pilot": DATA,
    "list_pilots": EVERYONE,
    "get_pilot": EVERYONE,
    "study_power": DATA,
    "randomise_units": DATA,
    "get_randomisation": EVERYONE,
    "confirm_randomisation": ROWS,
    "get_plan": EVERYONE,
    "save_plan": DATA,
    "freeze_plan": DATA,
    "record_deviation": DATA,
    "link_outcomes": DATA,
    "evaluate_pilot": DATA,
    "get_estimate": EVERYONE,
    "reanalyse_estimate": ROWS,
    # --- quasi-experiments and the adoption decision (issue 10) ---
    "run_did": ROWS,
    "run_twfe": ROWS,
    "run_callaway_santanna": ROWS,
    "run_sun_abraham": ROWS,
    "run_its": ROWS,
    "run_synth": ROWS,
    "list_decisions": EVERYONE,
    "record_decision": LEADER,
}
API_DENY_AS_404 = {"list_audit_entries"}
