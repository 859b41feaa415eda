import ast
import os
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf
from omegaconf._utils import get_yaml_loader

import sim.safe_yaml
from sim.errors import ECHO_CHARS, DataError, clip
from sim.safe_yaml import MAX_NESTING, is_regular_file_within, load_yaml_file


def refusal(path, max_bytes=1000, within=None):
    """The one-line message ``load_yaml_file`` refuses ``path`` with (as a DataError)."""
    with pytest.raises(DataError) as info:
        load_yaml_file(path, max_bytes=max_bytes, what="a config", error=DataError, within=within)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: "), message
    return message


def test_plain_yaml_reads_as_omegaconf_reads_it(tmp_path):
    text = "a: 1e5\nb: {2024: 0.5, x: [1, 2.5, null, true, 'no']}\nc: 2024-01-01\n"
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    data, raw = load_yaml_file(
        tmp_path / "config.yaml", max_bytes=1000, what="a config", error=DataError
    )
    assert raw == text.encode()
    assert data == OmegaConf.to_container(OmegaConf.create(text))
    assert data["a"] == 1e5 and data["c"] == "2024-01-01"  # a float; no timestamps


YAML_INDICATORS = list("&*!%@`|>{}[],#:'\"-? \n\t")
plain_data = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(
        st.sampled_from(YAML_INDICATORS) | st.characters(codec="utf-8", exclude_categories=["Cs"])
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text("abcxyz_"), inner),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(st.text("abcxyz_", min_size=1), plain_data, min_size=1))
def test_plain_data_written_by_pyyaml_is_never_refused(tmp_path_factory, data):
    """Strings full of ``&``, ``*`` and ``!`` are text, not anchors, aliases or tags."""
    path = tmp_path_factory.mktemp("plain") / "config.yaml"
    text = yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    loaded, _ = load_yaml_file(path, max_bytes=10**6, what="a config", error=DataError)
    assert loaded == yaml.load(text, Loader=get_yaml_loader())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: &x 2\nc: *x\n", "line 2: YAML anchors and aliases are not allowed in a config"),
        ("a: *undefined\n", "line 1: YAML anchors and aliases are not allowed in a config"),
        ("a:\n  - [1, &y {b: 2}]\n", "line 2: YAML anchors and aliases are not allowed"),
        ("a: !!python/name:os.system ''\n", "line 1: YAML tags are not allowed in a config"),
        ("a: !!set {x, y}\n", "line 1: YAML tags are not allowed in a config"),
        ("a: !custom 1\n", "line 1: YAML tags are not allowed in a config"),
        ("a: [1, 2\n", "line 2: malformed YAML ("),
        ("a: 1\na: 2\n", "line 2: malformed YAML (found duplicate key a)"),
        ("a: 1\n---\nb: 2\n", "line 2: malformed YAML (but found another document)"),
        ("a: 1\nb: 'x\x07y'\n", "line 2: malformed YAML (character #x0007 is not allowed)"),
    ],
)
def test_anchors_aliases_tags_and_malformed_yaml_are_refused_with_their_line(
    tmp_path, text, message
):
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    assert message in refusal(path)


