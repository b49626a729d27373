"""Who may see a non-public page: named viewers and audience groups."""

from django.core.exceptions import ValidationError
from django.db import models

from incidents.models.components import Component
from incidents.models.incidents import Incident
from incidents.models.pages import Page


class AudienceGroup(models.Model):
    """A group of a page's viewers and what they see: its components, and its incidents (those listed here and
    those affecting one of its components). A viewer in a group sees nothing else of the page."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="audience_groups")
    name = models.CharField(max_length=100)
    components = models.ManyToManyField(Component, blank=True, related_name="audience_groups")
    incidents = models.ManyToManyField(Incident, blank=True, related_name="audience_groups")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["page", "name"], name="one_audience_group_name_per_page")]

    def __str__(self):
        return self.name


class Viewer(models.Model):
    """Someone named to read a non-public page: they sign in with a link sent to their address."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="viewers")
    email = models.EmailField()  # stored lowercased (incidents.page_services)
    group = models.ForeignKey(
        AudienceGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="viewers",
        help_text="Empty: the viewer sees the whole page.",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email"]
        # The access check: WHERE page_id = ? AND email = ? (the unique index).
        constraints = [models.UniqueConstraint(fields=["page", "email"], name="one_viewer_per_page_email")]

    def __str__(self):
        return self.email

    def clean(self):
        self.email = self.email.strip().lower()
        if self.group_id is not None and self.group.page_id != self.page_id:
            raise ValidationError({"group": "The group belongs to another page."})
