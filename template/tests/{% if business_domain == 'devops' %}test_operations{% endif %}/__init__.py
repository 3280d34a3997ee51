"""Tests of the operations package: metric sources, samples, their events and retention."""
