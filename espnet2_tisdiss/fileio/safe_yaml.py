"""Read YAML configs with PyYAML's safe loader, with errors that name the file.

``yaml.safe_load`` builds only plain data (mappings, lists, strings, numbers,
booleans, null); a tag such as ``!!python/object/apply:os.system`` is refused
instead of being run. ESPnet reads ``config.yaml`` the same way
(``AbsTask.build_model_from_file`` calls ``yaml.safe_load``).
"""

from pathlib import Path
from typing import Union

import yaml


class ConfigFileError(ValueError):
    """A YAML file is missing, unreadable, not plain YAML, or not a mapping."""


def load_yaml_mapping(path: Union[str, Path], what: str = "config") -> dict:
    """The mapping in the YAML file ``path`` (an empty file gives ``{}``).

    Args:
        path: the file to read.
        what: what the file is, for the error message (e.g. "training config").

    Raises:
        ConfigFileError: the file is missing or unreadable, is not valid plain
            YAML (python/* tags included), or does not hold a mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigFileError(f"{what} {path} does not exist or is not a file.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as err:
        raise ConfigFileError(
            f"cannot read {what} {path}: it is not plain YAML (tags such as "
            f"!!python/... are refused by the safe loader). Details: {err}"
        ) from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigFileError(f"{what} {path} must be a YAML mapping (key: value), got {type(data).__name__}.")
    return data
