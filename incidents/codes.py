"""Public codes: 12 lowercase letters and digits, like Statuspage's ids. Integer keys stay internal."""

import re
import secrets
import string

ALPHABET = string.ascii_lowercase + string.digits
LENGTH = 12
CODE_RE = re.compile(r"^[a-z0-9]{12}$")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
