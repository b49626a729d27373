"""The client address for the per-IP limits: behind N trusted proxies, the Nth X-Forwarded-For entry from the right
(the left entries are the client's to forge); REMOTE_ADDR otherwise."""

import pytest
from django.test import RequestFactory

from notifications.ratelimit import client_ip

PROXY = "10.0.0.5"  # REMOTE_ADDR: our reverse proxy


def ip(forwarded=None, *, remote=PROXY, **headers):
    meta = {"REMOTE_ADDR": remote, **headers}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **meta))


def test_without_proxies_the_address_is_the_connections(settings):
    settings.TRUSTED_PROXY_HOPS, settings.CLIENT_IP_HEADER = 0, ""
    assert ip("198.51.100.9", remote="203.0.113.7") == "203.0.113.7"


def test_behind_one_proxy_the_address_it_appended_counts_not_the_forged_ones(settings):
    settings.TRUSTED_PROXY_HOPS, settings.CLIENT_IP_HEADER = 1, ""
    assert ip("203.0.113.7") == "203.0.113.7"
    assert ip("1.2.3.4, 203.0.113.7") == "203.0.113.7"  # the client sent "X-Forwarded-For: 1.2.3.4"
    assert ip("1.2.3.4,5.6.7.8 ,  203.0.113.7") == "203.0.113.7"


def test_behind_two_proxies_the_second_entry_from_the_right_counts(settings):
    settings.TRUSTED_PROXY_HOPS, settings.CLIENT_IP_HEADER = 2, ""
    # client 203.0.113.7 → CDN (appends it) → nginx (appends the CDN's 192.0.2.10) → app
    assert ip("1.2.3.4, 203.0.113.7, 192.0.2.10") == "203.0.113.7"
    assert ip("2001:db8::1, 192.0.2.10") == "2001:db8::1"


def test_a_request_that_did_not_come_through_the_proxies_counts_by_its_connection(settings):
    settings.TRUSTED_PROXY_HOPS, settings.CLIENT_IP_HEADER = 2, ""
    assert ip("192.0.2.10") == PROXY  # one entry for two hops
    assert ip() == PROXY
    assert ip("1.2.3.4, not-an-address, 192.0.2.10") == PROXY


def test_a_header_the_proxy_overwrites_is_read_as_one_hop(settings):
    settings.TRUSTED_PROXY_HOPS, settings.CLIENT_IP_HEADER = 0, "X-Real-IP"
    assert ip(HTTP_X_REAL_IP="203.0.113.7") == "203.0.113.7"
    assert ip("1.2.3.4", HTTP_X_REAL_IP="203.0.113.7") == "203.0.113.7"
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"  # named explicitly: still the rightmost, never the forged left
    assert ip("1.2.3.4, 203.0.113.7") == "203.0.113.7"


def subscribe(client, email, forwarded):
    return client.post("/subscribe", {"email": email}, HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=PROXY)


@pytest.mark.django_db(transaction=True)
def test_a_forged_x_forwarded_for_does_not_escape_the_per_ip_limit(client, page, settings):
    settings.TRUSTED_PROXY_HOPS, settings.CLIENT_IP_HEADER = 1, ""
    settings.NOTIFICATIONS_SUBSCRIBE_LIMIT_PER_IP = (2, 3600)
    for n, forged in enumerate(["1.1.1.1", "2.2.2.2", "3.3.3.3"]):
        response = subscribe(client, f"r{n}@example.com", f"{forged}, 203.0.113.7")
        assert response.status_code == (200 if n < 2 else 429)
    # Another client behind the same proxy has its own count.
    assert subscribe(client, "other@example.com", "198.51.100.2").status_code == 200
