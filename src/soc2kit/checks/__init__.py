"""Automated control checks that produce evidence (dataset integrity so far)."""
