"""crmroi: does the CRM pay for itself? Measure, decide, improve."""

__version__ = "0.1.0"

__all__ = ["__version__"]
