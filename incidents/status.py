"""Derived state: a group's status, an incident's impact and the page's indicator (DESIGN.md)."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext_noop as _  # see incidents/choices.py

from incidents.choices import (
    COMPONENT_SEVERITY,
    IMPACT_OF_COMPONENT_STATUS,
    IMPACT_RANK,
    INDICATOR_RANK,
    ComponentStatus,
    Impact,
    Indicator,
)

DEGRADED_SYSTEM_SERVICE = _("Degraded System Service")
PARTIALLY_DEGRADED_SERVICE = _("Partially Degraded Service")


@dataclass(frozen=True)
class PageStatus:
    indicator: str
    description: str

    @property
    def is_operational(self) -> bool:
        return self.indicator == Indicator.NONE


def worst_component_status(statuses: Iterable[str]) -> str:
    """A group shows its most degraded child; an empty group is operational."""
    return max(statuses, key=lambda s: COMPONENT_SEVERITY[s], default=ComponentStatus.OPERATIONAL)


def impact_of(statuses: Iterable[str]) -> str:
    """The impact implied by the worst component status an incident caused."""
    return max(
        (IMPACT_OF_COMPONENT_STATUS[s] for s in statuses),
        key=lambda i: IMPACT_RANK[i],
        default=Impact.NONE,
    )


def components_status(statuses: list[str]) -> PageStatus:
    """The indicator from the components alone, per the table in DESIGN.md."""
    total = len(statuses)
    major = statuses.count(ComponentStatus.MAJOR_OUTAGE)
    partial = statuses.count(ComponentStatus.PARTIAL_OUTAGE)
    degraded = statuses.count(ComponentStatus.DEGRADED_PERFORMANCE)
    maintenance = statuses.count(ComponentStatus.UNDER_MAINTENANCE)
    if major and major == total:
        return PageStatus(Indicator.CRITICAL, Indicator.CRITICAL.label)
    if major or (partial and partial == total):
        return PageStatus(Indicator.MAJOR, Indicator.MAJOR.label)
    if partial:
        return PageStatus(Indicator.MINOR, Indicator.MINOR.label)
    if degraded and degraded == total:
        return PageStatus(Indicator.MINOR, DEGRADED_SYSTEM_SERVICE)
    if degraded:
        return PageStatus(Indicator.MINOR, PARTIALLY_DEGRADED_SERVICE)
    if maintenance:
        return PageStatus(Indicator.MAINTENANCE, Indicator.MAINTENANCE.label)
    return PageStatus(Indicator.NONE, Indicator.NONE.label)


def page_status(component_statuses: list[str], unresolved_impacts: Iterable[str] = ()) -> PageStatus:
    """The page's indicator: from its components, raised to at least the impact of any open incident."""
    status = components_status(component_statuses)
    for impact in unresolved_impacts:
        raised = Indicator(impact)
        if INDICATOR_RANK[raised] > INDICATOR_RANK[Indicator(status.indicator)]:
            status = PageStatus(raised, raised.label)
    return status
