"""The configuration: TOML read with tomllib into frozen, typed objects.

Every error names the file and the key path (`backoff.billing.cap`) and is a ConfigError, which
the CLI turns into exit 78. Paths left empty are resolved here, once, from the environment, so
everything downstream sees concrete directories and `probed config check` can show them.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from probed.durations import MAX_SECONDS, format_duration, parse_duration
from probed.errors import ConfigError
from probed.files import read_regular
from probed.reasons import Reason
from probed.redact import register_url

LogLevel = Literal["debug", "info", "warning", "error"]
LogFormat = Literal["auto", "journal", "json", "console"]
Api = Literal["anthropic", "openai", "gemini"]

_PATH_MAX = 4095  # bytes, without the terminating NUL (Linux PATH_MAX is 4096 with it)
_NAME_MAX = 255
# Upper bounds that keep every computed deadline representable and every wait sane.
MAX_TIMEOUT_S = 600.0  # a probe's whole deadline; the provider lock waits six times this
MAX_BACKOFF_S = 30 * 86400.0
MAX_JITTER_S = 86400.0

LOG_LEVELS: tuple[LogLevel, ...] = ("debug", "info", "warning", "error")
LOG_FORMATS: tuple[LogFormat, ...] = ("auto", "journal", "json", "console")
APIS: tuple[Api, ...] = ("anthropic", "openai", "gemini")


NOTIFY_EVENTS = ("action_needed", "recovered", "unavailable")
DEFAULT_NOTIFY_EVENTS = ("action_needed", "recovered")


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    """`[notify]`: Apprise URLs and which events go to them (docs/notifications.md)."""

    urls: tuple[str, ...] = ()
    events: tuple[str, ...] = DEFAULT_NOTIFY_EVENTS

    def __repr__(self) -> str:  # an Apprise URL may carry a password or a token
        return f"NotifyConfig(urls=<{len(self.urls)} hidden>, events={self.events!r})"


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """`[metrics]`: a loopback `host:port` for /metrics, a textfile for node_exporter
    (docs/monitoring.md)."""

    listen: str = ""
    textfile: Path | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.listen) or self.textfile is not None


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds: `base` doubles per consecutive failure, up to `cap`. With `early` (> 0), the
    interval stays at `base` for the first `early` of an outage, then doubles with its age
    (policy.step): a probe a provider rejects is not billed, so a fix is seen soon."""

    base: float
    cap: float
    early: float = 0.0


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """An endpoint override or addition from `[providers.<id>]`; None means "not set here"."""

    api: Api | None = None
    base_url: str | None = None
    model: str | None = None
    models: tuple[str, ...] = ()  # extra: models this provider serves, each probed on its own


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    log_level: LogLevel = "info"
    log_format: LogFormat = "auto"
    lock_dir: Path = Path("/tmp/probed")  # noqa: S108 - replaced by resolve_lock_dir at load
    state_dir: Path = Path("~/.local/state/probed")


DEFAULT_RELOAD_COMMAND = ("openclaw", "secrets", "reload")


@dataclass(frozen=True, slots=True)
class OpenClawConfig:
    state_dir: Path = Path("~/.openclaw")
    agents: tuple[str, ...] = ()
    reload_command: tuple[str, ...] = DEFAULT_RELOAD_COMMAND


@dataclass(frozen=True, slots=True)
class ProbeConfig:
    timeout: float = 20.0
    concurrency: int = 4
    jitter: float = 0.10  # fraction of the window
    jitter_max: float = 30.0
    daily_budget: int = 48
    lead: float = 20.0  # probe this long before OpenClaw's own window ends


@dataclass(frozen=True, slots=True)
class RepairConfig:
    clamp_stale: bool = True
    stale_after: float = 7200.0  # a billing window longer than this past lastFailureAt is stale


Backend = Literal["local", "redis"]
BACKENDS: tuple[Backend, ...] = ("local", "redis")
REDIS_ENV = "PROBED_REDIS_URL"


