"""Tests of the collaboration package: rooms, membership, messages and their events."""
