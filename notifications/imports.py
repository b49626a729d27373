"""The CSV import of subscribers: read and checked in the request, run by a task, progress on its row."""

import csv
import io
import time

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Now

from notifications import conf
from notifications.enqueue import enqueue_import
from notifications.models import ImportStatus, SubscriberImport
from notifications.services import normalise_email, subscribe

PROGRESS_EVERY = 100


def read_addresses(data: bytes) -> tuple[list[str], list[str]]:
    """(valid addresses, invalid lines) from a CSV upload: one address per line, or a column named 'email'."""
    text = data.decode("utf-8-sig", errors="replace")
    rows = [row for row in csv.reader(io.StringIO(text)) if row and any(cell.strip() for cell in row)]
    column = 0
    if rows and "email" in [cell.strip().lower() for cell in rows[0]]:
        column = [cell.strip().lower() for cell in rows[0]].index("email")
        rows = rows[1:]
    valid, invalid = {}, []
    for row in rows:
        value = row[column].strip() if len(row) > column else ""
        try:
            validate_email(value)
        except ValidationError:
            invalid.append(",".join(row))
            continue
        address = normalise_email(value)
        valid.setdefault(address.lower(), address)  # once per address, whatever its case
    return list(valid.values()), invalid


def start_import(*, page, data: bytes, active_at_once: bool) -> SubscriberImport:
    """Check the file and keep its addresses on a row; a task runs it after commit (the sweeper, if the
    broker is away)."""
    valid, invalid = read_addresses(data)
    limit = conf.import_max_addresses()
    if len(valid) > limit:
        raise ValidationError(
            f"The file has {len(valid)} addresses; at most {limit} can be imported at once. Split the file."
        )
    job = SubscriberImport.objects.create(
        page=page, addresses=valid, invalid_lines=invalid[:1000], active_at_once=active_at_once, heartbeat_at=Now()
    )
    transaction.on_commit(lambda: enqueue_import(job.pk))
    return job


def run_import(import_id: int, budget: float = 20.0) -> None:
    """Subscribe each address (an existing subscriber is kept as it is), saving progress as it goes.

    A run stops after `budget` seconds (well inside the task time limit) and hands the rest to a new run;
    an address done twice after a crash is subscribed once (subscribe is idempotent).
    """
    claimed = SubscriberImport.objects.filter(pk=import_id, status=ImportStatus.WAITING).update(
        status=ImportStatus.RUNNING, heartbeat_at=Now()
    )
    if not claimed:
        return
    job = SubscriberImport.objects.select_related("page").get(pk=import_id)
    row = SubscriberImport.objects.filter(pk=import_id, status=ImportStatus.RUNNING)
    started, done = time.monotonic(), job.done
    try:
        for address in job.addresses[done:]:
            subscribe(page=job.page, email=address, confirmed=job.active_at_once)
            done += 1
            if done % PROGRESS_EVERY == 0:
                row.update(done=done, heartbeat_at=Now())
            if time.monotonic() - started > budget and done < len(job.addresses):
                row.update(done=done, heartbeat_at=Now(), status=ImportStatus.WAITING)
                enqueue_import(import_id)  # if the broker is away, the sweeper resumes it
                return
        row.update(status=ImportStatus.DONE, done=done, heartbeat_at=Now(), finished_at=Now())
    except Exception as exc:
        row.update(status=ImportStatus.FAILED, done=done, error=repr(exc)[:500], finished_at=Now())
        raise
