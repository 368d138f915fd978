"""probed.notifications: message text, what a store read becomes, the sending task."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest
from helpers.notifyserver import Recorder

from probed.config import NotifyConfig
from probed.episodes import Cleared, Down, Notice
from probed.errors import ConfigError
from probed.logs import configure
from probed.notifications import (
    AppriseSender,
    Notifications,
    SendFailed,
    describe,
    digest,
    observations,
)
from probed.reasons import Reason
from probed.stores.discover import discover

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
SECRET = "sk-ant-api03-SECRET-1621-aaaaaaaaaaaaaaaa"


def notice(event: str = "action_needed", reason: Reason = Reason.BILLING) -> Notice:
    return Notice(
        event,  # type: ignore[arg-type]
        "main",
        "anthropic:default",
        "anthropic",
        reason,
        None,
        NOW + timedelta(hours=5),
        NOW + timedelta(minutes=10),
        "top up the account's credit",
    )


def test_a_message_says_what_happened_what_to_do_and_when_probed_looks_again() -> None:
    title, body = describe(notice(), NOW)
    assert title == "probed: anthropic:default needs action (billing)"
    assert "agent main, profile anthropic:default (provider anthropic)" in body
    assert "What to do: top up the account's credit." in body
    assert "probed looks again at 2026-12-02T08:10:00Z (in 10m00s)" in body
    assert "window ends at 2026-12-02T13:00:00Z" in body
    title, body = describe(notice("recovered"), NOW)
    assert "usable again" in title and "was unusable (billing)" in body
    title, body = describe(notice("unavailable", Reason.QUOTA), NOW)
    assert "unavailable for now (quota)" in title


def test_a_digest_names_every_profile() -> None:
    many = [notice(), notice("recovered"), notice(), notice()]
    title, body = digest(many, NOW)
    assert title == "probed: 4 changes to 1 OpenClaw profile (3 unusable, 1 usable again)"
    assert body.count("anthropic:default") == 4


def test_observations_follow_the_store(tmp_path: Path) -> None:
    from helpers.openclawstate import AgentStore, api_key, cooldown, now_ms

    store = AgentStore(tmp_path, "main", "B")
    t = now_ms()
    store.write(
        {
            "anthropic:down": api_key("anthropic", SECRET),
            "anthropic:expired": api_key("anthropic", SECRET),
            "anthropic:ok": api_key("anthropic", SECRET),
            "openrouter:x": api_key("openrouter", SECRET),
        },
        {
            "anthropic:down": cooldown(t + 60_000, "auth"),
            "anthropic:expired": cooldown(t - 1000),
            "openrouter:x": cooldown(t + 60_000),
        },
    )
    from probed.config import OpenClawConfig

    (found,) = discover(OpenClawConfig(state_dir=tmp_path))
    seen = observations(
        found.read(), now=datetime.now(UTC), ledger=None, next_look=lambda _p, _m: NOW
    )
    assert set(seen) == {"anthropic:down", "anthropic:expired", "anthropic:ok"}
    d = seen["anthropic:down"]
    assert isinstance(d, Down) and d.reason is Reason.AUTH and d.next_look == NOW
    assert "re-authenticate" in d.action
    assert seen["anthropic:expired"] is None  # ended, not cleared: no change either way
    assert isinstance(seen["anthropic:ok"], Cleared)


class Recording:
    def __init__(self, label: str = "test#1", fail: bool = False, hang: bool = False) -> None:
        self.label = label
        self.fail = fail
        self.hang = threading.Event() if hang else None
        self.sent: list[tuple[str, str]] = []

    def send(self, title: str, body: str, *, timeout: float) -> None:
        if self.hang is not None:
            self.hang.wait(10)
        if self.fail:
            raise SendFailed("the service did not accept the message")
        self.sent.append((title, body))


def test_the_service_saves_before_it_sends_and_survives_bad_senders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure("info", "console")
    good, bad, stuck = Recording("a#1"), Recording("b#2", fail=True), Recording("c#3", hang=True)
    config = NotifyConfig(urls=("x://1", "x://2", "x://3"))
    n = Notifications(config, tmp_path, senders=[good, bad, stuck], send_timeout=0.5)
    obs = Down("anthropic", Reason.BILLING, None, NOW, NOW, "top up")

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            await tg.start(n.serve)
            await n.observe("main", {"anthropic:default": obs})
            saved = json.loads((tmp_path / "notifications.json").read_text())
            assert saved["profiles"][0]["notified"] == "billing"  # on disk before it is sent
            with anyio.fail_after(10):
                while not good.sent:
                    await anyio.sleep(0.05)
            await n.observe("main", {"anthropic:default": obs})  # same episode: nothing
            await anyio.sleep(3)
            tg.cancel_scope.cancel()

    anyio.run(main)
    assert stuck.hang is not None
    stuck.hang.set()
    assert len(good.sent) == 1 and "anthropic:default" in good.sent[0][1]
    out = capsys.readouterr().out
    assert "notify_failed" in out and "service=b#2" in out and "service=c#3" in out
    assert "no answer within 0.5s" in out
    assert "notify_sent" in out and "service=a#1" in out


def test_apprise_urls_it_cannot_read_are_configuration_errors() -> None:
    with pytest.raises(ConfigError, match=r"notify.urls entry 2 \(nosuch://\.\.\.\)"):
        Notifications(NotifyConfig(urls=("json://127.0.0.1/x", "nosuch://p4ss@h")), Path("/"))


def test_apprise_sender_reports_a_failed_delivery() -> None:
    with Recorder() as rec:
        rec.status = 500
        sender = AppriseSender(f"json://127.0.0.1:{rec.port}/hook", 0)
        with pytest.raises(SendFailed):
            sender.send("t", "b", timeout=5)
        rec.status = 200
        sender.send("t", "b", timeout=5)
        assert rec.on("/hook")[-1].json()["message"] == "b"
