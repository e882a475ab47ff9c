"""Embedded PostgreSQL 16 for laptops and CI: a real server from the pgserver wheel.

By default it listens on a Unix socket only (no port to collide with); with ``tcp_port`` and
``password`` it listens on 127.0.0.1 with password authentication, like a remote server.
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


def _bin(name: str) -> str:
    from pgserver._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _as_service_user() -> dict:
    """subprocess arguments that drop root to the service user (no-op for normal users)."""
    if os.geteuid() != 0:
        return {}
    from pgserver._commands import POSTGRES_BIN_PATH
    from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(SERVICE_USER)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    read_exec = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, read_exec)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    return {"user": SERVICE_USER}


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


def start(pgdata: Path | str, *, tcp_port: int | None = None, password: str | None = None, database: str = DATABASE) -> EmbeddedServer:
    """Initialise (first time) and start a server on pgdata; idempotent when already running."""
    pgdata = Path(pgdata).expanduser().resolve()
    if tcp_port is not None and not password:
        raise ValueError("A TCP embedded server needs a password (password=...).")
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    user_kwargs = _as_service_user()
    if user_kwargs:
        from pgserver.utils import ensure_prefix_permissions

        pgdata.mkdir(exist_ok=True)
        ensure_prefix_permissions(pgdata)
        import pwd

        entry = pwd.getpwnam(SERVICE_USER)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    port = tcp_port or 5432
    socket_dir = _socket_dir(pgdata)
    server = EmbeddedServer(pgdata, socket_dir, port, tcp_port is not None, password, database)
    if not (pgdata / "PG_VERSION").exists():
        args = [_bin("initdb"), "-D", str(pgdata), "-U", "postgres", "--encoding=UTF8", "--locale=C"]
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
        _run([_bin("pg_ctl"), "-D", str(pgdata), "-w", "-t", "60", "-l", str(log), "-o", options, "start"], **user_kwargs)
    _ensure_database(server)
    return server


def _ensure_database(server: EmbeddedServer) -> None:
    import psycopg2

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
            cur.execute("select 1 from pg_database where datname = %s", (server.database,))
            if cur.fetchone() is None:
                cur.execute(f'create database "{server.database}"')
    finally:
        conn.close()


def stop(pgdata: Path | str) -> bool:
    """Stop the server on pgdata (fast shutdown); False when it was not running."""
    pgdata = Path(pgdata).expanduser().resolve()
    if _running_pid(pgdata) is None:
        return False
    _run([_bin("pg_ctl"), "-D", str(pgdata), "-w", "-m", "fast", "stop"], **_as_service_user())
    return True
