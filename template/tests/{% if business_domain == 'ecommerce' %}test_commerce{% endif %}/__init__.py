"""Tests of the commerce package: the catalog API, its events and its seed data."""
