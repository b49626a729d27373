"""The outbox's row protocol: claim each message (or window) just before it is sent, record outcomes, sweep.

Every time here is the database's (Now() in SQL), on the writing side and the sweeping side alike, so
clocks of web, worker and beat machines never disagree about what is stuck.

The bound: a message is sent only after one conditional UPDATE has claimed its row for this task (and
refreshed the claim's heartbeat); its outcome is written by the next such UPDATE (batched with the next
message's claim) or right after it. A worker killed at any point leaves at most the one message (or the
windows) in flight unrecorded, and a task whose claim the sweeper gave away sends nothing more.
"""

from datetime import timedelta

from django.db import connection
from django.db.models import Q
from django.db.models.functions import Now

from notifications.models import Delivery, DeliveryStatus

QUEUED, SENDING, SENT = DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value, DeliveryStatus.SENT.value


def ago(seconds: float):
    """Database time `seconds` ago, as an expression."""
    return Now() - timedelta(seconds=seconds)


def due() -> Q:
    """A queued row whose retry time (if any) has come, by the database's clock."""
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=Now())


def insert_deliveries(notification_id: int, subscriber_ids: list[int]) -> dict[int, int]:
    """The notification's rows for these subscribers, queued and marked as handed to the broker, in one INSERT
    that skips the rows a cut-short run already made; of those still queued, the row's id per subscriber."""
    if not subscriber_ids:
        return {}
    values = {
        "notification_id": "%s", "subscriber_id": "s.id", "status": "%s", "attempts": "0", "claim": "''",
        "last_error": "''", "created_at": _now_sql(), "enqueued_at": _now_sql(),
    }  # fmt: skip
    nullable = {f.column for f in Delivery._meta.concrete_fields if f.null}
    columns = [f.column for f in Delivery._meta.concrete_fields if f.column in values]  # the others: NULL, or id
    assert {f.column for f in Delivery._meta.concrete_fields} <= {*values, *nullable, "id"}, "a new column"
    table, subscribers = Delivery._meta.db_table, Delivery._meta.get_field("subscriber").related_model._meta.db_table
    marks = ", ".join(["%s"] * len(subscriber_ids))
    params = {"notification_id": notification_id, "status": DeliveryStatus.QUEUED.value}
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values[c] for c in columns)} FROM {subscribers} s WHERE s.id IN ({marks}) "
        f"ON CONFLICT (notification_id, subscriber_id) DO NOTHING RETURNING id, subscriber_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*(params[c] for c in columns if c in params), *subscriber_ids])
        rows = {subscriber: pk for pk, subscriber in cursor.fetchall()}
    if missing := [s for s in subscriber_ids if s not in rows]:
        # A resumed run: rows made before it that are still queued are handed on again (the claim does the rest).
        again = Delivery.objects.filter(
            notification_id=notification_id, subscriber_id__in=missing, status=DeliveryStatus.QUEUED
        )
        rows.update((subscriber, pk) for pk, subscriber in again.values_list("pk", "subscriber_id"))
    return rows


def _now_sql() -> str:
    # Django's Now() for each backend, written out for the one statement below that needs RETURNING.
    return "STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'NOW')" if connection.vendor == "sqlite" else "STATEMENT_TIMESTAMP()"


def _among(ids: list[int]) -> tuple[str, list]:
    """`… IN (ids)` as SQL and its parameters: on PostgreSQL one array parameter (a thousand placeholders cost
    more to bind than the statement costs to run)."""
    if connection.vendor == "postgresql":
        return "= ANY(%s::bigint[])", [list(ids)]
    return f"IN ({', '.join(['%s'] * len(ids))})", list(ids)


def claim_and_record(claim: str, next_ids: list[int], sent_ids: list[int]) -> dict[int, int]:
    """One statement before a message (or window) is sent: claim the `next_ids` that are queued and due (their
    attempt is counted), check those this claim already holds, record this claim's `sent_ids` as sent, and
    refresh the claim's heartbeat. The `next_ids` this task may send, with their attempt count.

    A row another run holds (the broker redelivered the task, or the sweeper handed it over) is not this
    task's: it is neither claimed, nor sent, nor recorded here.
    """
    if not next_ids and not sent_ids:
        return {}
    table = Delivery._meta.db_table
    now = _now_sql()
    (in_sent, sent), (in_wanted, wanted) = _among(list(sent_ids) or [-1]), _among(list(next_ids) or [-1])
    in_either, either = _among([*sent_ids, *next_ids])
    fresh = "status = %s"  # in SET, the row's old values: a row being claimed now
    sql = (
        f"UPDATE {table} SET "
        f"status = CASE WHEN id {in_sent} THEN %s ELSE %s END, "
        f"sent_at = CASE WHEN id {in_sent} THEN {now} ELSE sent_at END, "
        f"last_error = CASE WHEN id {in_sent} THEN '' ELSE last_error END, "
        f"attempts = CASE WHEN {fresh} THEN attempts + 1 ELSE attempts END, "
        f"claimed_at = CASE WHEN {fresh} THEN {now} ELSE claimed_at END, "
        f"claim = %s, heartbeat_at = {now} "
        # The id is the only indexed condition (a CASE is not), so the primary key is used whatever the
        # statistics say of the status (a queue table's statistics say "few queued" in the middle of a fan-out).
        f"WHERE id {in_either} AND CASE WHEN claim = %s AND status = %s THEN TRUE "
        f"WHEN id {in_wanted} AND status = %s THEN next_attempt_at IS NULL OR next_attempt_at <= {now} "
        f"ELSE FALSE END "
        f"RETURNING id, attempts"
    )
    params = [*sent, SENT, SENDING, *sent, *sent, QUEUED, QUEUED, claim, *either, claim, SENDING, *wanted, QUEUED]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        returned = dict(cursor.fetchall())
    return {pk: returned[pk] for pk in next_ids if pk in returned}


def sweep_stuck_deliveries(stuck_after: float) -> int:
    """Rows of claims with no heartbeat for `stuck_after` seconds go back to the queue (dead or hung worker)."""
    live = Delivery.objects.filter(heartbeat_at__gte=ago(stuck_after)).exclude(claim="").values("claim")
    return (
        Delivery.objects.filter(status=SENDING)
        .exclude(claim__in=live)
        .update(status=DeliveryStatus.QUEUED, claim="", next_attempt_at=None, enqueued_at=None)
    )


def waiting_for_a_task(model, sweep_after: float):
    """Queued rows that are due and not in the broker's hands.

    Never taken (enqueued_at NULL: the broker was away): at once, once due. Taken long ago and still
    waiting (the broker lost the message): `sweep_after` past both the hand-over and the retry time, so
    that a retry's own delayed task runs first.
    """
    never_taken = Q(enqueued_at__isnull=True) & due()
    lost = Q(enqueued_at__lt=ago(sweep_after)) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=ago(sweep_after))
    )
    return model.objects.filter(status=DeliveryStatus.QUEUED).filter(never_taken | lost)
