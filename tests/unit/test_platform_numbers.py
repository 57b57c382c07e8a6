"""Numbers and epochs read from payloads: anything but a sane integer fails its own item, never as an overflow."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from socialdesk.platforms.numbers import MAX_SAFE_INTEGER, code, count, id_text, integer
from socialdesk.platforms.timestamps import from_epoch_millis, from_epoch_seconds, from_graph_time


@pytest.mark.parametrize(
    "value", [10**400, str(10**400), -(10**400), "-1", -1, 1.5e12, float("inf"), float("nan"), True, "NaN", "1e309", "١٧٥٢", "", None, [1]]
)
def test_epochs_that_are_not_sane_integers_raise_value_error_only(value: object) -> None:
    # Given a timestamp of hundreds of digits, a negative, a float, a bool or a number-like string
    # Then both readers raise ValueError (which quarantines the item), never OverflowError or TypeError
    with pytest.raises(ValueError):
        from_epoch_millis(value)
    with pytest.raises(ValueError):
        from_epoch_seconds(value)


def test_epoch_millis_are_read_with_integer_arithmetic_to_the_millisecond() -> None:
    assert from_epoch_millis("1752000000123") == datetime(2025, 7, 8, 18, 40, 0, 123000, tzinfo=UTC)
    assert from_epoch_millis(1752000000999) == datetime(2025, 7, 8, 18, 40, 0, 999000, tzinfo=UTC)
    assert from_epoch_seconds("1752000000") == datetime(2025, 7, 8, 18, 40, tzinfo=UTC)


def test_graph_time_that_is_neither_digits_nor_iso_raises_value_error() -> None:
    with pytest.raises(ValueError):
        from_graph_time(1.5)
    with pytest.raises(ValueError):
        from_graph_time(10**400)


def test_counts_and_codes_outside_their_range_read_as_unknown() -> None:
    assert (count(15230), count("15230"), count(MAX_SAFE_INTEGER)) == (15230, 15230, MAX_SAFE_INTEGER)
    assert [count(value) for value in (MAX_SAFE_INTEGER + 1, -1, 1.0, True, "NaN", None)] == [None] * 6
    assert (code(131047), code("-1")) == (131047, -1)
    assert [code(value) for value in (2**31, 10**400, 1.5, False)] == [None] * 4


def test_ids_given_as_numbers_become_their_exact_digits() -> None:
    # X ids exceed 53 bits: a JSON integer id is kept exactly, never through a float
    assert id_text(1924465506158878979) == "1924465506158878979"
    assert id_text("m_1") == "m_1"
    for value in (True, 1.5, -3, "", None, 10**40):
        with pytest.raises(ValueError):
            id_text(value)


def test_integer_rejects_unicode_digits_and_overlong_strings() -> None:
    assert integer("-12") == -12
    for value in ("١٢", "9" * 20, " 12", "+12"):
        with pytest.raises(ValueError):
            integer(value)
