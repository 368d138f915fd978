"""The name a credential's probe results are shared under in Redis.

Hosts that share a key must arrive at the same name from the key alone, without talking to each
other first, and whoever can read Redis (its other users, a backup of its dump, `MONITOR`) must
not learn the key. What follows from that:

- Any name computed from the credential and public inputs lets a reader test a guess: hash the
  candidate, compare. A random per-namespace salt kept in Redis changes nothing, because the
  reader reads the salt too; it only stops tables precomputed across namespaces.
- So without a shared secret the protection is the cost of one guess against the entropy of the
  credential. Provider API keys and OAuth tokens carry 128 bits or more: out of reach at any
  cost per guess. A hand-made key (a LiteLLM master key such as `sk-1234`) is as weak as its
  entropy, and a slow hash only slows guessing it: scrypt (N=2^12, r=8: 4 MiB and a few
  milliseconds per guess), salted with the namespace, truncated to 128 bits. It is kept that
  cheap because a burst of a thousand distinct credentials computes a thousand of them.
- The only thing that makes guessing impossible is a secret the hosts share and Redis does not
  hold. probed takes one from `$PROBED_COORDINATION_SECRET` when it is set (the same on every
  host, e.g. from a systemd credential); the name is then an HMAC-SHA256 under that secret,
  which a reader of Redis alone cannot test any guess against (and which costs microseconds).

The fingerprint is computed once per credential per process (a dict keyed by a BLAKE2b of the
credential, held in memory only) and in a worker thread, since scrypt is deliberately slow.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping

import anyio

SCRYPT_N = 1 << 12
SCRYPT_R = 8
SCRYPT_P = 1
SECRET_ENV = "PROBED_COORDINATION_SECRET"  # noqa: S105 - a variable name


class Fingerprints:
    def __init__(self, namespace: str, env: Mapping[str, str] | None = None) -> None:
        pepper = (env if env is not None else os.environ).get(SECRET_ENV, "")
        self._salt = b"probed-fleet-v1\0" + namespace.encode()
        self._pepper = pepper.encode() if pepper else None
        self._cache: dict[bytes, str] = {}

    def compute(self, provider: str, credential: str) -> str:
        data = memo_input(provider, credential)
        memo = hashlib.blake2b(data, digest_size=20).digest()
        hit = self._cache.get(memo)
        if hit is None and self._pepper is not None:
            mac = hmac.new(self._pepper, self._salt + b"\0" + data, hashlib.sha256)
            hit = mac.hexdigest()[:32]
            self._cache[memo] = hit
        elif hit is None:
            hit = hashlib.scrypt(
                data,
                salt=self._salt,
                n=SCRYPT_N,
                r=SCRYPT_R,
                p=SCRYPT_P,
                dklen=16,
            ).hex()
            self._cache[memo] = hit
        return hit

    async def of(self, provider: str, credential: str) -> str:
        memo = hashlib.blake2b(memo_input(provider, credential), digest_size=20).digest()
        hit = self._cache.get(memo)
        if hit is not None:
            return hit
        if self._pepper is not None:
            return self.compute(provider, credential)
        return await anyio.to_thread.run_sync(self.compute, provider, credential)


def memo_input(provider: str, credential: str) -> bytes:
    return f"{provider}\0{credential}".encode()
