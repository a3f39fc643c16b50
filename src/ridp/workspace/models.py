"""The workspace's models: the one store of ridp.

Later issues extend these (agreements, projects, meetings, results); what is
here is what every one of them stands on.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone as django_timezone


class Role(models.TextChoices):
    """Roles of SECURITY.md. Programme roles hold programme-wide; city roles per city."""

    PROGRAMME_ADMIN = "programme_admin", "programme admin"
    COACH = "coach", "coach"
    PROGRAMME_ANALYST = "programme_analyst", "programme analyst"
    SENIOR_LEADER = "senior_leader", "senior leader"
    DATA_ANALYST = "data_analyst", "data analyst"
    SUBJECT_MATTER_EXPERT = "subject_matter_expert", "subject-matter expert"
    VIEWER = "viewer", "viewer"


PROGRAMME_ROLES = {Role.PROGRAMME_ADMIN, Role.COACH, Role.PROGRAMME_ANALYST}


class Programme(models.Model):
    """A data programme that runs cohorts of cities."""

    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=django_timezone.now)

    def __str__(self) -> str:
        return self.name


class Cohort(models.Model):
    """One year's group of cities in a programme."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="cohorts")
    name = models.CharField(max_length=200)
    year = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["programme", "name"], name="cohort_name_unique_in_programme")
        ]

    def __str__(self) -> str:
        return self.name


class City(models.Model):
    """A city in the programme; every piece of city data belongs to exactly one."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="cities")
    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="cities", null=True, blank=True)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    # The working-day calendar business days are counted on: {"weekdays": [...], "holidays": ["2024-07-04"]}
    # (ridp.analysis.WorkCalendar.from_dict); {} is Monday to Friday without holidays.
    work_calendar = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        verbose_name_plural = "cities"

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person: city staff, coach, programme analyst or programme admin.

    ``session_epoch`` grows when the person logs out everywhere: every session
    signed with an older epoch ends on its next request.
    """

    session_epoch = models.PositiveIntegerField(default=0)


class Membership(models.Model):
    """A person's role. City roles name a city; programme roles name the programme.

    Coaches and programme analysts hold their programme role and a membership
    per city they are assigned to.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="memberships")
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="memberships", null=True, blank=True)
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["user", "programme", "city", "role"], name="membership_unique"),
        ]


class Dataset(models.Model):
    """A city's dataset and its inventory record (GovEx data inventory guide)."""

    class Public(models.TextChoices):
        YES = "yes", "yes"
        NO = "no", "no"
        PARTIAL = "partial", "partial"

    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="datasets")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner_department = models.CharField(max_length=200, blank=True)
    steward = models.CharField(max_length=200, blank=True)
    source_system = models.CharField(max_length=200, blank=True)
    update_frequency = models.CharField(max_length=100, blank=True)
    licence = models.CharField(max_length=200, blank=True)
    public = models.CharField(max_length=10, choices=Public.choices, default=Public.NO)
    sensitivity = models.CharField(max_length=100, blank=True)
    sensitivity_reason = models.TextField(blank=True)
    years_of_history = models.FloatField(null=True, blank=True)
    known_quality_issues = models.TextField(blank=True)
    needs_agreement = models.BooleanField(default=False)  # no use without an active data-sharing agreement
    current_version = models.OneToOneField(
        "DatasetVersion", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(default=django_timezone.now)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["city", "name"], name="dataset_name_unique_in_city")
        ]

    def __str__(self) -> str:
        return f"{self.city.slug}/{self.name}"