@dataclass(frozen=True, slots=True)
class CoordinationConfig:
    """`[coordination]`: the URL may hold a password, so it is left out of the repr; show it
    with `probed.coordination.redisbackend.redact`."""

    backend: Backend = "local"
    redis_url: str = field(default="", repr=False)  # resolved: "" only with backend local
    namespace: str = "probed"


# Probe spacing per reason. What needs a person (billing, auth) is probed early and often: the
# provider rejects such a probe without billing it, and the fix should be seen within a minute
# (docs/policy.md); quota's 30 m -> 6 h applies only when the provider gave no reset time.
DEFAULT_BACKOFF: Mapping[Reason, Backoff] = MappingProxyType(
    {
        Reason.RATE_LIMIT: Backoff(30, 300),
        Reason.OVERLOADED: Backoff(30, 300),
        Reason.TIMEOUT: Backoff(30, 300),
        Reason.UNKNOWN: Backoff(60, 1800),
        Reason.BILLING: Backoff(20, 240, early=600),
        Reason.QUOTA: Backoff(1800, 21600),
        Reason.AUTH: Backoff(5, 240, early=600),
        Reason.AUTH_PERMANENT: Backoff(5, 1800, early=600),
        Reason.PERMISSION: Backoff(600, 21600),
        Reason.MODEL_NOT_FOUND: Backoff(600, 21600),
        Reason.FORMAT: Backoff(600, 3600),
    }
)


@dataclass(frozen=True, slots=True)
class Config:
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    openclaw: OpenClawConfig = field(default_factory=OpenClawConfig)
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    backoff: Mapping[Reason, Backoff] = field(default_factory=lambda: DEFAULT_BACKOFF)
    repair: RepairConfig = field(default_factory=RepairConfig)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    providers: Mapping[str, ProviderConfig] = field(default_factory=lambda: MappingProxyType({}))
    coordination: CoordinationConfig = field(default_factory=CoordinationConfig)
    source: Path | None = None  # the file this came from; None = built-in defaults

    def backoff_for(self, reason: Reason) -> Backoff:
        return self.backoff[reason]


# --------------------------------------------------------------------------------------------
# Finding the file


def default_config_paths() -> tuple[Path, ...]:
    return (Path("~/.config/probed/config.toml").expanduser(), Path("/etc/probed/config.toml"))


