"""Shared core: configuration, persistence, security, observability, jobs and events.

Domain packages import from here; nothing here imports a domain package.
"""
