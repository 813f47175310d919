"""Safe YAML loading that remembers where each value came from, so errors can name the line."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from minzheng_rules.model._errors import PackError
from minzheng_rules.model._safe_yaml import NUMBER_RESOLVERS, SafeLoader, load_shallow


class LineDict(dict):
    """A mapping that knows the line of each of its values (1-based)."""

    line: int
    lines: dict[Any, int]


class LineList(list):
    """A sequence that knows the line of each of its items (1-based)."""

    line: int
    lines: list[int]


class _LineLoader(SafeLoader):
    """PyYAML's safe loader (no Python objects, no code) plus line numbers on containers."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:
        out = LineDict()
        out.line = node.start_mark.line + 1
        out.lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict | set):
                raise PackError(
                    "a mapping key must be a name, not a list or a mapping",
                    line=key_node.start_mark.line + 1,
                )
            if key in out:
                raise PackError(
                    f"key '{key}' appears twice in one mapping",
                    line=key_node.start_mark.line + 1,
                    name=str(key),
                )
            out[key] = self.construct_object(value_node, deep=True)
            out.lines[key] = value_node.start_mark.line + 1
        return out

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:
        out = LineList(self.construct_object(child, deep=True) for child in node.value)
        out.line = node.start_mark.line + 1
        out.lines = [child.start_mark.line + 1 for child in node.value]
        return out


def _timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    """A date such as ``2024-13-01`` is a mistake to name, not a crash."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError as err:
        raise PackError(
            f"'{node.value}' is not a valid date ({err}); write YYYY-MM-DD",
            line=node.start_mark.line + 1,
            name=str(node.value),
        ) from None


_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader.construct_sequence)
_LineLoader.yaml_implicit_resolvers = NUMBER_RESOLVERS

MAX_FILE_BYTES = 16 << 20  # a pack file larger than this is refused (the shipped ones: < 100 KB)


def read_text_file(path: Path, limit: int = MAX_FILE_BYTES, what: str = "file") -> str:
    """A regular file's UTF-8 text, refused (:class:`PackError`) when it is not a regular file
    (a folder, a FIFO that would block, a device such as /dev/zero that never ends) or is larger
    than ``limit`` bytes."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise PackError(f"not a regular {what} (a folder, device or pipe)", file=path)
        if info.st_size > limit:
            raise PackError(f"larger than {limit >> 20} MB", file=path)
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as err:
        raise PackError(f"cannot read: {err.strerror}", file=path) from None
    if len(data) > limit:
        raise PackError(f"larger than {limit >> 20} MB", file=path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise PackError(f"not UTF-8 text: {err}", file=path) from None


def load_yaml(path: Path) -> Any:
    """Load one YAML file safely; a syntax error names the file and line. A file parsed before
    comes from the on-disk cache (keyed by its bytes, see :mod:`minzheng_rules.packs._cache`)."""
    from minzheng_rules.packs import _cache as cache

    text = read_text_file(path)
    key = cache.key("yaml", hashlib.sha256(text.encode()).digest()) if cache.enabled() else ""
    if key:
        cached = cache.get("yaml", key)
        if cached is not None:
            return cached[0]
    try:
        parsed = load_shallow(text, _LineLoader)
        if key:
            cache.put("yaml", key, (parsed,))
        return parsed
    except RecursionError:
        raise PackError("nested too deeply", file=path) from None
    except PackError as err:
        err.file = str(path)
        raise PackError(err.message, file=path, line=err.line, name=err.name) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        raise PackError(f"YAML syntax: {err.problem or err}", file=path, line=line) from None
    except yaml.YAMLError as err:
        raise PackError(f"YAML: {err}", file=path) from None


def line_of(root: Any, path: Sequence[Any]) -> int | None:
    """The line of the deepest value along ``path`` that the loader recorded."""
    node, best = root, getattr(root, "line", None)
    for step in path:
        if isinstance(node, LineDict) and step in node:
            best = node.lines.get(step, best)
            node = node[step]
        elif isinstance(node, LineList) and isinstance(step, int) and 0 <= step < len(node):
            best = node.lines[step]
            node = node[step]
        else:
            break
    return best
