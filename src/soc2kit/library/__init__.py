"""Content library: typed models and the loader."""

from soc2kit.library.loader import CONTENT_DIR, load_catalog
from soc2kit.library.models import AREAS, Catalog, Control, Criterion, PolicyTemplate
from soc2kit.library.problems import Problem

__all__ = ["AREAS", "CONTENT_DIR", "Catalog", "Control", "Criterion", "PolicyTemplate", "Problem", "load_catalog"]
