"""Permissions of the incidents app beyond Django's add/change/delete/view, asked through `user.has_perm`.

Declared here, by the app they belong to; accounts.roles creates them after migrate and gives them to roles.
"""

# Changing a component beyond its status (name, group, description, position, display options): the admin's
# component form and the manage API's PATCH both ask for it. "change_component" alone is the status only.
COMPONENT_DETAILS = "incidents.change_component_details"

# (model, codename, name) of each.
CUSTOM_PERMISSIONS = (("component", "change_component_details", "Can change a component's details, beyond its status"),)
