"""Tests of mockserver/webhooks/consumers.py: registering, listing, removing consumers and
which events each one receives."""

from __future__ import annotations

import random
from typing import Any

import pytest

from mockserver.clock import Clock
from mockserver.errors import BadRequest, NotFound
from mockserver.webhooks.consumers import ConsumerRegistry
from mockserver.webhooks.signing import new_secret
from mockserver.webhooks.targets import TargetPolicy
from tests.conftest import T0
from tests.handlers.support import is_uuid4
from tests.webhooks.conftest import resolve

URL = "https://receiver.test/hook"


@pytest.fixture
def registry(clock: Clock) -> ConsumerRegistry:
    return ConsumerRegistry(clock, random.Random(11), TargetPolicy(resolve))


def test_add_makes_a_secret_and_an_id_and_stamps_the_mock_time(registry: ConsumerRegistry) -> None:
    consumer = registry.add(URL)
    assert is_uuid4(consumer.id)
    assert consumer.secret.startswith("whsec_")
    assert consumer.created == T0
    assert consumer.events is None
    assert registry.get(consumer.id) is consumer


def test_add_keeps_a_given_secret_and_event_list(registry: ConsumerRegistry) -> None:
    secret = new_secret(random.Random(99))
    consumer = registry.add(URL, secret=secret, events=["connection.deleted"], client_id="c1")
    assert consumer.secret == secret
    assert consumer.to_json() == {
        "id": consumer.id,
        "url": URL,
        "secret": secret,
        "events": ["connection.deleted"],
        "clientId": "c1",
        "allTenants": False,
        "created": "2026-03-02T09:00:00Z",
    }


def test_a_consumer_without_a_client_id_says_it_gets_every_tenants_events(
    registry: ConsumerRegistry,
) -> None:
    everyone = registry.add(URL)
    assert (everyone.to_json()["clientId"], everyone.to_json()["allTenants"]) == (None, True)
    assert everyone.wants("connection.deleted", "tenant-a")
    assert everyone.wants("connection.deleted", "tenant-b")
    scoped = registry.add(URL, client_id="tenant-a")
    assert (scoped.to_json()["clientId"], scoped.to_json()["allTenants"]) == ("tenant-a", False)
    assert not scoped.wants("connection.deleted", "tenant-b")


def test_the_same_seed_gives_the_same_ids_and_secrets(clock: Clock) -> None:
    one = ConsumerRegistry(clock, random.Random(4), TargetPolicy(resolve)).add(URL)
    two = ConsumerRegistry(clock, random.Random(4), TargetPolicy(resolve)).add(URL)
    assert (one.id, one.secret) == (two.id, two.secret)


@pytest.mark.parametrize(
    ("kwargs", "item_id"),
    [
        ({"url": "ftp://receiver.test/hook"}, "url"),
        ({"url": "https:///no-host"}, "url"),
        ({"url": URL, "secret": "whsec_c2hvcnQ="}, "secret"),
        ({"url": URL, "events": []}, "events"),
        ({"url": URL, "events": ["connection.deleted", ""]}, "events.1"),
    ],
)
def test_add_refuses_bad_input_naming_the_field(
    registry: ConsumerRegistry, kwargs: dict[str, Any], item_id: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        registry.add(**kwargs)
    assert [item.item_id for item in caught.value.validation] == [item_id]
    assert registry.all() == []


def test_add_reports_every_problem_at_once(registry: ConsumerRegistry) -> None:
    with pytest.raises(BadRequest) as caught:
        registry.add("mailto:x", secret="nope", events=[])
    assert sorted(i.item_id or "" for i in caught.value.validation) == ["events", "secret", "url"]


@pytest.mark.parametrize(
    ("body", "item_id"),
    [
        ([], "body"),
        ({}, "url"),
        ({"url": 5}, "url"),
        ({"url": URL, "secret": 5}, "secret"),
        ({"url": URL, "events": "connection.deleted"}, "events"),
        ({"url": URL, "clientId": 5}, "clientId"),
        ({"url": URL, "colour": "red"}, "colour"),
        ({"url": URL + "x" * 2048}, "url"),
        ({"url": URL, "secret": "whsec_" + "A" * 256}, "secret"),
        ({"url": URL, "clientId": "c" * 256}, "clientId"),
        ({"url": URL, "events": ["connection.deleted"] * 51}, "events"),
    ],
)
def test_add_from_json_checks_the_body_shape(
    registry: ConsumerRegistry, body: Any, item_id: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        registry.add_from_json(body)
    assert [item.item_id for item in caught.value.validation] == [item_id]


def test_add_from_json_registers_with_every_field(registry: ConsumerRegistry) -> None:
    consumer = registry.add_from_json({"url": URL, "events": ["*"], "clientId": "c1"})
    assert (consumer.url, consumer.events, consumer.client_id) == (URL, ["*"], "c1")


def test_list_is_in_registration_order_and_remove_takes_one_out(
    registry: ConsumerRegistry,
) -> None:
    first, second, third = (registry.add(f"{URL}/{n}") for n in range(3))
    assert registry.all() == [first, second, third]
    assert registry.remove(second.id) is second
    assert registry.all() == [first, third]
    with pytest.raises(NotFound, match=second.id):
        registry.remove(second.id)
    with pytest.raises(NotFound):
        registry.get(second.id)


def test_event_filters_pick_the_consumers_of_each_event(registry: ConsumerRegistry) -> None:
    everything = registry.add(URL)
    wildcard = registry.add(URL, events=["*"])
    deleted_only = registry.add(URL, events=["connection.deleted"])
    created_only = registry.add(URL, events=["connection.created"])
    assert registry.subscribed("connection.deleted") == [everything, wildcard, deleted_only]
    assert registry.subscribed("connection.created") == [everything, wildcard, created_only]


def test_a_client_bound_consumer_gets_only_that_clients_events(registry: ConsumerRegistry) -> None:
    mine = registry.add(URL, client_id="client-a")
    anyone = registry.add(URL)
    assert registry.subscribed("connection.deleted", "client-a") == [mine, anyone]
    assert registry.subscribed("connection.deleted", "client-b") == [anyone]
    # An event raised with no client (not tied to a tenant) reaches every consumer.
    assert registry.subscribed("connection.deleted") == [mine, anyone]


def test_a_quiet_client_id_is_bounded(registry: ConsumerRegistry) -> None:
    with pytest.raises(BadRequest) as caught:
        registry.quiet("c" * 256)
    assert [item.item_id for item in caught.value.validation] == ["clientId"]
    assert registry.quiet_clients() == []
    registry.quiet("c" * 255)
    assert registry.quiet_clients() == ["c" * 255]
