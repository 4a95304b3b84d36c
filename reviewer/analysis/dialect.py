"""Which database a project runs on, guessed from text the repository shows — never by running it.

Rules whose advice depends on the database (PostgreSQL locks a table while it builds an index
without CONCURRENTLY; MySQL builds it online) ask `project_database(...)`. The first source that
names exactly one database wins, nearest to the file first:

1. the file itself: `django.contrib.postgres`, `sqlalchemy.dialects.<db>`, `postgresql_*=`/
   `mysql_*=` dialect options;
2. walking up from the file's folder to the repository root, in each folder: `manage.py`'s
   DJANGO_SETTINGS_MODULE (the settings module and the modules it star-imports relatively —
   `django_settings_texts`, which other settings readers share), `alembic.ini`'s `sqlalchemy.url`;
3. in the same folders, dependency manifests: a PostgreSQL or MySQL driver in
   requirements.txt / pyproject.toml / Pipfile / setup.py.

None means not known; callers then speak more softly, they do not stay silent.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Callable, Iterable

RepoFileReader = Callable[[str], "str | None"]

POSTGRESQL = "postgresql"
MYSQL = "mysql"
SQLITE = "sqlite"
ORACLE = "oracle"

_SOURCE_HINTS = [
    (re.compile(r"django\.contrib\.postgres|dialects(?:\.|\s+import\s+)postgresql|\bpostgresql_\w+\s*="), POSTGRESQL),
    (re.compile(r"dialects(?:\.|\s+import\s+)mysql|\bmysql_\w+\s*="), MYSQL),
]
_CONFIG_HINTS = [
    (re.compile(r"django\.(?:contrib\.gis\.)?db\.backends\.(?:postgresql|postgis)|\bpostgres(?:ql)?(?:\+\w+)?://"), POSTGRESQL),
    (re.compile(r"django\.(?:contrib\.gis\.)?db\.backends\.mysql|\bmysql(?:\+\w+)?://|\bmariadb(?:\+\w+)?://"), MYSQL),
    (re.compile(r"django\.db\.backends\.sqlite3|django\.contrib\.gis\.db\.backends\.spatialite|\bsqlite(?:\+\w+)?://"), SQLITE),
    (re.compile(r"django\.(?:contrib\.gis\.)?db\.backends\.oracle|\boracle(?:\+\w+)?://"), ORACLE),
]
_DRIVER_HINTS = [
    (re.compile(r"^\s*[\"']?(?:psycopg2?(?:-binary)?|psycopg\[|asyncpg|pg8000)", re.MULTILINE | re.IGNORECASE), POSTGRESQL),
    (re.compile(r"^\s*[\"']?(?:mysqlclient|pymysql|aiomysql|mysql-connector)", re.MULTILINE | re.IGNORECASE), MYSQL),
]
_SETTINGS_MODULE = re.compile(r"DJANGO_SETTINGS_MODULE[\"']\s*,\s*[\"']([\w.]+)[\"']")
_RELATIVE_STAR_IMPORT = re.compile(r"^from\s+\.(\w+)\s+import\s+\*", re.MULTILINE)
_MANIFESTS = ("requirements.txt", "pyproject.toml", "Pipfile", "setup.py")


def project_database(path: str, read_repo_file: RepoFileReader, *, file_source: str | None = None) -> str | None:
    """The database the project uses, or None when unknown or ambiguous.

    `file_source` adds the file's own hints (dialect imports, dialect-specific arguments) as the
    first evidence; leave it out to hear only the project's configuration.
    """
    found = _single_match(_SOURCE_HINTS, [file_source]) if file_source is not None else None
    if found:
        return found
    folders = list(PurePosixPath(path).parents)
    for folder in folders:
        found = _single_match(_CONFIG_HINTS, _config_texts(folder, read_repo_file))
        if found:
            return found
    for folder in folders:
        found = _single_match(_DRIVER_HINTS, _texts(read_repo_file, [folder / name for name in _MANIFESTS]))
        if found:
            return found
    return None


def _single_match(hints: list[tuple[re.Pattern[str], str]], texts: Iterable[str]) -> str | None:
    texts = list(texts)
    named = {database for pattern, database in hints if any(pattern.search(text) for text in texts)}
    return named.pop() if len(named) == 1 else None


def _config_texts(folder: PurePosixPath, read_repo_file: RepoFileReader) -> list[str]:
    return _texts(read_repo_file, [folder / "alembic.ini"]) + django_settings_texts(folder, read_repo_file)


def django_settings_texts(folder: PurePosixPath, read_repo_file: RepoFileReader) -> list[str]:
    """The Django settings that `folder`'s manage.py names (DJANGO_SETTINGS_MODULE): the module
    or package, then the modules it star-imports relatively; [] without such a manage.py."""
    settings = _SETTINGS_MODULE.search(read_repo_file(str(folder / "manage.py")) or "")
    if not settings:
        return []
    texts: list[str] = []
    module = folder.joinpath(*settings.group(1).split("."))
    # (file, folder its relative imports start from) for a settings module or package.
    for settings_file, package in ((module.with_suffix(".py"), module.parent), (module / "__init__.py", module)):
        text = read_repo_file(str(settings_file))
        if text is not None:
            texts.append(text)
            star_imported = [package / f"{name}.py" for name in _RELATIVE_STAR_IMPORT.findall(text)]
            texts.extend(_texts(read_repo_file, star_imported))
    return texts


def _texts(read_repo_file: RepoFileReader, paths: Iterable[PurePosixPath]) -> list[str]:
    return [text for path in paths if (text := read_repo_file(str(path))) is not None]
