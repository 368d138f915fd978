"""One registry, one alias table, one spec per provider module, one Family per API."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime, timedelta

import pytest

from probed import model, providers
from probed.config import APIS
from probed.providers import ALIASES, SPECS, canonical, display_name, is_known, spec_for
from probed.providers.base import ProviderSpec, is_plan_window
from probed.providers.family import family
from probed.providers.openai_codex import codex_signals
from probed.resets import message_signals

_SUPPORT = {"base", "family", "registry"}


def test_every_provider_module_is_registered_and_nothing_else() -> None:
    names = [m.name for m in pkgutil.iter_modules(providers.__path__) if m.name not in _SUPPORT]
    registered = set()
    for name in names:
        mod = importlib.import_module(f"probed.providers.{name}")
        spec = getattr(mod, "SPEC", None)
        assert isinstance(spec, ProviderSpec), f"probed/providers/{name}.py defines no SPEC"
        assert SPECS[spec.id] is spec, f"{name}.SPEC is not in the registry"
        registered.add(spec.id)
    assert registered == set(SPECS)


def test_the_contract_ids_and_aliases() -> None:
    for pid in (
        "anthropic",
        "openai",
        "google",
        "openrouter",
        "deepseek",
        "moonshot",
        "kimi",
        "groq",
        "mistral",
        "xai",
        "litellm",
    ):
        assert pid in SPECS
    assert canonical(" Gemini ") == "google"
    assert canonical("kimi-coding") == "kimi"
    assert canonical("my-vllm") == "my-vllm"
    assert not is_known("my-vllm") and spec_for("my-vllm") is None
    assert display_name("gemini") == "Google (Gemini)" and display_name("my-vllm") == "my-vllm"


def test_one_alias_table() -> None:
    """status filters, probe targets, the endpoint table and the classifier fold alike."""
    assert model.canonical_provider is canonical
    for alias, pid in ALIASES.items():
        assert pid in SPECS and alias not in SPECS
        assert model.canonical_provider(alias) == pid


@pytest.mark.parametrize("spec", list(SPECS.values()), ids=list(SPECS))
def test_each_spec_is_well_formed(spec: ProviderSpec) -> None:
    assert spec.id == spec.id.strip().lower() and spec.display_name
    assert spec.api in APIS
    assert spec.base_url is None or spec.base_url.startswith(("http://", "https://"))
    kinds = [c.kind for c in spec.free_checks]
    assert len(kinds) == len(set(kinds)) and "models" not in kinds
    for check in spec.free_checks:
        assert check.read is not None, f"{spec.id}: free check {check.kind} has no reader"
    if not spec.models_check:
        assert spec.free_checks, f"{spec.id} would have no free check at all"


@pytest.mark.parametrize("api", APIS)
def test_each_api_has_a_family(api: str) -> None:
    fam = family(api)  # type: ignore[arg-type]
    for name in ("headers", "generation", "read_generation"):
        assert callable(getattr(fam, name))


# ---------------------------------------------------------------------------------------------
# Reset readers declared in the specs, and the prose forms the generic reader learnt

NOW = datetime(2026, 9, 8, 20, 0, tzinfo=UTC)


def test_zai_naive_times_are_china_standard_time() -> None:
    tz = SPECS["zai"].local_tz
    [sig] = message_signals("Your limit will reset at 2026-09-09 05:38:28", NOW, tz=tz)
    assert sig.at == datetime(2026, 9, 8, 21, 38, 28, tzinfo=UTC)
    [sig] = message_signals("您的限额将在 2026-09-09 05:38:28 重置。", NOW, tz=tz)
    assert sig.at == datetime(2026, 9, 8, 21, 38, 28, tzinfo=UTC)
    [utc] = message_signals("Your limit will reset at 2026-09-09 05:38:28", NOW)
    assert utc.at - sig.at == timedelta(hours=8)


def test_a_time_of_day_is_its_next_occurrence() -> None:
    [sig] = message_signals("Resets at 10:00 UTC.", NOW)
    assert sig.at == datetime(2026, 9, 9, 10, 0, tzinfo=UTC)
    [sig] = message_signals("Resets at 21:30 UTC.", NOW)
    assert sig.at == datetime(2026, 9, 8, 21, 30, tzinfo=UTC)
    assert message_signals("Resets at 25:00 UTC.", NOW) == []


def test_codex_headers_apply_only_to_a_spent_window() -> None:
    now = datetime(2026, 5, 4, 19, 24, 56, tzinfo=UTC)
    headers = {
        "x-codex-primary-used-percent": "100",
        "x-codex-primary-reset-at": "1777936568",
        "x-codex-secondary-used-percent": "80",
        "x-codex-secondary-reset-at": "1778239400",
    }
    [sig] = codex_signals(headers, None, "", now)
    assert sig.source == "header:x-codex-primary-reset-at"
    assert sig.at == datetime.fromtimestamp(1777936568, UTC)
    body = {"error": {"type": "usage_limit_reached", "resets_in_seconds": 60}}
    [sig] = codex_signals({}, body, "", now)
    assert sig.at == now + timedelta(seconds=60)
    assert codex_signals({"x-codex-primary-reset-at": "garbage"}, {"error": "x"}, "", now) == []


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("usage limit reached for 5 hour. your limit will reset at 2026-09-09 05:38:28", True),
        ("you've reached your weekly (7-day) usage limit.", True),
        ("free quota used (30 requests / 5h). resets at 10:00 utc.", True),
        ("you have reached the limit. monthly_request_count", True),
        ("you have exceeded your monthly quota (request id: f278)", True),
        ("已达到 5 小时的使用上限。您的限额将在 2026-03-26 18:49:45 重置。", True),
        ("rate limit reached for model `x` on tokens per minute (tpm). try again in 20s", False),
        ("rate limit exceeded for key: x. limit resets at: 2026-10-07 12:41:00 utc", False),
        ("you exceeded your current quota, please check your plan and billing details.", False),
        ("this request would exceed your account's rate limit. please try again later.", False),
    ],
)
def test_plan_windows_are_told_from_short_rate_limits(text: str, window: bool) -> None:
    assert is_plan_window(text) is window


def test_a_spec_can_word_its_own_advice() -> None:
    from probed.actions import action_for
    from probed.reasons import Reason

    assert "used-up plan" in action_for(Reason.AUTH, "mistral")
    assert "used-up plan" not in action_for(Reason.AUTH, "openai")
