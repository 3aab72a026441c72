"""Reading the YAML config file: ``${VAR}`` interpolation and a map from keys to line numbers.

The line map lets settings errors name the file, line and key the user has to fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core.errors import ConfigError

KeyPath = tuple[str | int, ...]

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    data: dict[str, Any]
    lines: Mapping[KeyPath, int] = field(default_factory=dict)

    def line_of(self, key: KeyPath) -> int | None:
        """The 1-based line of the deepest known key on ``key``'s path."""
        for end in range(len(key), 0, -1):
            line = self.lines.get(key[:end])
            if line is not None:
                return line
        return None


def read_config_file(path: Path, environ: Mapping[str, str] | None = None) -> ConfigFile:
    """Parse ``path``; raise ConfigError naming the file and line on any problem."""
    env = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"Config file {path} does not exist.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the top level must be a mapping of keys (like `generation:`).")
    lines: dict[KeyPath, int] = {}
    if root is not None:
        _collect_lines(root, (), lines)
    config = ConfigFile(path=path, data={}, lines=lines)
    interpolated = _interpolate(data, (), config, env)
    assert isinstance(interpolated, dict)
    return ConfigFile(path=path, data=interpolated, lines=lines)


def _collect_lines(node: yaml.Node, prefix: KeyPath, out: dict[KeyPath, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            out[(*prefix, key)] = key_node.start_mark.line + 1
            _collect_lines(value_node, (*prefix, key), out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            out[(*prefix, index)] = item.start_mark.line + 1
            _collect_lines(item, (*prefix, index), out)


def _interpolate(value: Any, key: KeyPath, config: ConfigFile, env: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, (*key, str(k)), config, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, (*key, i), config, env) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        line = config.line_of(key)
        where = f"{config.path}:{line}" if line else str(config.path)
        dotted = ".".join(str(part) for part in key)
        raise ConfigError(
            f"{where}: {dotted}: environment variable {name} is not set "
            f"(write ${{{name}:-default}} to give a default)."
        )

    return _VAR.sub(replace, value)
