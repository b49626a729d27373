"""Our adjustments to Django's locale formats (FORMAT_MODULE_PATH): what a module leaves out comes from Django.

SHORT_DATE_FORMAT is the day in a page's lists ("Posted Jun 6, 2025 - 21:01 UTC"): a month's name, never a
bare number (06/07 reads as June or July depending on the reader), so the locales' long form where Django's
short one is numeric. English keeps the 24-hour clock of Statuspage's pages that our customers come from.
"""
