"""The write path of `incidents`, split by aggregate; import from here (`services.incident_create`).

- incidents/services/pages.py: pages and components (creation, a component's status), `page_changed`, lock order
- incidents/services/incidents.py: incidents and their updates (declare, post, edit, delete)
- incidents/services/postmortems.py: an incident's postmortem (the draft, its publication)
- incidents/page_services.py: edits of a page's settings, groups, components and templates after creation
- incidents/services/maintenance.py: scheduled maintenance; incidents/services/stages.py: what a stage does
Subscribers live in notifications/services.py. Validation helpers: incidents/validation.py.
"""

from incidents.services.incidents import (
    DERIVED_FIELDS,
    DUPLICATE_MESSAGE,
    DUPLICATE_WINDOW,
    MAX_PROMISE,
    incident_create,
    incident_delete,
    incident_edit,
    incident_post_update,
    incident_refresh,
    incident_update_delete,
    incident_update_edit,
    is_probable_duplicate,
    post_update_rows,
    published_postmortem,
)
from incidents.services.pages import (
    apply_component_status,
    component_create,
    component_group_create,
    component_set_status,
    lock_components,
    next_position,
    page_changed,
    page_create,
)
from incidents.services.postmortems import incident_postmortem_publish, incident_postmortem_save
from incidents.validation import FUTURE_TOLERANCE

__all__ = [
    "DERIVED_FIELDS", "DUPLICATE_MESSAGE", "DUPLICATE_WINDOW", "FUTURE_TOLERANCE", "MAX_PROMISE",
    "apply_component_status", "component_create", "component_group_create", "component_set_status",
    "incident_create", "incident_delete", "incident_edit", "incident_post_update", "incident_postmortem_publish",
    "incident_postmortem_save", "incident_refresh", "incident_update_delete", "incident_update_edit",
    "is_probable_duplicate", "lock_components", "next_position", "page_changed", "page_create", "post_update_rows",
    "published_postmortem",
]  # fmt: skip
