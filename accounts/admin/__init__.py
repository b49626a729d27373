"""The admin of accounts: users in their roles (users.py), members of pages (members.py), API keys (keys.py) and
the audit log (audit.py)."""

from accounts.admin import audit, keys, members, users  # noqa: F401 - registers the ModelAdmins
