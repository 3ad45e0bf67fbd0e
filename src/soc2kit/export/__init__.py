"""Auditor-facing outputs built from a workspace: control matrix (XLSX), system description,
auditor package, OSCAL."""
