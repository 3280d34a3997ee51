"""Alembic migrations, shipped inside the package so a container can run `migrate`.

`upgrade()` applies them to the configured database; the `alembic` command works too from
the project root (see alembic.ini) for writing new revisions with `--autogenerate`.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).parent


def config(database_url: str) -> Config:
    """Alembic configuration pointing at these scripts and `database_url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`. Blocking: call it outside a running event loop."""
    command.upgrade(config(database_url), revision)
