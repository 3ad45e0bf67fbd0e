"""People and training records: roster and training imports, the onboarding/offboarding check
(HR-01, HR-02, GOV-02, AC-03) and policy acknowledgements."""

from __future__ import annotations

from soc2kit.people.check import acknowledge, people_check
from soc2kit.people.roster import read_roster, read_training

__all__ = ["acknowledge", "people_check", "read_roster", "read_training"]
