"""The free signals: each reader in the provider specs over responses recorded from the real
endpoints (sources beside each), and the ladder running them before any paid rung."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from helpers.ladderrun import endpoint, ladder

from probed.fakeprovider import serve, shut
from probed.providers import anthropic, kimi, litellm, moonshot, openai_codex, openrouter, zai
from probed.providers.base import Unshaped
from probed.reasons import Reason

# Haleclipse/CCometixLine#95: GET https://api.anthropic.com/api/oauth/usage
CLAUDE_USAGE: dict[str, Any] = {
    "five_hour": {"utilization": 37.0, "resets_at": "2026-03-10T04:59:59.000000+00:00"},
    "seven_day": {"utilization": 26.0, "resets_at": "2026-03-15T14:59:59.771647+00:00"},
    "seven_day_opus": None,
    "seven_day_sonnet": {"utilization": 1.0, "resets_at": "2026-03-16T20:59:59.771655+00:00"},
    "extra_usage": {
        "is_enabled": False,
        "monthly_limit": None,
        "used_credits": None,
        "utilization": None,
    },
}
CLAUDE_NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)

# Adolanium/hermes-resetwatch#2: GET https://chatgpt.com/backend-api/wham/usage, weekly window
# exhausted (the response's `rate_limit` object; the rest of it is not needed here).
CODEX_USAGE: dict[str, Any] = {
    "plan_type": "prolite",
    "rate_limit": {
        "allowed": True,
        "limit_reached": True,
        "primary_window": {
            "used_percent": 100,
            "limit_window_seconds": 604800,
            "reset_after_seconds": 293741,
            "reset_at": 1787818710,
        },
        "secondary_window": None,
    },
}
CODEX_NOW = datetime(2026, 8, 24, 0, 0, tzinfo=UTC)

# getpaseo/paseo#3024: GET https://api.kimi.com/coding/v1/usages
KIMI_USAGES: dict[str, Any] = {
    "usage": {
        "limit": "100",
        "used": "26",
        "remaining": "74",
        "resetTime": "2026-08-11T15:53:05.519605Z",
    },
    "limits": [
        {
            "window": {"duration": 300, "timeUnit": "TIME_UNIT_MINUTE"},
            "detail": {
                "limit": "100",
                "used": "27",
                "remaining": "73",
                "resetTime": "2026-08-08T14:53:05.519605Z",
            },
        }
    ],
    "parallel": {"limit": "30"},
    "totalQuota": {},
    "subType": "TYPE_PURCHASE",
}
# akitaonrails/ai-usagebar#199: the `usages` pools shape, amounts zeroed by the reporter.
KIMI_USAGES_POOLS: dict[str, Any] = {
    "limits": [
        {
            "window": {"duration": 300, "timeUnit": "TIME_UNIT_MINUTE"},
            "detail": {
                "limit": "0",
                "used": "0",
                "remaining": "0",
                "resetTime": "2026-09-16T20:11:32.979529Z",
            },
        }
    ],
    "usages": {
        "limit_5h": {"used_ratio": 0, "reset_time": "2026-09-16T20:11:32Z"},
        "limit_month_total": {"used_ratio": 0.0, "reset_time": "2026-10-16T00:00:00Z"},
        "limit_month_code": {"used_ratio": 0, "reset_time": "2026-10-16T00:00:00Z"},
    },
}
KIMI_NOW = datetime(2026, 8, 8, 12, 0, tzinfo=UTC)

# KiwiGaze/glm-for-copilot#50: GET https://api.z.ai/api/monitor/usage/quota/limit
ZAI_LIMITS: dict[str, Any] = {
    "code": 200,
    "msg": "Operation successful",
    "data": {
        "limits": [
            {
                "type": "CREDIT_LIMIT",
                "unit": 3,
                "number": 5,
                "usage": 28000,
                "currentValue": 5184,
                "remaining": 22815,
                "percentage": 18,
                "nextResetTime": 1788371521831,
            },
            {
                "type": "CREDIT_LIMIT",
                "unit": 6,
                "number": 1,
                "usage": 140000,
                "currentValue": 36192,
                "remaining": 103807,
                "percentage": 25,
                "nextResetTime": 1788875329996,
            },
        ],
        "level": "max",
    },
    "success": True,
}
ZAI_NOW = datetime(2026, 9, 2, 12, 0, tzinfo=UTC)

# Yachiyo-5i/xLyra#76: GET https://api.moonshot.cn/v1/users/me/balance, a funded account and
# an account in arrears.
MOONSHOT_FUNDED = {
    "code": 0,
    "data": {"available_balance": 49.58894, "voucher_balance": 46.58893, "cash_balance": 3.00001},
    "scode": "0x0",
    "status": True,
}
MOONSHOT_ARREARS = {
    "code": 0,
    "data": {"available_balance": 0, "voucher_balance": 0, "cash_balance": -31.14918},
    "scode": "0x0",
    "status": True,
}


def _exhausted(doc: dict[str, Any], *path: str | int, **values: object) -> dict[str, Any]:
    """The recorded response with one window driven to its limit (the exhausted case)."""
    out = copy.deepcopy(doc)
    node: Any = out
    for key in path:
        node = node[key]
    node.update(values)
    return out


def test_claude_usage_with_room_clears_quota() -> None:
    f = anthropic.read_oauth_usage(CLAUDE_USAGE, CLAUDE_NOW)
    assert f is not None and f.reason is None and Reason.QUOTA in f.clears


def test_claude_usage_at_the_limit_is_a_quota_until_its_reset() -> None:
    doc = _exhausted(CLAUDE_USAGE, "five_hour", utilization=100.0)
    f = anthropic.read_oauth_usage(doc, CLAUDE_NOW)
    assert f is not None and f.reason is Reason.QUOTA
    assert f.retry_at == datetime(2026, 3, 10, 4, 59, 59, tzinfo=UTC)
    assert f.retry_source == "free:api/oauth/usage"
    assert "five-hour" in f.message


def test_claude_usage_with_two_windows_spent_waits_for_the_later_reset() -> None:
    doc = _exhausted(CLAUDE_USAGE, "five_hour", utilization=100.0)
    doc["seven_day"]["utilization"] = 100.0
    f = anthropic.read_oauth_usage(doc, CLAUDE_NOW)
    assert f is not None and f.reason is Reason.QUOTA
    assert f.retry_at == datetime(2026, 3, 15, 14, 59, 59, 771647, tzinfo=UTC)
    assert "five-hour, seven-day usage window" in f.message


def test_codex_usage_limit_reached_gives_the_window_reset() -> None:
    f = openai_codex.read_usage(CODEX_USAGE, CODEX_NOW)
    assert f is not None and f.reason is Reason.QUOTA
    assert f.retry_at == datetime.fromtimestamp(1787818710, UTC)


def test_codex_usage_with_room_clears_quota() -> None:
    doc = _exhausted(CODEX_USAGE, "rate_limit", limit_reached=False)
    f = openai_codex.read_usage(doc, CODEX_NOW)
    assert f is not None and f.reason is None and Reason.QUOTA in f.clears


def test_kimi_usages_with_room_and_spent() -> None:
    # This answer does not show the billing-cycle pool, so room in it proves nothing.
    assert kimi.read_usages(KIMI_USAGES, KIMI_NOW) is None
    spent = _exhausted(KIMI_USAGES, "limits", 0, "detail", used="100", remaining="0")
    f = kimi.read_usages(spent, KIMI_NOW)
    assert f is not None and f.reason is Reason.QUOTA
    assert f.retry_at == datetime(2026, 8, 8, 14, 53, 5, 519605, tzinfo=UTC)


def test_kimi_pools_shape_and_zeroed_limits_are_not_spent() -> None:
    now = datetime(2026, 9, 16, 12, 0, tzinfo=UTC)
    ok = kimi.read_usages(KIMI_USAGES_POOLS, now)
    assert ok is not None and ok.reason is None and Reason.QUOTA in ok.clears
    spent = _exhausted(KIMI_USAGES_POOLS, "usages", "limit_month_total", used_ratio=1.0)
    f = kimi.read_usages(spent, now)
    assert f is not None and f.reason is Reason.QUOTA
    assert f.retry_at == datetime(2026, 10, 16, tzinfo=UTC)


def test_zai_quota_limit_with_room_and_spent() -> None:
    ok = zai.read_quota_limit(ZAI_LIMITS, ZAI_NOW)
    assert ok is not None and ok.reason is None
    spent = _exhausted(ZAI_LIMITS, "data", "limits", 0, percentage=100, remaining=0)
    f = zai.read_quota_limit(spent, ZAI_NOW)
    assert f is not None and f.reason is Reason.QUOTA
    assert f.retry_at == datetime.fromtimestamp(1788371521.831, UTC)


def test_moonshot_balance() -> None:
    assert moonshot.read_balance(MOONSHOT_FUNDED, ZAI_NOW) is None
    f = moonshot.read_balance(MOONSHOT_ARREARS, ZAI_NOW)
    assert f is not None and f.reason is Reason.BILLING and f.scope == "account"


# OpenRouter docs (openrouter.ai/docs/api-reference/limits): GET /api/v1/key
OPENROUTER_KEY = {
    "data": {
        "label": "sk-or-v1-0e6...1c96",
        "limit": 10,
        "limit_remaining": 0,
        "limit_reset": "monthly",
        "usage": 10,
        "is_free_tier": False,
    }
}


def test_openrouter_key_limit_resets_on_its_period() -> None:
    now = datetime(2026, 10, 7, 12, 0, tzinfo=UTC)
    f = openrouter.read_key(OPENROUTER_KEY, now)
    assert f is not None and f.reason is Reason.QUOTA
    assert f.retry_at == datetime(2026, 11, 1, tzinfo=UTC)
    weekly = _exhausted(OPENROUTER_KEY, "data", limit_reset="weekly")
    f = openrouter.read_key(weekly, now)  # 2026-10-07 is a Wednesday
    assert f is not None and f.retry_at == datetime(2026, 10, 12, tzinfo=UTC)
    none = _exhausted(OPENROUTER_KEY, "data", limit_reset=None)
    f = openrouter.read_key(none, now)
    assert f is not None and f.retry_at is None


def test_litellm_key_info_budget_reset() -> None:
    info = {"info": {"spend": 10.2, "max_budget": 10.0, "budget_reset_at": "2026-10-08T00:00:00Z"}}
    f = litellm.read_key_info(info, datetime(2026, 10, 7, tzinfo=UTC))
    assert f is not None and f.reason is Reason.QUOTA
    assert f.retry_at == datetime(2026, 10, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    "junk", [None, [], "x", {}, {"data": None}, {"rate_limit": "?"}, {"five_hour": {"x": 1}}]
)
def test_readers_are_total(junk: object) -> None:
    now = datetime(2026, 10, 7, tzinfo=UTC)
    for read in (
        anthropic.read_oauth_usage,
        openai_codex.read_usage,
        kimi.read_usages,
        zai.read_quota_limit,
        moonshot.read_balance,
        openrouter.read_key,
        openrouter.read_credits,
        litellm.read_key_info,
    ):
        try:
            finding = read(junk, now)
        except Unshaped:
            continue  # junk is told apart from an answer: the ladder's next rung decides
        assert finding is None or finding.reason is not None or finding.clears


# ---------------------------------------------------------------------------------------------
# Wired into the ladder: run before any paid rung, on a real HTTP server on 127.0.0.1


class _Server:
    def __init__(self, routes: dict[str, tuple[int, Any]]) -> None:
        self.routes = routes
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                outer.paths.append(self.path)
                status, doc = outer.routes.get(self.path.split("?")[0], (404, {"error": "nf"}))
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.httpd, self.thread = serve(Handler, name="usage-server")
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> _Server:
        return self

    def __exit__(self, *exc: object) -> None:
        shut(self.httpd)
        self.thread.join(timeout=10)


@pytest.fixture
def claude() -> Iterator[_Server]:
    reset = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    full = _exhausted(CLAUDE_USAGE, "seven_day", utilization=100.0, resets_at=reset.isoformat())
    routes = {
        "/v1/models": (200, {"data": []}),
        "/api/oauth/usage": (200, full),
        "/v1/messages": (200, {"type": "message", "content": []}),
    }
    with _Server(routes) as server:
        yield server


def test_an_oauth_token_reads_its_plan_windows_before_paying(claude: _Server) -> None:
    r = ladder(endpoint("anthropic", claude.url), "sk-ant-oat01-TEST", oauth=True)
    assert "/api/oauth/usage" in claude.paths
    assert not any(p.startswith("/v1/messages") for p in claude.paths)
    assert not r.ok and not r.paid and r.write
    assert r.failure is not None and r.failure.reason is Reason.QUOTA
    assert r.failure.retry_source == "free:api/oauth/usage"
    assert r.failure.retry_at is not None and r.failure.retry_at > datetime.now(UTC)


def test_an_api_key_is_never_sent_to_the_oauth_usage_endpoint(claude: _Server) -> None:
    r = ladder(endpoint("anthropic", claude.url), "sk-ant-api03-TEST", oauth=False)
    assert "/api/oauth/usage" not in claude.paths
    assert r.ok and r.paid


def test_an_advisory_endpoint_that_refuses_proves_nothing(claude: _Server) -> None:
    claude.routes["/api/oauth/usage"] = (403, {"error": {"type": "permission_error"}})
    r = ladder(endpoint("anthropic", claude.url), "sk-ant-oat01-TEST", oauth=True)
    assert "/api/oauth/usage" in claude.paths
    assert r.ok and r.paid  # the paid rung decided, not the usage endpoint's 403


def test_a_plan_window_with_room_proves_a_quota_over_without_paying(claude: _Server) -> None:
    claude.routes["/api/oauth/usage"] = (200, CLAUDE_USAGE)
    ep = endpoint("anthropic", claude.url)
    r = ladder(ep, "sk-ant-oat01-TEST", oauth=True, need_paid=True, recovering=Reason.QUOTA)
    assert r.ok and not r.paid
    assert not any(p.startswith("/v1/messages") for p in claude.paths)


def test_room_in_a_plan_window_proves_nothing_about_money(claude: _Server) -> None:
    claude.routes["/api/oauth/usage"] = (200, CLAUDE_USAGE)
    ep = endpoint("anthropic", claude.url)
    r = ladder(ep, "sk-ant-oat01-TEST", oauth=True, need_paid=True, recovering=Reason.BILLING)
    assert r.ok and r.paid
    assert any(p.startswith("/v1/messages") for p in claude.paths)