class DatasetVersion(models.Model):
    """An immutable version of a dataset, stored as one Parquet file."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    source_sha256 = models.CharField(max_length=64)
    source_name = models.CharField(max_length=500)
    source_format = models.CharField(max_length=20)
    source_bytes = models.BigIntegerField()
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    file = models.CharField(max_length=500)  # relative to RIDP_HOME
    file_sha256 = models.CharField(max_length=64)
    file_bytes = models.BigIntegerField()
    rows = models.BigIntegerField()
    schema = models.JSONField()  # [{"name", "position", "dtype"}]
    notes = models.JSONField(default=list)  # what ingest changed or noticed, e.g. columns read as text
    created_at = models.DateTimeField(default=django_timezone.now)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["dataset", "number"], name="version_number_unique"),
            models.UniqueConstraint(fields=["dataset", "source_sha256"], name="version_bytes_unique"),
        ]
        ordering: ClassVar[list[str]] = ["dataset_id", "number"]

    def __str__(self) -> str:
        return f"{self.dataset} v{self.number}"


class Column(models.Model):
    """A column of a dataset version, with its classification."""

    class Classification(models.TextChoices):
        UNCLASSIFIED = "", "not yet classified"
        PUBLIC = "public", "public"
        INTERNAL = "internal", "internal"
        PERSONAL = "personal", "personal (PII)"
        SENSITIVE = "sensitive", "sensitive"

    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="columns")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=500)
    dtype = models.CharField(max_length=100)
    classification = models.CharField(max_length=20, choices=Classification.choices, blank=True, default="")
    suggested_classification = models.CharField(max_length=20, choices=Classification.choices, blank=True, default="")
    classification_reasons = models.JSONField(default=list)
    classified_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    classified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["version", "position"], name="column_position_unique"),
        ]
        ordering: ClassVar[list[str]] = ["version_id", "position"]


class AppendOnlyQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("the audit log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("the audit log is append-only")


class AuditEntry(models.Model):
    """One append-only, structured UTC audit record. Never holds personal values or secrets.

    Updates are refused here and by a database trigger; deletes are refused here.
    """

    at = models.DateTimeField(default=django_timezone.now, db_index=True)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering: ClassVar[list[str]] = ["at", "id"]
        verbose_name_plural = "audit entries"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("the audit log is append-only")


class DatasetMapping(models.Model):
    """A mapping of a dataset's columns to the canonical service-request schema.

    Every proposal and every change is a new row, so the history stays; the
    newest row is the dataset's mapping. ``confirmed_by`` is set when a person
    accepted it.
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="mappings")
    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="+")
    fields = models.JSONField()  # {field: {"column", "confidence", "reasons", "date_formats", "ambiguous_day_month"}}
    areas = models.JSONField(default=list)  # [column, ...]
    timezone = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=django_timezone.now)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    confirmed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["dataset_id", "id"]


class Agreement(models.Model):
    """A data-sharing agreement: what a city's data may be used for, by whom, until when."""

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        LEGAL_REVIEW = "legal_review", "legal review"
        SIGNED = "signed", "signed"
        ACTIVE = "active", "active"
        EXPIRED = "expired", "expired"
        TERMINATED = "terminated", "terminated"

    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="agreements")
    title = models.CharField(max_length=300)
    parties = models.TextField()
    purpose = models.TextField()
    permitted_uses = models.TextField(blank=True)
    datasets: models.ManyToManyField[Dataset, AgreementDataset] = models.ManyToManyField(
        Dataset, through="AgreementDataset", related_name="agreements"
    )
    personal_roles = models.JSONField(default=list)  # roles that may see personal columns' values
    personal_people = models.ManyToManyField(User, related_name="+", blank=True)
    retention_days = models.PositiveIntegerField(default=0)  # after the end, before the bytes are deleted
    starts_on = models.DateField()
    expires_on = models.DateField()
    signatories = models.JSONField(default=list)  # [{"name", "role", "signed_on"}]
    document = models.CharField(max_length=500, blank=True)  # stored file, relative to RIDP_HOME
    document_name = models.CharField(max_length=300, blank=True)
    document_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    ended_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"


class AgreementDataset(models.Model):
    """A dataset an agreement covers, and which of its columns (empty list: all)."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="coverage")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="coverage")
    columns = models.JSONField(default=list)


class AgreementStatusChange(models.Model):
    """The dated history of an agreement's status."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="history")
    status = models.CharField(max_length=20, choices=Agreement.Status.choices)
    at = models.DateTimeField(default=django_timezone.now)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["agreement_id", "at", "id"]


class Tombstone(models.Model):
    """What remains of a dataset version whose bytes were deleted at the end of an agreement."""

    version = models.OneToOneField(DatasetVersion, on_delete=models.PROTECT, related_name="tombstone")
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="tombstones", null=True)
    deleted_at = models.DateTimeField(default=django_timezone.now)
    reason = models.TextField()
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)


