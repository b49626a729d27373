"""The public site's translations (locale/<lang>/LC_MESSAGES/django.po): what makemessages reads, in one place.

`make messages` (python -m statuspage.translations) brings every language's catalogue up to date after a
public string changed; then translate what it added. The admin, the APIs and the tests are not translated.
tests/test_languages.py runs the same extraction and fails on anything new, untranslated or fuzzy.
"""

import os

LOCALES = ["fr", "de", "es", "pt_BR"]
MAKEMESSAGES_OPTIONS = {
    "locale": LOCALES,
    "no_obsolete": True,
    "no_wrap": True,
    "add_location": "file",
    "ignore_patterns": [
        ".venv",
        "tests",
        "bench",
        "staticfiles",
        "var",
        "*/admin/*",
        "*/admin.py",
        "templates/admin/*",
        "templates/drf_spectacular/*",
    ],
}


def main() -> None:
    import django
    from django.core.management import call_command

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statuspage.settings")
    django.setup()
    call_command("makemessages", verbosity=0, **MAKEMESSAGES_OPTIONS)


if __name__ == "__main__":
    main()