def find_config(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path | None:
    """-c, else $PROBED_CONFIG, else the first default file that exists, else None (defaults).

    A file named explicitly (by -c or $PROBED_CONFIG) must exist; a missing default is fine.
    """
    named = explicit if explicit is not None else env.get("PROBED_CONFIG") or None
    if named is not None:
        path = Path(named).expanduser()
        how = "-c" if explicit is not None else "$PROBED_CONFIG"
        try:
            if not path.is_file():
                what = "is not a regular file" if path.exists() else "does not exist"
                raise ConfigError(f"{path}: configuration file named by {how} {what}")
        except (OSError, ValueError) as exc:  # ENAMETOOLONG, a NUL byte
            shown = str(path) if len(str(path)) <= 200 else f"{str(path)[:200]}..."
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ConfigError(f"{shown}: configuration file named by {how} ({why})") from None
        return path
    for candidate in default_config_paths():
        if candidate.is_file():
            return candidate
    return None


def load_config(
    explicit: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Config:
    environ = os.environ if env is None else env
    path = find_config(explicit, environ)
    if path is None:
        return parse_config({}, None, environ)
    try:
        raw = tomllib.loads(read_regular(path).decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse_config(raw, path, environ)


# --------------------------------------------------------------------------------------------
# Validation


class _Reader:
    """Reads one table, remembering which keys were used so leftovers are reported by path."""

    def __init__(self, where: str, table: Any, prefix: str) -> None:
        self.where = where
        self.prefix = prefix
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: {prefix or 'the file'} must be a table")
        self.table: dict[str, Any] = table
        self.used: set[str] = set()

    def path(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where}: {self.path(key)} {problem}")

    def get(self, key: str) -> Any:
        self.used.add(key)
        return self.table.get(key)

    def string(self, key: str, default: str) -> str:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {_tname(value)}")
        return value

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.string(key, default)
        if value not in allowed:
            raise self.fail(key, f"must be one of {', '.join(allowed)}, not {value!r}")
        return value

    def duration(self, key: str, default: float, *, maximum: float = MAX_SECONDS) -> float:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.fail(key, f'must be a duration string such as "30s", not {_tname(value)}')
        try:
            return parse_duration(value, maximum=maximum)
        except ValueError as exc:
            raise self.fail(key, f"is invalid: {exc}") from None

    def integer(self, key: str, default: int, minimum: int, maximum: int = 1_000_000) -> int:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be an integer, not {_tname(value)}")
        if value < minimum:
            raise self.fail(key, f"must be at least {minimum}, not {value}")
        if value > maximum:
            raise self.fail(key, f"must be at most {maximum}, not {str(value)[:20]}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {_tname(value)}")
        return value

    def strings(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings")
        return tuple(value)

    def table_at(self, key: str) -> _Reader:
        value = self.get(key)
        return _Reader(self.where, {} if value is None else value, self.path(key))

    def finish(self) -> None:
        extra = sorted(set(self.table) - self.used)
        if extra:
            raise ConfigError(f"{self.where}: {self.path(extra[0])} is not a known key")


def _path_shape(section: _Reader, key: str, path: Path) -> None:
    """A path the kernel can take: no NUL byte, at most PATH_MAX, each name at most NAME_MAX.

    Checked here so a 5,000-character path is exit 78 naming the key, not an `ENAMETOOLONG`
    (or a `ValueError: embedded null byte`) at the first use, far from the key that caused it."""
    text = str(path)
    if "\0" in text:
        raise section.fail(key, "must not contain a NUL character")
    size = len(os.fsencode(text))
    if size > _PATH_MAX:
        raise section.fail(key, f"is {size} bytes long; a path may have at most {_PATH_MAX}")
    for part in path.parts:
        if len(os.fsencode(part)) > _NAME_MAX:
            raise section.fail(
                key, f"has a component of {len(os.fsencode(part))} bytes; at most {_NAME_MAX}"
            )


def _directory(section: _Reader, key: str, path: Path) -> None:
    """A directory setting must not point at, or under, something that is not a directory.

    A path that does not exist yet is fine (probed creates its own directories, and OpenClaw's
    may appear later); a file in the way would otherwise fail at the first probe, far from the
    key that caused it."""
    _path_shape(section, key, path)
    for candidate in (path, *path.parents):
        try:
            if candidate.is_dir():
                return
            if candidate.exists():
                what = "is" if candidate == path else "is under"
                raise section.fail(key, f"{what} {candidate}, which is not a directory")
        except OSError:
            return  # unreadable: the first real use says what is wrong


def _tname(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _have_module(name: str) -> bool:
    """Whether an optional extra is importable, without importing it (a cron `probed gate` must
    not pay for Apprise)."""
    import importlib.util  # noqa: PLC0415 - only when an extra is configured

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules: blocked
        return False


def _notify(n: _Reader) -> NotifyConfig:
    urls = n.strings("urls", ())
    events = n.strings("events", DEFAULT_NOTIFY_EVENTS)
    for event in events:
        if event not in NOTIFY_EVENTS:
            raise n.fail("events", f"must list only {', '.join(NOTIFY_EVENTS)}, not {event!r}")
    for i, url in enumerate(urls):
        if "://" not in url:  # never echo the URL: it may hold a password or a token
            raise n.fail("urls", f"entry {i + 1} is not an Apprise URL (scheme://...)")
    n.finish()
    if urls and not _have_module("apprise"):
        raise n.fail(
            "urls",
            "needs Apprise, which is not installed: "
            "pip install 'openclaw-probed[notify]' (or pipx inject openclaw-probed apprise)",
        )
    return NotifyConfig(urls=urls, events=tuple(dict.fromkeys(events)))


def _metrics(m: _Reader) -> MetricsConfig:
    listen = m.string("listen", "").strip()
    if listen:
        try:
            split_listen(listen)
        except ValueError as exc:
            raise m.fail("listen", str(exc)) from None
    textfile = m.string("textfile", "").strip()
    path = Path(textfile).expanduser() if textfile else None
    if path is not None and not path.name.endswith(".prom"):
        raise m.fail(
            "textfile", "must name a file ending in .prom (node_exporter reads only those)"
        )
    if path is not None:
        _directory(m, "textfile", path.parent)
    m.finish()
    return MetricsConfig(listen=listen, textfile=path)


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def split_listen(listen: str) -> tuple[str, int]:
    """`127.0.0.1:9464` or `[::1]:9464` into (host, port); only loopback addresses.

    /metrics names every profile and provider: it is served to this host only (put a reverse
    proxy in front to publish it)."""
    host, sep, port_text = listen.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port_text.isdigit():
        raise ValueError(f'must be "host:port" such as "127.0.0.1:9464", not {listen!r}')
    port = int(port_text)
    if port > 65535:
        raise ValueError(f"port must be 0 to 65535, not {port}")
    if host not in LOOPBACK_HOSTS and not host.startswith("127."):
        raise ValueError(
            f"must be a loopback address (127.0.0.1, [::1] or localhost), not {host!r}"
        )
    return host, port


def parse_config(raw: Mapping[str, Any], path: Path | None, env: Mapping[str, str]) -> Config:
    where = str(path) if path is not None else "built-in defaults"
    top = _Reader(where, dict(raw), "")

    d = top.table_at("daemon")
    daemon = DaemonConfig(
        log_level=d.choice("log_level", "info", LOG_LEVELS),  # type: ignore[arg-type]
        log_format=d.choice("log_format", "auto", LOG_FORMATS),  # type: ignore[arg-type]
        lock_dir=resolve_lock_dir(d.string("lock_dir", ""), env),
        state_dir=resolve_state_dir(d.string("state_dir", ""), env),
    )
    _directory(d, "lock_dir", daemon.lock_dir)
    _directory(d, "state_dir", daemon.state_dir)
    d.finish()

    o = top.table_at("openclaw")
    reload_command = o.strings("reload_command", DEFAULT_RELOAD_COMMAND)
    openclaw = OpenClawConfig(
        state_dir=resolve_openclaw_dir(o.string("state_dir", ""), env),
        agents=o.strings("agents", ()),
        reload_command=reload_command,
    )
    for agent_id in openclaw.agents:
        if not agent_id or "/" in agent_id or "\0" in agent_id or agent_id in (".", ".."):
            raise o.fail("agents", f"holds {agent_id[:40]!r}, which is not an agent id")
        if len(os.fsencode(agent_id)) > _NAME_MAX:
            raise o.fail("agents", f"holds an agent id longer than {_NAME_MAX} bytes")
    _directory(o, "state_dir", openclaw.state_dir)
    o.finish()

    p = top.table_at("probe")
    jitter_text = p.string("jitter", "10%")
    probe = ProbeConfig(
        timeout=p.duration("timeout", 20.0, maximum=MAX_TIMEOUT_S),
        concurrency=p.integer("concurrency", 4, minimum=1, maximum=1024),
        jitter=_percent(p, "jitter", jitter_text),
        jitter_max=p.duration("jitter_max", 30.0, maximum=MAX_JITTER_S),
        daily_budget=p.integer("daily_budget", 48, minimum=0),
        lead=p.duration("lead", 20.0),
    )
    if probe.timeout <= 0:
        raise p.fail("timeout", "must be longer than 0s")
    p.finish()

    b = top.table_at("backoff")
    backoff = dict(DEFAULT_BACKOFF)
    for name in list(b.table):
        try:
            reason = Reason(name)
        except ValueError:
            raise ConfigError(
                f"{where}: backoff.{name} is not a reason word "
                f"(one of {', '.join(r.value for r in Reason)})"
            ) from None
        t = b.table_at(name)
        default = DEFAULT_BACKOFF[reason]
        base = t.duration("base", default.base)
        cap = t.duration("cap", default.cap)
        early = t.duration("early", default.early)
        if base <= 0:
            raise t.fail("base", "must be longer than 0s")
        if cap < base:
            raise t.fail(
                "cap",
                f"({format_duration(cap)}) must not be shorter than base ({format_duration(base)})",
            )
        t.finish()
        backoff[reason] = Backoff(base, cap, early)
    b.finish()
    _bound_backoff(where, backoff)

    r = top.table_at("repair")
    repair = RepairConfig(
        clamp_stale=r.boolean("clamp_stale", True),
        stale_after=r.duration("stale_after", 7200.0),
    )
    if repair.stale_after <= 0:
        raise r.fail("stale_after", "must be longer than 0s")
    r.finish()

    notify = _notify(top.table_at("notify"))
    metrics = _metrics(top.table_at("metrics"))

    pr = top.table_at("providers")
    providers: dict[str, ProviderConfig] = {}
    for pid in list(pr.table):
        t = pr.table_at(pid)
        api = t.get("api")
        if api is not None and api not in APIS:
            raise t.fail("api", f"must be one of {', '.join(APIS)}, not {api!r}")
        base_url = t.get("base_url")
        if base_url is not None and (
            not isinstance(base_url, str) or not base_url.startswith(("http://", "https://"))
        ):
            raise t.fail("base_url", "must be an http:// or https:// URL")
        register_url(base_url)  # a password or token in it is masked in every output
        model = t.get("model")
        if model is not None and (not isinstance(model, str) or not model):
            raise t.fail("model", "must be a non-empty string")
        models = t.strings("models", ())
        t.finish()
        providers[pid.strip().lower()] = ProviderConfig(
            api=api,
            base_url=base_url.rstrip("/") if base_url else None,
            model=model,
            models=models,
        )
    pr.finish()
    coordination = _coordination(top.table_at("coordination"), env)
    top.finish()

    return Config(
        daemon=daemon,
        openclaw=openclaw,
        probe=probe,
        backoff=MappingProxyType(backoff),
        repair=repair,
        notify=notify,
        metrics=metrics,
        providers=MappingProxyType(providers),
        coordination=coordination,
        source=path,
    )


def _coordination(c: _Reader, env: Mapping[str, str]) -> CoordinationConfig:
    backend = c.choice("backend", "local", BACKENDS)
    url = c.string("redis_url", "") or env.get(REDIS_ENV, "")
    namespace = c.string("namespace", "probed")
    if not namespace or any(ch.isspace() for ch in namespace):
        raise c.fail("namespace", "must be a non-empty word without spaces")
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        # never echo the value: it may carry a password
        raise c.fail("redis_url", "must be a redis://, rediss:// or unix:// URL")
    if backend == "redis":
        if not url:
            raise c.fail("redis_url", f'is needed with backend = "redis" (or set ${REDIS_ENV})')
        try:
            import redis.asyncio  # noqa: F401, PLC0415 - the optional extra
        except ImportError:
            raise c.fail(
                "backend",
                '"redis" needs the redis extra: pip install "openclaw-probed[redis]"',
            ) from None
    c.finish()
    return CoordinationConfig(backend, url, namespace)  # type: ignore[arg-type]


def _bound_backoff(where: str, backoff: Mapping[Reason, Backoff]) -> None:
    """No backoff step longer than MAX_BACKOFF_S: `100000000d` must fail `config check`, not
    every failed probe later (a deadline past year 9999, a window OpenClaw cannot hold)."""
    for reason, b in backoff.items():
        for key, value in (("base", b.base), ("cap", b.cap)):
            if value > MAX_BACKOFF_S:
                raise ConfigError(
                    f"{where}: backoff.{reason}.{key} is invalid: {format_duration(value)!r} is "
                    f"longer than the {format_duration(MAX_BACKOFF_S)} allowed here"
                )


def _percent(reader: _Reader, key: str, text: str) -> float:
    s = text.strip()
    if not s.endswith("%"):
        raise reader.fail(key, f'must be a percentage such as "10%", not {text!r}')
    try:
        value = float(s[:-1])
    except ValueError:
        raise reader.fail(key, f'must be a percentage such as "10%", not {text!r}') from None
    if not 0 <= value <= 100:
        raise reader.fail(key, f"must be between 0% and 100%, not {text!r}")
    return value / 100


# --------------------------------------------------------------------------------------------
# Directories


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def resolve_lock_dir(value: str, env: Mapping[str, str]) -> Path:
    if value:
        return Path(value).expanduser()
    if env.get("RUNTIME_DIRECTORY"):
        return Path(env["RUNTIME_DIRECTORY"].split(":")[0])
    if env.get("XDG_RUNTIME_DIR"):
        return Path(env["XDG_RUNTIME_DIR"]) / "probed"
    return Path(f"/tmp/probed-{os.getuid()}")  # noqa: S108 - per-user name, created 0700


def resolve_state_dir(value: str, env: Mapping[str, str]) -> Path:
    if value:
        return Path(value).expanduser()
    if env.get("STATE_DIRECTORY"):
        return Path(env["STATE_DIRECTORY"].split(":")[0])
    if env.get("XDG_STATE_HOME"):
        return Path(env["XDG_STATE_HOME"]) / "probed"
    return _home(env) / ".local" / "state" / "probed"


def resolve_openclaw_dir(value: str, env: Mapping[str, str]) -> Path:
    if value:
        return Path(value).expanduser()
    if env.get("OPENCLAW_STATE_DIR"):
        return Path(env["OPENCLAW_STATE_DIR"]).expanduser()
    return _home(env) / ".openclaw"


# --------------------------------------------------------------------------------------------
# Showing it


def to_toml_dict(config: Config) -> dict[str, Any]:
    """The resolved configuration in the file's own shape (for `probed config check`)."""
    out: dict[str, Any] = {
        "daemon": {
            "log_level": config.daemon.log_level,
            "log_format": config.daemon.log_format,
            "lock_dir": str(config.daemon.lock_dir),
            "state_dir": str(config.daemon.state_dir),
        },
        "openclaw": {
            "state_dir": str(config.openclaw.state_dir),
            "agents": list(config.openclaw.agents),
            "reload_command": list(config.openclaw.reload_command),
        },
        "probe": {
            "timeout": format_duration(config.probe.timeout),
            "concurrency": config.probe.concurrency,
            "jitter": f"{config.probe.jitter * 100:g}%",
            "jitter_max": format_duration(config.probe.jitter_max),
            "daily_budget": config.probe.daily_budget,
            "lead": format_duration(config.probe.lead),
        },
        "backoff": {
            str(reason): {
                "base": format_duration(b.base),
                "cap": format_duration(b.cap),
                **({"early": format_duration(b.early)} if b.early else {}),
            }
            for reason, b in config.backoff.items()
        },
        "repair": {
            "clamp_stale": config.repair.clamp_stale,
            "stale_after": format_duration(config.repair.stale_after),
        },
        "coordination": {
            "backend": config.coordination.backend,
            "redis_url": _redacted_url(config.coordination.redis_url),
            "namespace": config.coordination.namespace,
        },
    }
    # URLs are shown by scheme only: an Apprise URL may hold a password or a token
    out["notify"] = {
        "urls": [url.split("://", 1)[0] + "://***" for url in config.notify.urls],
        "events": list(config.notify.events),
    }
    out["metrics"] = {
        "listen": config.metrics.listen,
        "textfile": str(config.metrics.textfile) if config.metrics.textfile else "",
    }
    providers: dict[str, Any] = {}
    for pid, pc in config.providers.items():
        entry: dict[str, Any] = {}
        if pc.api:
            entry["api"] = pc.api
        if pc.base_url:
            entry["base_url"] = pc.base_url
        if pc.model:
            entry["model"] = pc.model
        if pc.models:
            entry["models"] = list(pc.models)
        providers[pid] = entry
    if providers:
        out["providers"] = providers
    return out


def _redacted_url(url: str) -> str:
    from probed.coordination.urls import redact  # noqa: PLC0415 - a cycle at import time

    return redact(url)