class TotpDevice(models.Model):
    """A person's authenticator app (TOTP, RFC 6238). Confirmed once a first code matched."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp")
    secret = models.CharField(max_length=64)  # base32; never logged, never shown after set-up
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(default=0)  # a code is accepted once only
    created_at = models.DateTimeField(default=django_timezone.now)


class Invitation(models.Model):
    """An invitation by link to join a city (or the programme) in a role. Only the token's hash is kept."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="invitations", null=True, blank=True)
    role = models.CharField(max_length=32, choices=Role.choices)
    email = models.EmailField()
    token_sha256 = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class LoginAttempt(models.Model):
    """A login or two-factor attempt, kept to pause logins after repeated failures."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.CharField(max_length=45, blank=True)
    kind = models.CharField(max_length=16, default="password")  # password | totp
    succeeded = models.BooleanField(default=False)
    at = models.DateTimeField(default=django_timezone.now, db_index=True)


class ApiToken(models.Model):
    """A personal token for scripts. Only its hash is kept; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)  # shown in lists so a person can tell tokens apart
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=django_timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class Upload(models.Model):
    """A file uploaded through the web app or API, ingested by a background task."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="uploads")
    dataset_name = models.CharField(max_length=200)
    source_name = models.CharField(max_length=500)  # the name the person gave the file; shown, never used as a path
    staged = models.CharField(max_length=500)  # relative to RIDP_HOME, under an internal id
    source_bytes = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    fraction = models.FloatField(default=0.0)
    stage = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    error_field = models.CharField(max_length=100, blank=True)
    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    finished_at = models.DateTimeField(null=True, blank=True)


# --- The programme: cohorts' calendars, projects, scoping, charters, teams, meetings, gates -------------


class Cadence(models.TextChoices):
    """How often a phase's meetings happen (PROGRAM.md §1)."""

    AS_NEEDED = "as_needed", "kickoff + as needed"
    WEEKLY = "weekly", "weekly"
    MONTHLY = "monthly", "monthly"
    NONE = "none", "no meetings"


class CohortPhase(models.Model):
    """One phase of a cohort's calendar, with its dates and meeting cadence (data, not code)."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="phases")
    key = models.SlugField(max_length=40)  # scoping | analysis | testing | closeout (the gates refer to these)
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField()
    starts_on = models.DateField()
    ends_on = models.DateField()
    cadence = models.CharField(max_length=16, choices=Cadence.choices)
    produces = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["cohort", "position"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["cohort", "key"], name="cohort_phase_key_unique"),
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="phase_dates_order"),
        ]

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    """A city's Resident Impact Data Project, from intake to close-out."""

    class Decision(models.TextChoices):
        UNDECIDED = "", "not decided"
        ACCEPT = "accept", "accept"
        ACCEPT_WITH_RISKS = "accept_with_risks", "accept with risks"
        OFF_RAMP = "off_ramp", "off-ramp"

    class Level(models.TextChoices):
        UNRATED = "", "not rated"
        LOW = "low", "low"
        HIGH = "high", "high"

    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="projects")
    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="projects")
    title = models.CharField(max_length=300)
    # Intake (DataSF's three short answers)
    problem = models.TextField()
    why_it_matters = models.TextField()
    service_change = models.TextField()
    # Scoping: value x complexity, and the decision
    value = models.CharField(max_length=8, choices=Level.choices, blank=True, default="")
    complexity = models.CharField(max_length=8, choices=Level.choices, blank=True, default="")
    decision = models.CharField(max_length=20, choices=Decision.choices, blank=True, default="")
    decision_reason = models.TextField(blank=True)  # the risks accepted, or why it is off-ramped
    other_help = models.TextField(blank=True)  # for an off-ramp: the other kind of help offered
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Where it is
    phase = models.SlugField(max_length=40, default="scoping")  # a CohortPhase.key of its cohort
    phase_since = models.DateField(default=django_timezone.localdate)
    # The success metric: the name of one of its MetricSpecVersions (its latest version counts); "" for none yet.
    success_metric_name = models.CharField(max_length=64, blank=True, default="")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["city", "title", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def phase_name(self) -> str:
        """The name the cohort's calendar gives the project's phase (its key if the calendar has none)."""
        name = CohortPhase.objects.filter(cohort_id=self.cohort_id, key=self.phase).values_list("name", flat=True)
        return next(iter(name), self.phase)


class CriterionRating(models.Model):
    """One rating of one of the five criteria of a good project (0 not met, 1 partly, 2 met).

    Every rating is kept; the latest per criterion is the current one.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="ratings")
    criterion = models.SlugField(max_length=40)
    score = models.PositiveSmallIntegerField()
    evidence = models.TextField()
    rater = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    rated_on = models.DateField(default=django_timezone.localdate)
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["project", "criterion", "created_at", "id"]
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(condition=models.Q(score__lte=2), name="criterion_score_0_to_2"),
        ]


class CharterVersion(models.Model):
    """One version of a project's charter: every field of PROGRAM.md §3 as a JSON object.

    A change makes a new version; versions are never edited, so what a sign-off
    signed stays readable.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="charter_versions")
    number = models.PositiveIntegerField()
    fields = models.JSONField(default=dict)
    note = models.CharField(max_length=300, blank=True)  # what changed, in the editor's words
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["project", "number"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["project", "number"], name="charter_version_unique"),
        ]


