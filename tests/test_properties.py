"""Property-based tests: valid payloads round-trip exactly through the wire format; invalid
input of every kind is refused with HiveSocketValidationError before any I/O."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pytest

from hive_socket import (
    Broadcast,
    HiveSocketClient,
    HiveSocketValidationError,
    Notification,
    NotificationType,
)
from hive_socket._wire import converter, encode_json
from tests.conftest import API_KEY
from tests.recording_server import RecordingServer

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

text = st.text(min_size=1).filter(lambda s: s.strip() != "")
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(), json_values, max_size=5)

notifications = st.builds(
    Notification,
    title=text,
    body=st.text(),
    type=st.sampled_from(list(NotificationType)),
    project_id=st.none() | text,
    metadata=st.none() | json_objects,
    source_service=st.none() | text,
)
broadcasts = st.builds(
    Broadcast,
    type=text,
    payload=json_objects,
    project_id=st.none() | text,
    sender_id=st.none() | text,
)


@SETTINGS
@given(payload=notifications | broadcasts)
def test_payloads_round_trip_through_the_wire(payload: Notification | Broadcast) -> None:
    wire = json.loads(encode_json(converter.unstructure(payload)))
    assert None not in wire.values()  # absent fields are omitted, never null
    assert all("_" not in key for key in wire)  # camelCase on the wire
    assert converter.structure(wire, type(payload)) == payload


class Unencodable:
    def __repr__(self) -> str:
        return "Unencodable()"


not_str = (
    st.integers()
    | st.floats()
    | st.binary()
    | st.none()
    | st.lists(st.text(), max_size=2)
    | st.builds(Unencodable)
)
empty_text = st.sampled_from(["", " ", "\t", "\n  "])
bad_ids = not_str.filter(lambda v: v is not None) | empty_text
bad_json_leaf = (
    st.sampled_from([math.nan, math.inf, -math.inf])
    | st.sets(st.integers(), max_size=2)
    | st.builds(Unencodable)
    | st.binary(min_size=1)
    | st.complex_numbers()
)


@st.composite
def bad_json_objects(draw: st.DrawFn) -> Any:
    """A JSON object with one bad part somewhere inside, or not an object at all."""
    kind = draw(st.sampled_from(["leaf", "key", "not-a-mapping"]))
    if kind == "not-a-mapping":
        return draw(st.lists(st.integers(), max_size=2) | st.text() | st.integers())
    inner: Any = (
        draw(bad_json_leaf)
        if kind == "leaf"
        else {draw(st.integers() | st.tuples(st.integers())): "value"}
    )
    for _ in range(draw(st.integers(0, 3))):
        inner = draw(st.sampled_from([[inner], {"nested": inner}, (inner, 1)]))
    return {"field": inner}


GOOD: dict[str, Any] = {"title": "t", "body": "b", "type": "info"}


@st.composite
def bad_calls(draw: st.DrawFn) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """One call of the client API with exactly one bad argument."""
    which = draw(
        st.sampled_from(
            [
                "user_id",
                "room_id",
                "title",
                "body",
                "type",
                "metadata",
                "payload",
                "broadcast_type",
                "project_id",
                "source_service",
                "sender_id",
                "user_ids",
                "oversize",
            ]
        )
    )
    if which == "user_id":
        return "notify.user", (draw(bad_ids),), dict(GOOD)
    if which == "room_id":
        return "notify.room", (draw(bad_ids),), dict(GOOD)
    if which == "title":
        return "notify.user", ("u",), {**GOOD, "title": draw(bad_ids)}
    if which == "body":
        return (
            "notify.user",
            ("u",),
            {**GOOD, "body": draw(not_str.filter(lambda v: v is not None))},
        )
    if which == "type":
        bad_type = draw(
            st.text().filter(lambda s: s not in set(NotificationType))
            | not_str.filter(lambda v: v is not None)
        )
        return "notify.user", ("u",), {**GOOD, "type": bad_type}
    if which == "metadata":
        return "notify.room", ("r",), {**GOOD, "metadata": draw(bad_json_objects())}
    if which == "payload":
        return "broadcast.to_room", ("r",), {"type": "t", "payload": draw(bad_json_objects())}
    if which == "broadcast_type":
        return "broadcast.to_room", ("r",), {"type": draw(bad_ids), "payload": {}}
    if which == "project_id":
        return "notify.user", ("u",), {**GOOD, "project_id": draw(bad_ids)}
    if which == "source_service":
        return "notify.user", ("u",), {**GOOD, "source_service": draw(bad_ids)}
    if which == "sender_id":
        return "broadcast.to_room", ("r",), {"type": "t", "payload": {}, "sender_id": draw(bad_ids)}
    if which == "user_ids":
        ids = draw(st.lists(text, max_size=3))
        ids.insert(draw(st.integers(0, len(ids))), draw(bad_ids))
        return "notify.users", (ids,), dict(GOOD)
    size = draw(st.integers(1024 * 1024, 2 * 1024 * 1024))
    return "notify.user", ("u",), {**GOOD, "metadata": {"blob": "x" * size}}


@pytest.fixture(scope="module")
def quiet_server(server_portal: Any) -> Iterator[RecordingServer]:
    recording = RecordingServer()
    server_portal.call(recording.start)
    yield recording
    server_portal.call(recording.stop)


@pytest.fixture(scope="module")
def hive(quiet_server: RecordingServer) -> Iterator[HiveSocketClient]:
    with HiveSocketClient(quiet_server.url, API_KEY, project_id="p", max_retries=0) as client:
        yield client


@SETTINGS
@given(call=bad_calls())
def test_invalid_input_is_refused_before_io(
    call: tuple[str, tuple[Any, ...], dict[str, Any]],
    hive: HiveSocketClient,
    quiet_server: RecordingServer,
) -> None:
    name, args, kwargs = call
    namespace, method = name.split(".")
    with pytest.raises(HiveSocketValidationError):
        getattr(getattr(hive, namespace), method)(*args, **kwargs)
    assert quiet_server.requests == []
