"""The admin of accounts: users in their roles (users.py) and API keys (keys.py)."""

from accounts.admin import keys, users  # noqa: F401 - registers the ModelAdmins
