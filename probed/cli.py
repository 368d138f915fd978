"""The `probed` command line: parse, load the configuration, dispatch, map errors to exit codes.

Each command lives in `probed/commands/<name>.py` as `run(args, config) -> int`, imported only
when used so `probed gate` in a cron line starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from probed import __version__
from probed.config import Config, load_config
from probed.errors import ProbedError
from probed.helptext import document
from probed.logs import configure
from probed.reasons import EX_SOFTWARE, EX_USAGE
from probed.redact import SafeStream


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"probed: {message}\n")
        raise SystemExit(EX_USAGE)


def _config_option(parser: argparse.ArgumentParser, *, top: bool) -> None:
    parser.add_argument(
        "-c",
        "--config",
        metavar="PATH",
        default=None if top else argparse.SUPPRESS,
        help="configuration file (default: $PROBED_CONFIG, ~/.config/probed/config.toml, "
        "/etc/probed/config.toml, else built-in defaults)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="probed",
        description="Bring OpenClaw auth profiles back from cooldown.",
    )
    parser.add_argument("--version", action="version", version=f"probed {__version__}")
    _config_option(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("run", help="the daemon, in the foreground")
    _config_option(p, top=False)
    p.add_argument(
        "--demo",
        action="store_true",
        help="run against a throw-away OpenClaw state and a built-in fake provider on 127.0.0.1",
    )

    p = sub.add_parser("status", help="every profile's state, reason, expiry and probes")
    _config_option(p, top=False)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--agent", metavar="ID", help="only this agent")
    p.add_argument("--provider", metavar="ID", help="only this provider")

    p = sub.add_parser("probe", help="probe unusable profiles now (single-flight)")
    _config_option(p, top=False)
    p.add_argument("target", metavar="TARGET", help="a profile id (anthropic:default) or provider")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--model", metavar="M", help="probe this model")
    p.add_argument("--force", action="store_true", help="probe usable profiles too")
    p.add_argument("--agent", metavar="ID", help="only profiles of this agent")

    p = sub.add_parser("gate", help="exit 0 if PROVIDER[/MODEL] is usable now; sends nothing")
    _config_option(p, top=False)
    p.add_argument("target", metavar="PROVIDER[/MODEL]")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("clear", help="clear a profile's failure state as a success would")
    _config_option(p, top=False)
    p.add_argument("profile", metavar="PROFILE")
    p.add_argument("--agent", metavar="ID", help="only in this agent")

    p = sub.add_parser("classify", help="diagnose one provider error response (JSON)")
    _config_option(p, top=False)
    p.add_argument("--provider", required=True, metavar="ID")
    p.add_argument("--now", metavar="ISO8601", help="fix the clock for relative signals")
    p.add_argument("--status", type=int, metavar="N", help="the HTTP status of a bare body")
    p.add_argument(
        "--header",
        action="append",
        metavar="'NAME: VALUE'",
        help="a response header of a bare body (repeatable)",
    )
    p.add_argument("file", nargs="?", metavar="FILE", help="the response (default: stdin)")

    p = sub.add_parser("config", help="configuration tools")
    _config_option(p, top=False)
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", parser_class=_Parser)
    check = csub.add_parser("check", help="validate and print the resolved configuration")
    _config_option(check, top=False)
    document(parser)  # environment, exit codes, and a help text for every argument
    return parser


_COMMANDS = {
    "run": "probed.commands.run",
    "status": "probed.commands.status",
    "probe": "probed.commands.probe",
    "gate": "probed.commands.gate",
    "clear": "probed.commands.clear",
    "classify": "probed.commands.classify",
    "config": "probed.commands.config",
}


def main(argv: Sequence[str] | None = None) -> int:
    out, err = sys.stdout, sys.stderr
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "run":
        # Every command's output, result and errors alike, leaves through `probed.redact`. (The
        # daemon's one output, its log, is redacted record by record in `probed.logs`.)
        sys.stdout, sys.stderr = SafeStream(sys.stdout), SafeStream(sys.stderr)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EX_USAGE
    if args.command == "config" and args.config_command is None:
        parser.error("config needs an action: probed config check")
    try:
        config: Config = load_config(args.config)
    except ProbedError as exc:
        _say(str(exc))
        return exc.exit_code
    if args.command != "run":
        # A command's output is its result on stdout; what it logs (warnings: a reload command
        # that failed, a store it could not read) goes to stderr, in the configured format.
        level = "debug" if config.daemon.log_level == "debug" else "warning"
        configure(level, config.daemon.log_format, stream=sys.stderr)
    try:
        module = importlib.import_module(_COMMANDS[args.command])
        code: int = module.run(args, config)
    except ProbedError as exc:
        _say(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: one sentence, never a traceback
        _say(f"internal error: {type(exc).__name__}: {exc}")
        return EX_SOFTWARE
    finally:
        _textfile(args.command, config)
    return code


def _textfile(command: str, config: Config) -> None:
    """`[metrics] textfile`: every command that reads OpenClaw's state leaves it current (the
    daemon keeps it current itself). Never changes the command's exit code."""
    if config.metrics.textfile is None or command not in ("status", "probe", "gate", "clear"):
        return
    try:
        from probed.metrics import update_textfile  # noqa: PLC0415 - only with [metrics]

        update_textfile(config)
    except Exception as exc:
        _say(f"metrics textfile {config.metrics.textfile} not updated: {type(exc).__name__}")


def _say(message: str) -> None:
    sys.stderr.write(f"probed: {message.rstrip('.')}.\n")


if __name__ == "__main__":
    raise SystemExit(main())
