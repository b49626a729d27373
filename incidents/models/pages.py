"""Pages: their settings, addresses and logo; the helpers every model's code field uses."""

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from incidents.choices import (
    Visibility,
)
from incidents.codes import CODE_RE, new_code
from incidents.languages import LOCALIZED, prefixed

code_validator = RegexValidator(CODE_RE, "A code is 12 lowercase letters or digits.")


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"Unknown time zone {value!r}; use an IANA name such as Europe/Paris.") from None


def split_domains(text: str) -> list[str]:
    """Domains one per line (or comma-separated), lowercased, without a leading @."""
    return [d.strip().lower().lstrip("@") for d in (text or "").replace(",", "\n").splitlines() if d.strip()]


def code_field():
    return models.CharField(max_length=12, unique=True, default=new_code, editable=False, validators=[code_validator])


class Page(models.Model):
    code = code_field()
    name = models.CharField(max_length=100)
    time_zone = models.CharField(max_length=63, default="UTC", validators=[validate_time_zone])
    url = models.URLField(blank=True, help_text="The company's own website, linked from the page header.")
    support_url = models.CharField(
        max_length=200,
        blank=True,
        validators=[RegexValidator(r"^(https?://|mailto:)\S+$", "Use an http(s):// URL or a mailto: address.")],
        help_text="Where customers get help: a URL or mailto: address, shown in the footer.",
    )
    # The logo's content type, empty without one: all the header needs, read with the page row. The
    # image itself is a PageLogo row, so that no page row read (select_related("page")) carries it.
    logo_type = models.CharField(max_length=32, blank=True, editable=False)
    accent_colour = models.CharField(
        max_length=7,
        default="#1f5fbf",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour such as #1f5fbf.")],
        help_text="Links and buttons on the public page.",
    )
    is_default = models.BooleanField(default=False, help_text="Served at / (the others under /p/<id>/).")
    default_language = models.CharField(
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text="The language of the page's addresses without a language code (/, /p/<id>/); every language "
        "is also at its own address (/fr/, /fr/p/<id>/).",
    )
    # Who may read it (incidents/access.py): a non-public page is never cached for all, published or listed.
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)
    # The shared password of a "password" page, hashed by django.contrib.auth.hashers (set through page_services).
    password_hash = models.CharField(max_length=128, blank=True, editable=False)
    allowed_domains = models.TextField(
        blank=True,
        help_text="For an “email domains” page: one domain per line (example.com); an address there gets a link.",
    )
    # Bumped after every committed change; public responses are cached and ETagged by it.
    version = models.PositiveBigIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_page"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self) -> str:
        return self.public_url("home")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC

    def domain_list(self) -> list[str]:
        return [
            d.strip().lower().lstrip("@") for d in self.allowed_domains.replace(",", "\n").splitlines() if d.strip()
        ]

    def allows_domain(self, email: str) -> bool:
        return self.visibility == Visibility.EMAIL_DOMAIN and email.rpartition("@")[2].lower() in self.domain_list()

    def public_url(self, name: str, **kwargs) -> str:
        """The path of one of this page's public views, at / for the default page or under /p/<id>/, in the
        language of the address being rendered (/fr/…, incidents/languages.py)."""
        path = _public_path(None if self.is_default else self.code, name, tuple(sorted(kwargs.items())))
        return prefixed(path) if name in LOCALIZED else path


@lru_cache(maxsize=8192)
def _public_path(page_code: str | None, name: str, kwargs: tuple) -> str:
    """Reversing is slow and the URLconf never changes while a process runs: a page lists hundreds of links."""
    if page_code is None:
        return reverse(name, kwargs=dict(kwargs))
    return reverse(f"page-{name}", kwargs={"page_code": page_code, **dict(kwargs)})


class PageLogo(models.Model):
    """The image shown in the public page's header (its type is Page.logo_type): read only by the logo view.

    Written by incidents.page_services.page_set_logo, which checks it is a PNG, JPEG, GIF or WebP image."""

    page = models.OneToOneField(Page, on_delete=models.CASCADE, primary_key=True, related_name="logo")
    data = models.BinaryField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Logo of {self.page_id}"
