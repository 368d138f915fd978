"""OpenClaw's auth-profile stores, in every storage era, behind one small interface."""

from probed.stores.base import Era, Snapshot, Store

__all__ = ["Era", "Snapshot", "Store"]
