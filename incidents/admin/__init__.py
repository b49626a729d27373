"""The admin UI at /admin/: the responder's incident screens and the page admin's settings."""

from incidents.admin import access, components, incidents, templates  # noqa: F401 - registers the ModelAdmins