def test_nesting_is_capped_before_the_parser_recurses(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("[" * MAX_NESTING + "]" * MAX_NESTING, encoding="utf-8")
    data, _ = load_yaml_file(path, max_bytes=1000, what="a config", error=DataError)
    for _ in range(MAX_NESTING - 1):
        (data,) = data
    assert data == []
    path.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")  # RecursionError in PyYAML
    assert refusal(path, max_bytes=10**5).endswith(
        f"line 1: nested more than {MAX_NESTING} levels deep; allowed in a config: at most "
        f"{MAX_NESTING}"
    )
    path.write_text("".join(f"{' ' * i}k:\n" for i in range(200)), encoding="utf-8")
    assert f"nested more than {MAX_NESTING} levels deep" in refusal(path, max_bytes=10**5)


def test_the_size_is_checked_on_the_file_and_again_while_reading(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes(b"a: 1\n" + b"#" * 995)
    assert refusal(path, max_bytes=999) == (f"{path}: 1,000 bytes; a config may have at most 999")
    assert load_yaml_file(path, max_bytes=1000, what="a config", error=DataError)[0] == {"a": 1}
    status = Path("/proc/self/status")  # a regular file that reports size 0
    if not status.is_file() or status.stat().st_size:
        pytest.skip("needs Linux's /proc")
    assert refusal(status, max_bytes=100) == (
        f"{status}: more than 100 bytes; a config may have at most 100"
    )


def test_only_regular_files_are_opened(tmp_path):
    (tmp_path / "folder.yaml").mkdir()
    assert refusal(tmp_path / "folder.yaml").endswith(": a folder; a config must be a regular file")
    os.mkfifo(tmp_path / "fifo.yaml")  # no writer: reading it would wait forever
    assert refusal(tmp_path / "fifo.yaml").endswith(
        ": a FIFO, socket or device; a config must be a regular file"
    )
    assert refusal(Path("/dev/zero")).endswith(
        ": a FIFO, socket or device; a config must be a regular file"
    )
    assert not is_regular_file_within(tmp_path / "fifo.yaml", tmp_path)


def test_os_errors_become_one_line(tmp_path, monkeypatch):
    assert refusal(tmp_path / "missing.yaml") == f"{tmp_path / 'missing.yaml'}: no such file"
    long = tmp_path / ("x" * 300 + ".yaml")
    assert refusal(long) == f"{long}: cannot read (File name too long)"
    nul = tmp_path / "a\0b.yaml"
    assert refusal(nul) == f"{nul}: cannot read (not a file name)"
    (tmp_path / "file.yaml").write_text("a: 1\n", encoding="utf-8")
    below_a_file = tmp_path / "file.yaml" / "x.yaml"
    assert refusal(below_a_file) == f"{below_a_file}: cannot read (Not a directory)"

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(sim.safe_yaml.os, "open", denied)  # tests run as root: chmod won't do
    assert refusal(tmp_path / "file.yaml") == (
        f"{tmp_path / 'file.yaml'}: cannot read (Permission denied)"
    )


def test_within_refuses_what_leads_outside_the_folder(tmp_path):
    folder = tmp_path / "runs"
    (folder / "sub").mkdir(parents=True)
    secret = tmp_path / "secret.yaml"
    secret.write_text("password: hunter2\n", encoding="utf-8")
    (folder / "sub" / "real.yaml").write_text("a: 1\n", encoding="utf-8")
    (folder / "inside.yaml").symlink_to("sub/real.yaml")
    (folder / "outside.yaml").symlink_to(secret)
    (folder / "sub" / "up.yaml").symlink_to("../../secret.yaml")
    for path in (
        folder / "outside.yaml",
        folder / "sub" / "up.yaml",
        folder / ".." / "secret.yaml",
    ):
        message = refusal(path, within=folder)
        assert message == f"{path}: leads outside {folder}; a config must lie in that folder"
        assert "hunter2" not in message
        assert not is_regular_file_within(path, folder)
    data, _ = load_yaml_file(
        folder / "inside.yaml", max_bytes=100, what="a config", error=DataError, within=folder
    )
    assert data == {"a": 1} and is_regular_file_within(folder / "inside.yaml", folder)
    assert not is_regular_file_within(folder, folder)


def test_the_callers_error_class_is_raised(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes(b"\xff\xfe")

    class ReportError(Exception):
        pass

    with pytest.raises(ReportError, match=r"config\.yaml: not UTF-8 text$"):
        load_yaml_file(path, max_bytes=10, what="a config", error=ReportError)


@given(text=st.text(), limit=st.integers(2, 200))
def test_clip_gives_one_printable_line_of_at_most_the_limit(text, limit):
    shown = clip(text, limit)
    assert len(shown) <= limit and shown.isprintable()
    if len(text) <= limit and text.isprintable():
        assert shown == text
    assert len(clip(text)) <= ECHO_CHARS


def test_safe_yaml_sits_below_the_model():
    """Only the standard library, PyYAML, OmegaConf and Ronghe's errors: any layer may use it."""
    tree = ast.parse(Path(sim.safe_yaml.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    allowed = {"__future__", "yaml", "omegaconf"} | sys.stdlib_module_names
    assert imported - allowed <= {"sim"}, imported
    assert {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} & {
        "sim",
        "sim.model",
        "sim.config",
        "sim.data",
    } == set()  # from sim only sim.errors
