"""Reading sources: never outside the repository, size cap, binary and encodings handled."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reviewer.sources import WorktreeSource, decode_source


def test_symlink_pointing_outside_the_repository_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.py"
    secret.write_text("TOKEN = 'do-not-read'\n")
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    os.symlink(secret, root / "app" / "leak.py")
    os.symlink(tmp_path, root / "up")

    outcome = WorktreeSource(root, 1 << 20).read(["app/leak.py", "up/secret.py", "../secret.py"])

    assert outcome.files == {}
    reasons = {f.path: f.message for f in outcome.skipped}
    assert reasons == {
        "app/leak.py": "not reviewed: resolves outside the repository",
        "up/secret.py": "not reviewed: resolves outside the repository",
        "../secret.py": "not reviewed: resolves outside the repository",
    }
    assert all(f.code == "RVW002" for f in outcome.skipped)


def test_symlink_inside_the_repository_is_skipped_not_followed(tmp_path: Path) -> None:
    (tmp_path / "real.py").write_text("x = 1\n")
    os.symlink(tmp_path / "real.py", tmp_path / "alias.py")
    outcome = WorktreeSource(tmp_path, 1 << 20).read(["alias.py", "real.py"])
    assert list(outcome.files) == ["real.py"]
    assert "symbolic link" in outcome.skipped[0].message


def test_size_cap_binary_and_undecodable_files_are_skipped_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text("x = 1\n" * 400)
    (tmp_path / "blob.py").write_bytes(b"x = 1\n\0\0\0")
    (tmp_path / "latin.js").write_bytes(b"const s = '\xe9';\n")
    (tmp_path / "ok.py").write_text("x = 'é'\n", encoding="utf-8")
    outcome = WorktreeSource(tmp_path, 1000).read(["big.py", "blob.py", "latin.js", "ok.py", "gone.py"])
    assert list(outcome.files) == ["ok.py"]
    reasons = {f.path: f.message for f in outcome.skipped}
    assert reasons["big.py"] == "not reviewed: 2 KiB is over the 1 KiB cap (max-file-bytes)"
    assert reasons["blob.py"] == "not reviewed: binary file"
    assert reasons["latin.js"] == "not reviewed: not valid utf-8 text"
    assert reasons["gone.py"] == "not reviewed: not a regular file"


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"\xef\xbb\xbfx = 1\n", "x = 1\n"),
        (b"# -*- coding: latin-1 -*-\nx = '\xe9'\n", "# -*- coding: latin-1 -*-\nx = 'é'\n"),
        (b"x = 1\r\ny = 2\r\n", "x = 1\r\ny = 2\r\n"),
    ],
)
def test_python_files_decode_like_python_does(data: bytes, text: str) -> None:
    assert decode_source("m.py", data) == text


def test_bad_coding_cookie_is_a_reason_not_a_crash() -> None:
    with pytest.raises(ValueError, match="bad encoding declaration|not valid"):
        decode_source("m.py", b"# -*- coding: klingon -*-\nx = 1\n")