class SignOff(models.Model):
    """A sign-off of one charter version by the team, the champion or leadership.

    It holds only while its version is the charter's latest: a later change invalidates it.
    """

    class Kind(models.TextChoices):
        TEAM = "team", "team"
        CHAMPION = "champion", "champion"
        LEADERSHIP = "leadership", "leadership"

    version = models.ForeignKey(CharterVersion, on_delete=models.CASCADE, related_name="sign_offs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=200)
    signed_on = models.DateField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)


class ProjectMember(models.Model):
    """A person on a project's team, in one of their roles in the city (coach and programme analyst included)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="project_memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    added_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["project", "user", "role"], name="project_member_unique"),
        ]


class Meeting(models.Model):
    """A project meeting (PROGRAM.md §8): planned from the phase's cadence, then recorded."""

    class Kind(models.TextChoices):
        KICKOFF = "kickoff", "kickoff"
        WEEKLY_ANALYSIS = "weekly_analysis", "weekly analysis"
        MONTHLY_ACTION = "monthly_action", "monthly action"
        AS_NEEDED = "as_needed", "as needed"

    class Status(models.TextChoices):
        PLANNED = "planned", "planned"
        HELD = "held", "held"
        CANCELLED = "cancelled", "cancelled"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="meetings")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    phase = models.SlugField(max_length=40)
    starts_at = models.DateTimeField(db_index=True)
    minutes = models.PositiveSmallIntegerField(default=60)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    goal = models.TextField(blank=True)
    pre_read = models.TextField(blank=True)
    presented = models.TextField(blank=True)
    decisions = models.TextField(blank=True)
    blessed = models.BooleanField(default=False)  # the coach's "blessing" to go on
    data_requested = models.TextField(blank=True)  # data requested for next time
    risks = models.TextField(blank=True)
    usefulness = models.PositiveSmallIntegerField(null=True, blank=True)  # 1 (not useful) .. 5 (very useful)
    reminded_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["project", "starts_at", "id"]
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=models.Q(usefulness__isnull=True) | models.Q(usefulness__gte=1, usefulness__lte=5),
                name="meeting_usefulness_1_to_5",
            ),
        ]


class MeetingAttendee(models.Model):
    """Who attended a meeting, in which role (a person in ridp, or a guest by name)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendees")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=200)


class FollowUp(models.Model):
    """A follow-up item from a meeting, carried from meeting to meeting until done or dropped."""

    class Status(models.TextChoices):
        OPEN = "open", "open"
        DONE = "done", "done"
        DROPPED = "dropped", "dropped"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="follow_ups")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="follow_ups")  # where it arose
    text = models.TextField()
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="follow_ups")
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    reminded_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["project", "due_on", "id"]


class Comment(models.Model):
    """A comment on a project's charter, a finding or a meeting."""

    class Target(models.TextChoices):
        CHARTER = "charter", "charter"
        MEETING = "meeting", "meeting"
        FINDING = "finding", "finding"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="comments")
    target = models.CharField(max_length=16, choices=Target.choices)
    target_id = models.PositiveBigIntegerField(null=True, blank=True)  # the meeting's or finding's id
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["project", "created_at", "id"]


