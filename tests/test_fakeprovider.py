"""The fake provider is a real server: each family's routes, rules, hangs and counts."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx

from probed.fakeprovider import FakeProvider, fingerprint

KEY = "sk-fake-SECRET-0001"


def test_each_family_success_shapes_on_one_port() -> None:
    with FakeProvider() as fake, httpx.Client(base_url=fake.base_url) as c:
        a = c.post(
            "/v1/messages",
            json={"model": "m1", "max_tokens": 1},
            headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"},
        )
        o = c.post(
            "/v1/chat/completions", json={"model": "m2"}, headers={"authorization": f"Bearer {KEY}"}
        )
        g = c.post(
            "/v1beta/models/gemini-x:generateContent", json={}, headers={"x-goog-api-key": KEY}
        )
        lm = c.get("/v1/models", headers={"x-api-key": KEY})
        gm = c.get("/v1beta/models", headers={"x-goog-api-key": KEY})
        assert a.json()["type"] == "message"
        assert o.json()["choices"][0]["finish_reason"] == "length"
        assert "candidates" in g.json()
        assert lm.json()["data"][0]["type"] == "model"
        assert "models" in gm.json()
        fams = [(r.family, r.paid, r.model) for r in fake.requests]
        assert fams == [
            ("anthropic", True, "m1"),
            ("openai", True, "m2"),
            ("gemini", True, "gemini-x"),
            ("anthropic", False, None),
            ("gemini", False, None),
        ]
        assert fake.counts().paid == 3 and fake.counts().free == 2
        assert all(r.credential_fingerprint == fingerprint(KEY) for r in fake.requests)
        assert KEY not in repr(fake.requests)


def test_error_shapes_rules_and_until() -> None:
    with FakeProvider() as fake, httpx.Client(base_url=fake.base_url) as c:
        fake.respond(status=402, model="bad")
        fake.respond(status=429, credential="other", until=time.time() - 1)  # expired rule
        r = c.post("/v1/messages", json={"model": "bad"}, headers={"x-api-key": KEY})
        assert r.status_code == 402
        assert r.json()["error"]["type"] == "billing_error"
        r = c.post(
            "/v1/chat/completions",
            json={"model": "bad"},
            headers={"authorization": f"Bearer {KEY}"},
        )
        assert r.status_code == 402 and "error" in r.json()
        r = c.post("/v1beta/models/bad:generateContent", json={}, headers={"x-goog-api-key": KEY})
        assert r.json()["error"]["status"] == "INTERNAL"
        ok = c.post(
            "/v1/chat/completions",
            json={"model": "good"},
            headers={"authorization": "Bearer other"},
        )
        assert ok.status_code == 200
        fake.respond(status=401, credential=KEY)  # newest rule wins
        assert (
            c.post("/v1/messages", json={"model": "bad"}, headers={"x-api-key": KEY}).status_code
            == 401
        )


def test_hang_and_non_json() -> None:
    with FakeProvider() as fake:
        fake.respond(body="not json at all", status=200)
        with httpx.Client(base_url=fake.base_url) as c:
            r = c.get("/v1/models")
            assert r.text == "not json at all"
            assert r.headers["content-type"].startswith("text/html")
        fake.hang(credential=KEY)
        with httpx.Client(base_url=fake.base_url, timeout=0.3) as c:
            try:
                c.get("/v1/models", headers={"x-api-key": KEY})
                raise AssertionError("hang answered")
            except httpx.ReadTimeout:
                pass


def test_runs_as_a_separate_process_with_rules(tmp_path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"status": 402, "model": "x"}]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "probed.fakeprovider", "--port", "0", "--rules", str(rules)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        with httpx.Client(base_url=base) as c:
            assert c.post("/v1/chat/completions", json={"model": "x"}).status_code == 402
            assert c.post("/v1/chat/completions", json={"model": "y"}).status_code == 200
            assert c.get("/_fake/counts").json() == {"paid": 2, "free": 0, "total": 2}
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0
