"""A PostgreSQL server for the tests.

``TECHNYAN_TEST_POSTGRES_URL`` names a server to use (its user must be allowed to create
databases). Otherwise ``ThrowawayServer`` starts one from Debian's binaries
(``/usr/lib/postgresql/<version>/bin``, from the ``postgresql`` package that .ci/run
installs): a fresh cluster in a temporary folder, listening on 127.0.0.1 only (no Unix
socket) on a free port, trust authentication, durability off (fsync, synchronous commit:
the data dies with the test run anyway). ``initdb`` refuses to run as root, so as root the
cluster belongs to the ``postgres`` user (made by the package) and its commands run
through ``runuser``.

Each test gets a database of its own (``fresh_database``), dropped after it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import urllib.parse
from pathlib import Path

__all__ = [
    "ENV_URL",
    "PostgresUnavailable",
    "ThrowawayServer",
    "drop_database",
    "fresh_database",
    "in_ci",
]

ENV_URL = "TECHNYAN_TEST_POSTGRES_URL"
SUPERUSER = "technyan"
START_TIMEOUT_SECONDS = 30


class PostgresUnavailable(Exception):
    """No PostgreSQL server binary on this machine (the message says what is missing)."""


def in_ci() -> bool:
    """True under CI (``CI=true``), where a PostgreSQL test may not be skipped."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _version(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name)) or (0,)


def find_bindir() -> Path:
    """The folder of the newest ``initdb`` + ``pg_ctl`` pair. Raises
    ``PostgresUnavailable`` when there is none."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_version)
    for initdb in reversed(candidates):
        if (initdb.parent / "pg_ctl").exists():
            return initdb.parent
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on "
        "PATH; install Debian's postgresql package or set " + ENV_URL
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayServer:
    """A PostgreSQL cluster in a temporary folder, started by ``start`` and removed by
    ``stop``; ``kill`` stops it at once as a crash would and ``restart`` brings it back on
    the same port. ``url`` is its superuser's URL (database ``postgres``). ``durable``
    keeps ``synchronous_commit`` on, so a commit the server acknowledged survives
    ``kill`` (off, the last fraction of a second of commits may be lost, as documented
    for that setting)."""

    def __init__(self, bindir: Path | None = None, *, durable: bool = False) -> None:
        self.bindir = bindir or find_bindir()
        self.durable = durable
        self.root = Path(tempfile.mkdtemp(prefix="technyan-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self._user: str | None = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                with contextlib.suppress(KeyError):
                    entry = pwd.getpwnam(name)
                    os.chown(self.root, entry.pw_uid, entry.pw_gid)
                    self._user = name
                    break
            else:  # pragma: no cover - every Debian system has nobody
                raise PostgresUnavailable("running as root and no postgres user to run as")

    @property
    def url(self) -> str:
        """``postgresql://technyan@127.0.0.1:PORT/postgres``."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bindir / command[0]), *command[1:]]
        if self._user is not None:
            argv = ["runuser", "-u", self._user, "--", *argv]
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=120, cwd=self.root, check=False
        )

    def start(self) -> ThrowawayServer:
        """Make the cluster and start the server. Raises ``RuntimeError`` with the
        server's log when it does not start."""
        made = self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        if made.returncode != 0:
            raise RuntimeError(f"initdb failed: {made.stderr.strip() or made.stdout.strip()}")
        for _attempt in range(3):  # another process may take the free port first
            self.port = _free_port()
            settings = (
                "listen_addresses = '127.0.0.1'",
                f"port = {self.port}",
                "unix_socket_directories = ''",
                "fsync = off",  # the machine does not crash in a test, only the server
                "synchronous_commit = on" if self.durable else "synchronous_commit = off",
                "full_page_writes = off",
                "max_connections = 100",
            )
            with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
                conf.write("\n# technyan-bot tests\n" + "\n".join(settings) + "\n")
            started = self._pg_start()
            if started.returncode == 0:
                return self
        log = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {started.stderr.strip()}\n{log[-2000:]}")

    def _pg_start(self) -> subprocess.CompletedProcess[str]:
        """``pg_ctl start`` on this data folder, logging to ``self.log``, waiting up to
        START_TIMEOUT_SECONDS for the server to accept connections."""
        return self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log),
            "-w", "-t", str(START_TIMEOUT_SECONDS), "start",
        )  # fmt: skip

    def kill(self) -> None:
        """Stop the server at once (``pg_ctl stop -m immediate``: connections are cut as
        in a crash); its data stays for ``restart``. Raises ``RuntimeError`` when it does
        not stop."""
        done = self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        if done.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not stop: {done.stderr.strip()}")

    def restart(self) -> None:
        """Start a killed server again, on the same port. Raises ``RuntimeError`` with the
        server's log when it does not start."""
        started = self._pg_start()
        if started.returncode != 0:
            log = self.log.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL did not restart: {started.stderr.strip()}\n{log}")

    def stop(self) -> None:
        """Stop the server (immediately: nothing in it is kept) and remove its folder."""
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name``."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def fresh_database(admin_url: str, prefix: str = "technyan_test") -> str:
    """Create an empty database on the server of ``admin_url``; return its URL."""
    import psycopg

    name = f"{prefix}_{secrets.token_hex(5)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(admin_url, name)


def drop_database(admin_url: str, url: str) -> None:
    """Drop the database of ``url`` (closing its remaining connections)."""
    import psycopg

    name = urllib.parse.urlsplit(url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
