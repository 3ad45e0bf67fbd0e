"""soc2kit: a compliance-as-code SOC 2 readiness kit for AI companies.

The kit measures readiness, gaps and evidence; it never declares a company compliant.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("soc2kit")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = ["__version__"]
