"""Subscriber rules in the services: addresses compared case-insensitively, concurrent subscribes, scopes on
the subscriber's own page, confirmations through the outbox and the rate limit, the CSV import as a task."""

import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection

from incidents import services
from notifications import imports, ratelimit
from notifications import services as notify
from notifications.models import EmailKind, ImportStatus, Subscriber, SubscriberEmail, SubscriberImport
from tests.notify_helpers import confirmed

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_address_keeps_its_local_part_and_is_one_subscriber_whatever_its_case(page):
    first = notify.subscribe(page=page, email="  Ann.Lee@Example.COM ")
    assert first.email == "Ann.Lee@example.com"
    again = notify.subscribe(page=page, email="ann.lee@EXAMPLE.com")
    assert again.pk == first.pk
    assert Subscriber.objects.count() == 1
    with pytest.raises(IntegrityError):
        Subscriber.objects.create(page=page, email="ANN.LEE@example.com")


def test_subscribing_the_same_new_address_at_the_same_instant_gives_one_subscriber_and_no_error(postgres, page):
    threads, errors, results = 8, [], []
    barrier = threading.Barrier(threads)

    def subscribe():
        try:
            barrier.wait()
            results.append(notify.subscribe(page=page, email="race@example.com", confirmed=True).pk)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=subscribe) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert errors == []
    assert len(set(results)) == 1
    assert Subscriber.objects.filter(email="race@example.com").count() == 1


def test_a_scope_from_another_page_is_a_validation_error(page):
    other = services.page_create(name="Other")
    foreign = services.component_create(page=other, name="Foreign")
    subscriber = confirmed(page, "ann@example.com")
    with pytest.raises(ValidationError):
        notify.subscriber_set_components(subscriber=subscriber, components=[foreign], groups=[])


def test_confirmation_emails_are_rows_first_and_take_their_turn_in_the_outbound_rate_limit(page, monkeypatch):
    turns = []
    monkeypatch.setattr(ratelimit, "acquire", lambda: turns.append(1))
    subscriber = notify.subscribe(page=page, email="ann@example.com")
    (row,) = SubscriberEmail.objects.all()
    assert (row.kind, row.status) == (EmailKind.CONFIRM, "sent")
    assert [m.subject for m in mail.outbox] == ["[Acme Cloud] Confirm your subscription"]
    assert turns == [1]
    notify.subscriber_confirm(subscriber)
    assert [m.subject for m in mail.outbox][-1] == "[Acme Cloud] You are subscribed"
    assert turns == [1, 1]


def test_the_csv_import_is_refused_above_its_size_limit_and_says_why(admin_client, page, settings):
    settings.NOTIFICATIONS_IMPORT_MAX_ADDRESSES = 2
    upload = SimpleUploadedFile("list.csv", b"a@example.com\nb@example.com\nc@example.com\n")
    response = admin_client.post("/admin/notifications/subscriber/import/", {"page": page.pk, "file": upload})
    assert response.status_code == 200
    assert "at most 2 can be imported at once" in response.content.decode()
    assert Subscriber.objects.count() == 0
    assert SubscriberImport.objects.count() == 0


def test_a_long_import_runs_in_slices_and_shows_its_progress(page):
    job = imports.start_import(
        page=page, data=b"email\na@example.com\nB@Example.com\nb@example.com\nnope\nc@example.com\n",
        active_at_once=True,
    )  # fmt: skip
    assert job.addresses == ["a@example.com", "B@example.com", "c@example.com"]
    assert job.invalid_lines == ["nope"]
    SubscriberImport.objects.filter(pk=job.pk).update(status=ImportStatus.WAITING, done=0)
    imports.run_import(job.pk, budget=0)  # one address a run; each run hands the rest to the next
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == (ImportStatus.DONE, 3, 3)
    assert Subscriber.objects.count() == 3
