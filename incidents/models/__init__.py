"""The domain: pages, component groups, components and their status history, incidents and updates.

Writes go through incidents/services.py; the methods here answer pure questions about state.
"""

from incidents.models.audiences import AudienceGroup, Viewer
from incidents.models.components import Component, ComponentDay, ComponentGroup
from incidents.models.incidents import (
    ComponentStatusChange,
    Incident,
    IncidentTemplate,
    IncidentTemplateComponent,
    IncidentUpdate,
)
from incidents.models.pages import Page, PageLogo, code_field, code_validator, split_domains, validate_time_zone

__all__ = [
    "AudienceGroup", "Component", "ComponentDay", "ComponentGroup", "ComponentStatusChange", "Incident",
    "IncidentTemplate", "IncidentTemplateComponent", "IncidentUpdate", "Page", "PageLogo", "Viewer", "code_field",
    "code_validator", "split_domains", "validate_time_zone",
]  # fmt: skip
