"""Small parts of the adapter, without a server."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot import events as ev
from bot.errors import PuppetUnavailable
from bot.puppet.wechaty import MESSAGE_TYPES, Backoff, _Seen, message_type_of, to_datetime


def test_backoff_doubles_up_to_the_cap_and_starts_over_after_a_reset() -> None:
    backoff = Backoff(min_s=0.5, max_s=4.0)
    delays = [backoff.next() for _ in range(6)]
    for delay, nominal in zip(delays, [0.5, 1, 2, 4, 4, 4], strict=True):
        assert 0.8 * nominal <= delay <= nominal
    backoff.reset()
    assert backoff.next() <= 0.5


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        pytest.param(1_763_900_000, datetime.fromtimestamp(1_763_900_000, timezone.utc), id="seconds"),
        pytest.param(
            1_763_900_000_123, datetime.fromtimestamp(1_763_900_000.123, timezone.utc), id="milliseconds"
        ),
    ],
)
def test_timestamps_in_seconds_or_milliseconds_become_aware_utc(timestamp: int, expected: datetime) -> None:
    assert to_datetime(timestamp) == expected


def test_a_missing_timestamp_means_now() -> None:
    assert abs((to_datetime(0) - datetime.now(timezone.utc)).total_seconds()) < 5


def test_types_are_mapped_by_name_and_unknown_names_are_other() -> None:
    assert message_type_of("MESSAGE_TYPE_TEXT") is ev.MessageType.TEXT
    assert message_type_of("MESSAGE_TYPE_RED_ENVELOPE") is ev.MessageType.OTHER
    assert set(MESSAGE_TYPES.values()) == set(ev.MessageType) - {ev.MessageType.OTHER}


def test_seen_keys_are_bounded_and_can_be_forgotten() -> None:
    seen = _Seen(size=2)
    assert seen.add(("m", 1)) and not seen.add(("m", 1))
    seen.add(("m", 2))
    seen.add(("m", 3))  # pushes out ("m", 1)
    assert seen.add(("m", 1))
    seen.forget(("m", 3))
    assert seen.add(("m", 3))


def test_from_config_takes_the_endpoint_from_the_config_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config import Config, PuppetConfig
    from bot.puppet.wechaty import WechatyPuppet

    cfg = Config(
        data_dir=str(tmp_path), puppet=PuppetConfig(endpoint="127.0.0.1:1", token="t", reconnect_max_s=7)
    )
    puppet = WechatyPuppet.from_config(cfg)
    assert (puppet.endpoint, puppet._token, puppet._backoff.max_s) == ("127.0.0.1:1", "t", 7)
    assert puppet.cache_dir == tmp_path / "wechaty"

    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_ENDPOINT", "127.0.0.1:2")
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_TOKEN", "from-env")
    puppet = WechatyPuppet.from_config(Config(data_dir=str(tmp_path)))
    assert (puppet.endpoint, puppet._token) == ("127.0.0.1:2", "from-env")

    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_ENDPOINT")
    with pytest.raises(PuppetUnavailable, match="endpoint"):
        WechatyPuppet.from_config(Config(data_dir=str(tmp_path)))
