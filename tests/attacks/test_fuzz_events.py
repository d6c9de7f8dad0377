"""Fuzzing every model that crosses the bus: arbitrary bytes and arbitrary JSON either
validate or raise pydantic's ValidationError, nothing else, so a consumer can always turn a
bad message into a dead letter with a reason. What validates survives a JSON round trip."""

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

import tally.contracts.alerting
import tally.contracts.chat_events
import tally.contracts.chat_reports
import tally.contracts.events
from tally.contracts.chat_events import CHAT_EVENT
from tally.contracts.events import Event


def _subclasses(cls: type[Event]) -> list[type[Event]]:
    found = []
    for sub in cls.__subclasses__():
        found.extend([sub, *_subclasses(sub)])
    return found


MODELS = sorted(set(_subclasses(Event)), key=lambda model: model.__name__)
ADAPTERS: list[TypeAdapter[Any]] = [*(TypeAdapter(model) for model in MODELS), CHAT_EVENT]
MODULES = (tally.contracts.alerting, tally.contracts.chat_reports, tally.contracts.events)
"""Imported so their Event subclasses exist when MODELS is collected."""
KEYS = sorted({name for model in MODELS for name in model.model_fields} | {"kind", "version"})
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=8)
    ),
    max_leaves=30,
)


def _validate(adapter: TypeAdapter[Any], raw: bytes | str) -> None:
    try:
        value = adapter.validate_json(raw)
    except ValidationError as error:
        assert error.errors(), "a validation error names what is wrong"
        return
    again = adapter.validate_json(adapter.dump_json(value))
    assert again == value


def test_every_bus_model_is_fuzzed() -> None:
    """The models found include the ones each service consumes (a guard on discovery)."""
    names = {model.__name__ for model in MODELS}
    assert {"QuestionAsked", "QueryPlanned", "QuestionAnswered", "AlertCommand"} <= names
    assert len(MODELS) >= 15


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda adapter: str(adapter._type))
@settings(max_examples=120, deadline=None)
@given(payload=JSON)
def test_any_json_validates_or_raises_a_validation_error(
    adapter: TypeAdapter[Any], payload: object
) -> None:
    """Random JSON documents (with the models' own field names as keys)."""
    _validate(adapter, json.dumps(payload))


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda adapter: str(adapter._type))
@settings(max_examples=60, deadline=None)
@given(raw=st.binary(max_size=300))
def test_any_bytes_validate_or_raise_a_validation_error(
    adapter: TypeAdapter[Any], raw: bytes
) -> None:
    """Random bytes: broken UTF-8, truncated JSON, NUL bytes."""
    _validate(adapter, raw)
