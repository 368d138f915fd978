"""Probe adapters: one shared HTTP client, one request builder and reader per API family."""
