"""Reading YAML from a folder that may not be trusted: bounded, plain data, one-line errors.

:func:`load_yaml_file` is the one way the project reads such a file (a scenario; a run
folder's ``config.yaml``). It refuses, with a one-line error of the caller's class that
starts with the path:

- anything that is not a regular file (a folder, FIFO, socket or device is never read,
  so reading cannot block), and with ``within``, a file whose real path (links followed)
  lies outside that folder;
- a file larger than ``max_bytes``, checked on its size before reading and again while
  reading at most ``max_bytes + 1`` bytes (a file may grow, or report size 0);
- text that is not UTF-8, YAML anchors and aliases (nested aliases expand exponentially:
  "billion laughs"), YAML tags (``!!python/...`` and the like: plain data only), nesting
  deeper than :data:`MAX_NESTING`, and malformed YAML.

The YAML is read as OmegaConf and Hydra read it (YAML 1.1, ``1e5`` is a float, no
timestamps, duplicate keys refused). Messages echo at most :data:`ECHO_CHARS` characters
of the file's content (:func:`clip`), never a whole line or document.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml
from omegaconf._utils import get_yaml_loader  # the YAML dialect Hydra reads configs in

from sim.errors import clip

MAX_NESTING = 64  # far above any config; keeps PyYAML's recursive composer off the stack limit

_OPENING = (
    yaml.BlockMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.FlowSequenceStartToken,
)
_CLOSING = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


class _RefusedError(Exception):
    """Why a file is refused; :func:`load_yaml_file` raises it as the caller's class."""


def is_regular_file_within(path: Path, folder: Path) -> bool:
    """Whether ``path``, links followed, is a regular file inside ``folder``."""
    try:
        real = os.path.realpath(path, strict=True)
        inside = _inside(real, os.path.realpath(folder, strict=True))
        return inside and stat.S_ISREG(os.stat(real).st_mode)
    except (OSError, ValueError):
        return False


def load_yaml_file(
    path: Path,
    *,
    max_bytes: int,
    what: str,
    error: type[Exception],
    within: Path | None = None,
) -> tuple[Any, bytes]:
    """Read and parse one YAML file as plain data, refusing what could hang, leak or run code.

    Args:
        path: The file, named as given in messages.
        max_bytes: Largest size accepted.
        what: What the file is, for messages, e.g. ``"a scenario"``.
        error: Exception class raised, with a one-line message starting with ``path``.
        within: Folder the file's real path must lie in (links inside it are fine).

    Returns:
        The data (dicts, lists, str, int, float, bool or None) and the file's bytes.

    Raises:
        error: Not a regular file, outside ``within``, unreadable, too large, not UTF-8,
            anchors, aliases or tags, nested too deeply, or malformed YAML.
    """
    try:
        raw = _read_bytes(path, max_bytes, what, within)
        return _parse(raw, what), raw
    except _RefusedError as refused:
        raise error(f"{path}: {refused}") from None


def _inside(real: str, folder_real: str) -> bool:
    return real != folder_real and os.path.commonpath([real, folder_real]) == folder_real


def _read_bytes(path: Path, max_bytes: int, what: str, within: Path | None) -> bytes:
    """The file's bytes after the checks on its kind, place and size."""
    try:
        real = os.path.realpath(path, strict=True)
        if within is not None and not _inside(real, os.path.realpath(within, strict=True)):
            raise _RefusedError(f"leads outside {within}; {what} must lie in that folder")
        _check_kind_and_size(os.stat(real), max_bytes, what)
        # O_NONBLOCK: should the file have been swapped for a FIFO since the check, opening
        # it does not wait for a writer; fstat then refuses it.
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | os.O_CLOEXEC)
        try:
            _check_kind_and_size(os.fstat(fd), max_bytes, what)
            chunks, size = [], 0
            while size <= max_bytes and (chunk := os.read(fd, max_bytes + 1 - size)):
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise _RefusedError("no such file") from None
    except OSError as exc:
        raise _RefusedError(f"cannot read ({exc.strerror or type(exc).__name__})") from None
    except ValueError:  # a NUL character in the path
        raise _RefusedError("cannot read (not a file name)") from None
    if size > max_bytes:
        raise _RefusedError(f"more than {max_bytes:,} bytes; {what} may have at most {max_bytes:,}")
    return b"".join(chunks)


def _check_kind_and_size(st: os.stat_result, max_bytes: int, what: str) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise _RefusedError(f"a folder; {what} must be a regular file")
    if not stat.S_ISREG(st.st_mode):
        raise _RefusedError(f"a FIFO, socket or device; {what} must be a regular file")
    if st.st_size > max_bytes:
        raise _RefusedError(f"{st.st_size:,} bytes; {what} may have at most {max_bytes:,}")


def _parse(raw: bytes, what: str) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _RefusedError("not UTF-8 text") from None
    try:
        _refuse_anchors_tags_and_depth(text, what)
        return yaml.load(text, Loader=get_yaml_loader())
    except yaml.YAMLError as exc:
        raise _RefusedError(_yaml_problem(exc, text)) from None
    except RecursionError:
        raise _RefusedError("nested too deeply") from None


def _refuse_anchors_tags_and_depth(text: str, what: str) -> None:
    """Scan the tokens (nothing is constructed) for anchors, aliases, tags and deep nesting."""
    depth = 0
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        line = token.start_mark.line + 1
        if isinstance(token, yaml.AnchorToken | yaml.AliasToken):
            raise _RefusedError(f"line {line}: YAML anchors and aliases are not allowed in {what}")
        if isinstance(token, yaml.TagToken):
            raise _RefusedError(f"line {line}: YAML tags are not allowed in {what}")
        if isinstance(token, _OPENING):
            depth += 1
            if depth > MAX_NESTING:
                raise _RefusedError(
                    f"line {line}: nested more than {MAX_NESTING} levels deep; "
                    f"allowed in {what}: at most {MAX_NESTING}"
                )
        elif isinstance(token, _CLOSING):
            depth -= 1


def _yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    """``line N: malformed YAML (problem)``, the problem clipped: it may quote the file."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        return f"line {line}: malformed YAML (character #x{exc.character:04x} is not allowed)"
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}: " if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{where}malformed YAML ({clip(str(problem))})"
