"""Config and custom rule packs from the pull request's base revision — never from its head.

A custom rule is Python that the review imports; under `pull_request_target` the run holds a
write token, so a pull request must not be able to change the rules that judge it (or turn
them off). The config file is read from the base commit's objects, and each rule-pack folder
it names is copied out of the base commit into a scratch folder that the catalog loads. The
working tree, which may hold the head, is never read for either.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

import yaml

from reviewer.catalog import Catalog, load_catalog
from reviewer.config import CONFIG_FILE_NAME, Config, check_codes, parse_config_text
from reviewer.errors import ConfigError, UsageError
from reviewer.git import read_blobs, run_git

MAX_RULE_FILE_BYTES = 1024 * 1024


@contextmanager
def base_settings(
    root: Path, base: str | None, config_path: str | None, overrides: dict[str, Any]
) -> Iterator[tuple[Config, Catalog]]:
    """(config, catalog) as the base commit defines them, with `overrides` from the command line.

    The catalog's rule files live in a scratch folder that exists until the block ends.
    """
    relative = _repo_relative(config_path or CONFIG_FILE_NAME)
    with tempfile.TemporaryDirectory(prefix="review-base-") as scratch_name:
        scratch = Path(scratch_name)
        if base is None:
            print(
                "review: warning: the base commit is not available; using the default configuration "
                "(fetch the base to use its config and rule packs)",
                file=sys.stderr,
            )
            config = Config()
        else:
            config = _base_config(root, base, relative, scratch, explicit=config_path is not None)
        config = dataclasses.replace(config, **overrides)
        catalog = load_catalog(list(config.rule_packs))
        check_codes(config, catalog)
        yield config, catalog


def _repo_relative(path: str) -> str:
    pure = PurePosixPath(path.replace(os.sep, "/"))
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise UsageError(f"--config must be a path inside the repository (read from the base commit), not {path!r}")
    return pure.as_posix()


def _base_config(root: Path, base: str, path: str, scratch: Path, *, explicit: bool) -> Config:
    source = f"{path} at base commit {base[:12]}"
    blob = read_blobs(root, base, [path], MAX_RULE_FILE_BYTES)[path]
    if blob.kind == "missing":
        if explicit:
            raise ConfigError(f"config file not found: {source}")
        return Config()
    if blob.kind != "file" or blob.data is None:
        raise ConfigError(f"{source}: not a regular file of at most {MAX_RULE_FILE_BYTES} bytes ({blob.kind})")
    try:
        text = blob.data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text") from None
    for folder in _pack_folders(text):
        _copy_folder(root, base, folder, scratch)
    return parse_config_text(text, source, scratch)


def _pack_folders(text: str) -> list[str]:
    """The rule-pack folders named in the config; malformed entries are left to the config's
    own validation, which names them."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    packs = data.get("rule-packs") if isinstance(data, dict) else None
    folders = []
    for entry in packs if isinstance(packs, list) else ():
        if isinstance(entry, str):
            pure = PurePosixPath(entry)
            if not pure.is_absolute() and ".." not in pure.parts and pure.parts:
                folders.append(pure.as_posix())
    return folders


def _copy_folder(root: Path, base: str, folder: str, scratch: Path) -> None:
    """The folder's regular files as the base commit has them; links and submodules are skipped."""
    listing = run_git(root, "--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree", base, "--", folder)
    files = []
    for record in listing.split(b"\0"):
        meta, _, name = record.partition(b"\t")
        if meta and meta.split()[0] in (b"100644", b"100755"):
            files.append(os.fsdecode(name))
    for name, blob in read_blobs(root, base, files, MAX_RULE_FILE_BYTES).items():
        if blob.kind == "file" and blob.data is not None:
            target = scratch.joinpath(*PurePosixPath(name).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.data)
