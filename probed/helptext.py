"""What each command's `--help` says beyond its options: the environment it reads and its exit
codes. Kept apart from the parser so every command documents the same facts the same way (the
README and docs/ say the same; tests/test_helptext.py holds them to it)."""

from __future__ import annotations

import argparse
import textwrap

WIDTH = 79

# Read by every command, through the configuration's defaults (docs/configuration.md).
_COMMON_ENV = (
    ("PROBED_CONFIG", "the configuration file when -c is not given"),
    (
        "OPENCLAW_STATE_DIR",
        "OpenClaw's state when [openclaw] state_dir is empty (else ~/.openclaw)",
    ),
    ("STATE_DIRECTORY, XDG_STATE_HOME", "probed's state when [daemon] state_dir is empty"),
    ("RUNTIME_DIRECTORY, XDG_RUNTIME_DIR", "probed's locks when [daemon] lock_dir is empty"),
    ("HOME", "where ~ and the default directories are"),
)
_SECRETS_ENV = (
    "(any name)",
    "the variables an OpenClaw SecretRef of source env names, to read a profile's credential",
)
_REDIS_ENV = ("PROBED_REDIS_URL", "the Redis URL when [coordination] redis_url is empty")
_DAEMON_ENV = (
    ("NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID", "systemd's readiness and watchdog protocol"),
    ("JOURNAL_STREAM", 'set by journald: log_format = "auto" then writes journal lines'),
)

_CONFIG = "78  configuration error (the sentence names the file and key)"
_CONFIG_STATE = _CONFIG + ", or OpenClaw's state directory does not exist"
_USAGE = "2   usage error (a bad argument, an unknown agent or profile)"
_INTERNAL = "1   internal error"

# command -> (extra environment, exit codes)
_COMMANDS: dict[str, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    "probed": (
        (),
        (
            "0   success / usable",
            "75  still unavailable for a reason that passes by itself or by paying",
            "77  the credential itself is the problem (probe only; gate says 75)",
            _CONFIG,
            _USAGE,
            _INTERNAL,
        ),
    ),
    "run": (
        (*_DAEMON_ENV, _SECRETS_ENV, _REDIS_ENV),
        (
            "0   stopped by SIGTERM or SIGINT (or the demo ended with every profile usable)",
            "1   internal error (or the demo ended with a profile still unusable)",
            _USAGE,
            _CONFIG + ", at start-up; a bad file on SIGHUP is logged and the old one kept",
        ),
    ),
    "status": (
        (),
        (
            "0   the table or JSON was printed (whatever the profiles' states)",
            _USAGE,
            "75  OpenClaw's state could not be read at all",
            _CONFIG_STATE,
            _INTERNAL,
        ),
    ),
    "probe": (
        (_SECRETS_ENV, _REDIS_ENV),
        (
            "0   every target ends usable",
            "75  a target is still unavailable: rate_limit, quota, billing, overloaded, "
            "timeout, unknown (or its store or lock was busy)",
            "77  a target's credential is the problem: auth, auth_permanent, permission",
            _USAGE,
            _CONFIG_STATE,
            _INTERNAL,
        ),
    ),
    "gate": (
        (),
        (
            "0   at least one profile of PROVIDER is usable now (for MODEL, if given)",
            "75  none is usable, whatever the reason (credential problems too: a guard "
            "needs one answer, `probed status` tells them apart); also when PROVIDER has "
            "no profile or OpenClaw's state cannot be read",
            _USAGE,
            _CONFIG_STATE,
            _INTERNAL,
        ),
    ),
    "clear": (
        (),
        (
            "0   cleared (or there was nothing to clear)",
            _USAGE,
            "75  the store is locked or unreadable; nothing was written",
            _CONFIG_STATE,
            _INTERNAL,
        ),
    ),
    "classify": (
        (),
        (
            "0   a classification was printed, whatever the reason",
            "2   the input is none of the accepted forms, or FILE cannot be read",
            _CONFIG,
            _INTERNAL,
        ),
    ),
    "config": ((), ("0   the configuration is valid (printed resolved)", _CONFIG, _USAGE)),
    "check": ((), ("0   the configuration is valid (printed resolved)", _CONFIG, _USAGE)),
}

# Options and arguments that came without a help text of their own.
ARG_HELP: dict[tuple[str, str], str] = {
    ("gate", "target"): "a provider id (anthropic), or PROVIDER/MODEL for one model",
    ("clear", "profile"): "the profile id, e.g. anthropic:default",
    ("classify", "provider"): "the provider that answered (decides how the body is read)",
}


def epilog(command: str) -> str:
    extra, codes = _COMMANDS[command]
    env = (*_COMMON_ENV, *extra)
    lines = ["environment:"]
    for name, what in env:
        lines.append(f"  {name}")
        lines += textwrap.wrap(what, width=WIDTH, initial_indent=" " * 6, subsequent_indent=" " * 6)
    lines += ["", "exit codes:"]
    for code in codes:
        lines += textwrap.wrap(code, width=WIDTH, initial_indent="  ", subsequent_indent=" " * 6)
    return "\n".join(lines)


def document(parser: argparse.ArgumentParser, command: str = "probed") -> None:
    """Give a parser (and its subcommands', recursively) the environment and exit codes, and
    a help text to every argument that had none."""
    parser.epilog = epilog(command)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    for action in parser._actions:
        if action.help is None:
            action.help = ARG_HELP.get((command, action.dest))
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                document(sub, name)