class PhaseChange(models.Model):
    """A project moving from one phase to the next; ``override_reason`` set when a blocked gate was overridden."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="phase_changes")
    from_phase = models.SlugField(max_length=40)
    to_phase = models.SlugField(max_length=40)
    missing = models.JSONField(default=list)  # what the gate listed as missing at the time (empty if it passed)
    override_reason = models.TextField(blank=True)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["project", "at", "id"]


# --- Metrics and data readiness (issue 6) -------------------------------------------------------------------------


class MetricSpecVersion(models.Model):
    """One version of one of a project's metric specs (:class:`ridp.metrics.MetricSpec`).

    ``spec`` is the spec as data (``MetricSpec.to_dict()``), ``yaml`` the text a person gave,
    ``spec_hash`` what every result computed from it records. A change makes a new version;
    versions are never edited.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="metric_specs")
    name = models.CharField(max_length=64)
    number = models.PositiveIntegerField()  # 1, 2, ... per project and name
    spec = models.JSONField()
    yaml = models.TextField()
    spec_hash = models.CharField(max_length=64)
    # Where the baseline value came from when ridp computed it from the data (None: typed by a person)
    baseline_from = models.ForeignKey(
        "DatasetVersion", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    baseline_requests = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["project", "name", "number"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["project", "name", "number"], name="metric_spec_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"


class ReadinessRun(models.Model):
    """A data-readiness run of one dataset version against checks (YAML) and what the metrics need.

    Looked up by (version, checks_hash, needs_hash), so the same question on the same bytes is answered once.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    dataset_version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="readiness_runs")
    checks_yaml = models.TextField()
    checks_hash = models.CharField(max_length=64)
    needs = models.JSONField(default=dict)
    needs_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    fraction = models.FloatField(default=0.0)  # progress, written by the background task
    stage = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["dataset_version", "created_at", "id"]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["dataset_version", "checks_hash", "needs_hash"], name="readiness_run_lookup"),
        ]


class DatasetChecks(models.Model):
    """The checks declared for a dataset (YAML); the newest row counts, "" means the defaults from the mapping."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="check_files")
    yaml = models.TextField(blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["dataset", "created_at", "id"]


class DatasetTargets(models.Model):
    """A dataset's service-level targets: days to close per request type (``TargetTable.to_dict()``).

    The newest row counts; ``{}`` means no targets.
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="target_tables")
    targets = models.JSONField(default=dict)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["dataset", "created_at", "id"]


class AnalysisRun(models.Model):
    """An analysis (service levels, trends, discovery rate) of one dataset version for one project.

    ``params`` holds every input (breakdown, period, unit, targets, calendar, mapping), ``params_hash`` their
    hash: the same question on the same version is answered from the saved result.
    """

    class Kind(models.TextChoices):
        SERVICE_LEVELS = "service_levels", "service levels"
        TRENDS = "trends", "trends"
        DISCOVERY = "discovery_rate", "discovery rate"
        HOT_SPOTS = "hot_spots", "hot spots"
        SERVICE_GAPS = "service_gaps", "service gaps"
        RESOURCE_SCORES = "resource_scores", "where resources go"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="analysis_runs")
    dataset_version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="analysis_runs")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    params = models.JSONField(default=dict)
    params_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    fraction = models.FloatField(default=0.0)
    stage = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["project", "created_at", "id"]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["project", "dataset_version", "kind", "params_hash"], name="analysis_run_lookup"),
        ]


class AreaAssignment(models.Model):
    """A dataset version's points assigned to the areas of a boundary dataset's version, stored once.

    ``file`` (relative to RIDP_HOME) is the version's rows with one more column, ``column``, holding the
    area id; ``report`` what could not be placed (missing, zero, swapped, outside) and the boundary checks.
    """

    dataset_version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="area_assignments")
    boundary_version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="+")
    # requests without coordinates matched by address to this address-point version first (optional)
    address_version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="+", null=True)
    address_fields = models.JSONField(default=dict)  # {"address", "lat", "lon"} of the address points
    id_field = models.CharField(max_length=200)
    name_field = models.CharField(max_length=200, blank=True)
    column = models.CharField(max_length=200)
    file = models.CharField(max_length=500)
    file_sha256 = models.CharField(max_length=64)
    report = models.JSONField(default=dict)
    engine = models.CharField(max_length=20)
    seconds = models.FloatField(default=0.0)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["dataset_version", "boundary_version", "id_field", "address_version"],
                name="area_assignment_once",
            )
        ]


class Briefing(models.Model):
    """A week's findings briefing for the coach meeting (PROGRAM.md §8); the coach may bless it.

    A blessed briefing is frozen: findings go into a new one.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="briefings")
    week = models.DateField()  # the Monday of the week it is for
    title = models.CharField(max_length=200)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)
    blessed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    blessed_at = models.DateTimeField(null=True, blank=True)
    blessing_note = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["project", "-week", "-id"]

    def __str__(self) -> str:
        return self.title


class Finding(models.Model):
    """One finding: a result's chart and numbers, the spec and versions behind it, and a short text."""

    briefing = models.ForeignKey(Briefing, on_delete=models.CASCADE, related_name="findings")
    run = models.ForeignKey(AnalysisRun, on_delete=models.PROTECT, related_name="findings")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    text = models.TextField()
    column = models.CharField(max_length=64)  # the figure the chart and the numbers show
    numbers = models.JSONField(default=list)  # the rows shown, as they were when the finding was made
    provenance = models.JSONField(default=dict)  # dataset, version, content hash, params hash, metric spec hashes
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["briefing", "position", "id"]


# ---- testing and action: pilots, their power, randomisation, frozen analysis plans and estimates (PROGRAM.md §7) ----


class Pilot(models.Model):
    """A project's pilot: the test of its solution, from design to a measured effect.

    ``outcome_dataset`` is the catalogued dataset the outcomes arrive in: they arrived when its first version was
    ingested, and the analysis plan must be frozen before then (:func:`ridp.workspace.plans.outcomes_arrived`).
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="pilots")
    name = models.SlugField(max_length=64)
    title = models.CharField(max_length=200)
    outcome_dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    outcomes_linked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["project", "name", "id"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["project", "name"], name="pilot_name_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class PowerStudyRecord(models.Model):
    """Power and the minimum detectable effect of a planned design, by formula and by simulation on a history."""

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="power_studies")
    history_version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="+")
    params = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    adequate = models.BooleanField()
    seconds = models.FloatField(default=0.0)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["pilot", "-created_at", "-id"]


class Randomisation(models.Model):
    """One assignment of a pilot's units, with its seed and record; a second person confirms it by rerunning."""

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="randomisations")
    units_version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="+")
    record = models.JSONField(default=dict)  # everything needed to rerun: method, parameters, seed, fingerprints
    assignment = models.JSONField(default=dict)  # the Assignment, arms included
    balance = models.JSONField(null=True, blank=True)
    fingerprint = models.CharField(max_length=64)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)
    confirmed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmation = models.JSONField(null=True, blank=True)  # matches, expected and got fingerprints, differences

    class Meta:
        ordering: ClassVar[list[str]] = ["pilot", "-created_at", "-id"]


