"""The YAML loader with line numbers lives in `crmroi.yaml_lines` (shared with the case file)."""

from crmroi.yaml_lines import (
    LineIndex,
    Yaml12Loader,
    describe_validation_error,
    load_yaml_with_lines,
)

__all__ = ["LineIndex", "Yaml12Loader", "describe_validation_error", "load_yaml_with_lines"]
