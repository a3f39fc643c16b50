"""Tests of ridp.readiness: its figures on real exports and on the demo city, checked independently."""
