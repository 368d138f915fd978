"""probed: bring OpenClaw auth profiles back from cooldown, from outside the gateway."""

__version__ = "0.2.0"
