"""The audit log's recorder: every write of an audited model becomes an AuditEntry, in the write's transaction.

Who acted is a context variable, set for each request (AuditActorMiddleware: the signed-in user) and by the
manage API once the key is known (api.manage.ManageView); writes outside a request (commands, tasks) are the
system's. The recorder listens to the models' save and delete signals, so the admin, the API, the commands and
the services all land here without each remembering to. A component's status, written by the services as a
status-change row, is recorded as a change of the component."""

from contextvars import ContextVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models.signals import post_delete, post_save, pre_save

from accounts.backends import page_id_of

_actor: ContextVar[tuple | None] = ContextVar("audit_actor", default=None)

# Never logged (secrets), or changed by every write without meaning anything (bookkeeping).
SKIPPED_FIELDS = {
    *("password", "password_hash", "signing_secret", "key_hash"),  # secrets, and hashes of secrets
    *("version", "updated_at", "last_login", "last_used_at", "last_update_at"),
}


def set_actor(*, user=None, key=None):
    """Name who does the writes that follow in this context; returns a token for reset_actor."""
    return _actor.set((user, key))


def reset_actor(token) -> None:
    _actor.reset(token)


def _actor_fields() -> dict:
    user, key = _actor.get() or (None, None)
    if user is not None and not user.is_authenticated:  # read here, not per request: the user may be lazy
        user = None
    if key is not None:
        label = f"{key.user} (API key {key.prefix}…)"
    else:
        label = str(user) if user is not None else "system"
    return {"user": user, "api_key": key, "actor": label[:200]}


def _json(value):
    if value is None or isinstance(value, (str, int, float, bool, list, dict)):
        return value
    try:
        return DjangoJSONEncoder().default(value)  # dates and times as ISO 8601, decimals, UUIDs
    except TypeError:
        return str(value)


def _values(instance) -> dict:
    return {
        field.attname: _json(getattr(instance, field.attname))
        for field in instance._meta.concrete_fields
        if field.name not in SKIPPED_FIELDS and not field.primary_key
    }


def _record(instance, action, before, after, *, target=None) -> None:
    from accounts.models import AuditEntry

    target = target or instance
    AuditEntry.objects.create(
        **_actor_fields(),
        page_id=page_id_of(target),
        object_type=target._meta.verbose_name[:100],
        object_id=str(target.pk),
        object_repr=str(target)[:200],
        action=action,
        before=before,
        after=after,
    )


def record_change(instance, before: dict, after: dict) -> None:
    """For a write that no save signal sees (a conditional UPDATE, such as revoking a key)."""
    _record(instance, "changed", before, after)


def _remember_before(sender, instance, raw=False, **kwargs):
    if raw or instance._state.adding or instance.pk is None:
        instance._audit_before = None
        return
    old = sender._default_manager.filter(pk=instance.pk).first()
    instance._audit_before = _values(old) if old is not None else None


def _saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    after = _values(instance)
    before = None if created else getattr(instance, "_audit_before", None)
    if before is None:
        _record(instance, "created", None, after)
        return
    changed = [name for name in after if before.get(name) != after[name]]
    if changed:
        _record(instance, "changed", {k: before.get(k) for k in changed}, {k: after[k] for k in changed})


def _deleted(sender, instance, **kwargs):
    _record(instance, "deleted", _values(instance), None)


def _status_changed(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        component = instance.component
        _record(
            instance,
            "changed",
            {"status": instance.old_status},
            {"status": instance.new_status},
            target=component,
        )


def domain_models():
    """The models of incidents and accounts that are audited (notifications adds its subscribers)."""
    from django.contrib.auth import get_user_model

    from accounts.models import ApiKey, Membership
    from incidents.models import (
        AudienceGroup,
        Component,
        ComponentGroup,
        Incident,
        IncidentTemplate,
        IncidentUpdate,
        Page,
        Viewer,
    )  # fmt: skip

    return [Page, Component, ComponentGroup, Incident, IncidentUpdate, IncidentTemplate, Viewer, AudienceGroup,
            Membership, ApiKey, get_user_model()]  # fmt: skip


def connect(models) -> None:
    """Record every save and delete of these models (called by each app's ready())."""
    for model in models:
        uid = f"audit:{model._meta.label}"
        pre_save.connect(_remember_before, sender=model, dispatch_uid=uid)
        post_save.connect(_saved, sender=model, dispatch_uid=uid)
        post_delete.connect(_deleted, sender=model, dispatch_uid=uid)


def connect_domain() -> None:
    from incidents import events
    from incidents.models import ComponentStatusChange

    connect(domain_models())
    post_save.connect(_status_changed, sender=ComponentStatusChange, dispatch_uid="audit:status-change")
    events.fields_updated.connect(record_change)  # the domain's conditional UPDATEs


class AuditActorMiddleware:
    """The signed-in user (after AuthenticationMiddleware) acts in this request; the API names its key later."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = set_actor(user=getattr(request, "user", None))
        try:
            return self.get_response(request)
        finally:
            reset_actor(token)