class PlanRecord(models.Model):
    """A pilot's analysis plan: a draft until frozen, then fixed with its SHA-256 and UTC time.

    ``spec`` is the plan as frozen and never changes after; changes are :class:`PlanDeviation` rows, each
    with the plan as it became. ``late`` is set when it was frozen after the outcome data arrived.
    """

    pilot = models.OneToOneField(Pilot, on_delete=models.CASCADE, related_name="plan")
    spec = models.JSONField(default=dict)
    sha256 = models.CharField(max_length=64, blank=True)
    frozen_at = models.DateTimeField(null=True, blank=True)
    frozen_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    late = models.BooleanField(default=False)
    late_reason = models.TextField(blank=True)
    updated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=django_timezone.now)


class PlanDeviation(models.Model):
    """A change to a frozen plan: what changed, why, who, when, and the plan as it became (never silent)."""

    plan = models.ForeignKey(PlanRecord, on_delete=models.CASCADE, related_name="deviations")
    changes = models.JSONField(default=list)  # [{"field", "before", "after"}]
    reason = models.TextField()
    spec = models.JSONField(default=dict)
    sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["plan", "created_at", "id"]


class PilotEstimate(models.Model):
    """The pilot's estimates under its plan: every outcome, corrected for several, in residents' terms.

    ``plan_sha256`` is the plan the numbers follow (the frozen one, or its latest deviation); ``reanalysis``
    what the standalone script recomputed, once run.
    """

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="estimates")
    outcome_version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="+")
    plan_sha256 = models.CharField(max_length=64)
    result = models.JSONField(default=dict)
    reanalysis = models.JSONField(null=True, blank=True)
    reanalysed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["pilot", "-created_at", "-id"]


class AdoptionDecision(models.Model):
    """What the city does with the solution after its pilot: scale, adapt or stop, with the reason and the
    estimate the decision rests on. Decisions are kept in order; the latest is the project's decision."""

    class Choice(models.TextChoices):
        SCALE = "scale", "scale"
        ADAPT = "adapt", "adapt"
        STOP = "stop", "stop"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="adoption_decisions")
    estimate = models.ForeignKey(PilotEstimate, on_delete=models.PROTECT, related_name="decisions")
    decision = models.CharField(max_length=8, choices=Choice.choices)
    reason = models.TextField()
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["project", "-decided_at", "-id"]
