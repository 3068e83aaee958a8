"""``relay`` is ``parse`` and ``append_trace`` in one parse: same message, same bytes, same errors.

Conforming messages are drawn too, so the model often comes from the fast path (``_fastpath``)
before the hop is inserted into the same tree, and otherwise from the full reader.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

import edxml
from tests.property.strategies import limits, messages, mutated_envelopes, organ_ids, timestamps
from tests.property.test_envelopes import SEED_BYTES

Outcome = tuple[edxml.Package | edxml.StatusMessage, bytes] | edxml.EnvelopeError


def _apart(data: bytes, organ_id: str, stamp: dt.datetime, bounds: edxml.Limits) -> Outcome:
    """What the two calls ``relay`` replaces make of ``data``."""
    try:
        message = edxml.parse(data, limits=bounds)
    except edxml.EnvelopeError as exc:
        return exc
    return message, edxml.append_trace(data, organ_id, stamp, limits=bounds)


def _relayed(data: bytes, organ_id: str, stamp: dt.datetime, bounds: edxml.Limits) -> Outcome:
    try:
        return edxml.relay(data, organ_id, stamp, limits=bounds)
    except edxml.EnvelopeError as exc:
        return exc


def _same(got: Outcome, expected: Outcome) -> None:
    if isinstance(expected, edxml.EnvelopeError):
        assert isinstance(got, edxml.EnvelopeError), got
        assert (type(got), got.reason, got.line, got.path) == (
            type(expected),
            expected.reason,
            expected.line,
            expected.path,
        )
    else:
        assert not isinstance(got, edxml.EnvelopeError), got
        assert got == expected
        assert repr(got[0]) == repr(expected[0])  # down to every field's type and value
        assert got[0].findings == expected[0].findings  # not part of the models' equality


@given(messages() | messages(conforming=True), organ_ids(), timestamps())
def test_relay_of_build_is_parse_and_append_trace(
    message: edxml.Package | edxml.StatusMessage, organ_id: str, stamp: dt.datetime
) -> None:
    data = edxml.build(message)
    got, relayed = edxml.relay(data, organ_id, stamp)
    assert (got, relayed) == (edxml.parse(data), edxml.append_trace(data, organ_id, stamp))
    assert got == message


@given(messages() | messages(conforming=True), limits())
def test_relay_refuses_what_parse_refuses_under_any_limits(
    message: edxml.Package | edxml.StatusMessage, bounds: edxml.Limits
) -> None:
    data = edxml.build(message)
    stamp = dt.datetime(2024, 1, 2, 3, 4, 5)
    _same(
        _relayed(data, "000.00.00.G22", stamp, bounds), _apart(data, "000.00.00.G22", stamp, bounds)
    )


@given(st.data())
def test_relay_refuses_damaged_bytes_as_parse_does(data: st.DataObject) -> None:
    damaged = data.draw(mutated_envelopes(valid=SEED_BYTES))
    stamp = dt.datetime(2024, 1, 2, 3, 4, 5)
    bounds = edxml.Limits()
    _same(
        _relayed(damaged, "000.00.00.G22", stamp, bounds),
        _apart(damaged, "000.00.00.G22", stamp, bounds),
    )
