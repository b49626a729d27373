"""Scheduled maintenance's services, named here too for the modules that import them from this path.

They live in incidents/services/maintenance.py; what a stage does to components, in incidents/services/stages.py.
"""

from incidents.services.maintenance import (
    DEFAULT_MESSAGES,
    advance_due_maintenance,
    maintenance_complete,
    maintenance_create,
    maintenance_start,
)
from incidents.services.stages import restored_statuses, stage_presets

__all__ = [
    "DEFAULT_MESSAGES",
    "advance_due_maintenance",
    "maintenance_complete",
    "maintenance_create",
    "maintenance_start",
    "restored_statuses",
    "stage_presets",
]
