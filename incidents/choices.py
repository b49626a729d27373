"""The statuses of the domain (DESIGN.md, "Domain rules"), in order of severity where that matters."""

from django.db import models

# Labels are marked for translation (gettext_noop) but stay plain English strings: the APIs, webhooks and the
# admin speak English; the public pages and emails translate them as they show them (the `translated` filter).
from django.utils.translation import gettext_noop as _


class ComponentStatus(models.TextChoices):
    OPERATIONAL = "operational", _("Operational")
    DEGRADED_PERFORMANCE = "degraded_performance", _("Degraded Performance")
    PARTIAL_OUTAGE = "partial_outage", _("Partial Outage")
    MAJOR_OUTAGE = "major_outage", _("Major Outage")
    UNDER_MAINTENANCE = "under_maintenance", _("Under Maintenance")


# How bad a component status is, for "the most degraded child" of a group. Maintenance is worse than
# operational but better than any degradation.
COMPONENT_SEVERITY = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}

COMPONENT_COLOUR = {
    ComponentStatus.OPERATIONAL: "green",
    ComponentStatus.DEGRADED_PERFORMANCE: "yellow",
    ComponentStatus.PARTIAL_OUTAGE: "orange",
    ComponentStatus.MAJOR_OUTAGE: "red",
    ComponentStatus.UNDER_MAINTENANCE: "blue",
}

# The colours by name, as static/css/status.css defines them (--green, …): badges and the widget's notice use
# these (tests/test_badges.py checks the stylesheet agrees).
COLOUR_HEX = {"green": "#1e7b34", "yellow": "#8a6100", "orange": "#b34700", "red": "#c0262d", "blue": "#1f5fbf"}


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", _("Investigating")
    IDENTIFIED = "identified", _("Identified")
    MONITORING = "monitoring", _("Monitoring")
    RESOLVED = "resolved", _("Resolved")
    POSTMORTEM = "postmortem", _("Postmortem")


class MaintenanceStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    IN_PROGRESS = "in_progress", _("In progress")
    VERIFYING = "verifying", _("Verifying")
    COMPLETED = "completed", _("Completed")


# Every stage an incident or a maintenance can be in (one column stores both).
ALL_STATUSES = list(IncidentStatus.choices) + list(MaintenanceStatus.choices)
STATUS_LABELS = dict(ALL_STATUSES)

UNRESOLVED_STATUSES = (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING)
CLOSED_STATUSES = (IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM, MaintenanceStatus.COMPLETED)
ACTIVE_MAINTENANCE_STATUSES = (MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING)


class Impact(models.TextChoices):
    NONE = "none", _("None")
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")
    MAINTENANCE = "maintenance", _("Maintenance")


class Indicator(models.TextChoices):
    """The page's overall status indicator, as Statuspage's status.json names it."""

    NONE = "none", _("All Systems Operational")
    MAINTENANCE = "maintenance", _("Service Under Maintenance")
    MINOR = "minor", _("Minor Service Outage")
    MAJOR = "major", _("Partial System Outage")
    CRITICAL = "critical", _("Major System Outage")


# The component status a page indicator reads like: its icon and colour on the status line and in badges.
INDICATOR_COMPONENT_STATUS = {
    Indicator.NONE: ComponentStatus.OPERATIONAL,
    Indicator.MINOR: ComponentStatus.DEGRADED_PERFORMANCE,
    Indicator.MAJOR: ComponentStatus.PARTIAL_OUTAGE,
    Indicator.CRITICAL: ComponentStatus.MAJOR_OUTAGE,
    Indicator.MAINTENANCE: ComponentStatus.UNDER_MAINTENANCE,
}

INDICATOR_RANK = {
    Indicator.NONE: 0,
    Indicator.MAINTENANCE: 1,
    Indicator.MINOR: 2,
    Indicator.MAJOR: 3,
    Indicator.CRITICAL: 4,
}

IMPACT_RANK = {Impact.NONE: 0, Impact.MAINTENANCE: 0, Impact.MINOR: 1, Impact.MAJOR: 2, Impact.CRITICAL: 3}

# The impact a component status implies for the incident that caused it.
IMPACT_OF_COMPONENT_STATUS = {
    ComponentStatus.OPERATIONAL: Impact.NONE,
    ComponentStatus.UNDER_MAINTENANCE: Impact.NONE,
    ComponentStatus.DEGRADED_PERFORMANCE: Impact.MINOR,
    ComponentStatus.PARTIAL_OUTAGE: Impact.MAJOR,
    ComponentStatus.MAJOR_OUTAGE: Impact.CRITICAL,
}


class Visibility(models.TextChoices):
    """Who may read a page (incidents/access.py decides for each request)."""

    PUBLIC = "public", "Public: everyone"
    PRIVATE = "private", "Private: page members and named viewers"
    PASSWORD = "password", "Protected by a shared password"
    EMAIL_DOMAIN = "email_domain", "Email domains: a sign-in link sent to an allowed address"
