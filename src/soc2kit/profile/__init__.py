"""Company profile: schema, loading with located errors, vocabularies, questionnaire."""

from soc2kit.profile.load import PROFILE_FILE, load_profile, parse_profile_text, validate_profile
from soc2kit.profile.schema import Profile

__all__ = ["PROFILE_FILE", "Profile", "load_profile", "parse_profile_text", "validate_profile"]
