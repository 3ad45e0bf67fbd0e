"""The vendor and AI-subprocessor register (``vendors.yaml``), assessments and reviews (VEN controls)."""

from __future__ import annotations

from soc2kit.vendors.feeds import vendor_gap_items, vendors_for_system_description
from soc2kit.vendors.register import REGISTER_FILE, Register, Vendor, add_vendor, load_register

__all__ = ["REGISTER_FILE", "Register", "Vendor", "add_vendor", "load_register", "vendor_gap_items", "vendors_for_system_description"]
