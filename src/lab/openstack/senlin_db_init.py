# Builds Senlin's schema from its models: `senlin-manage db_sync` fails on PostgreSQL (migration 001 writes
# FLOAT(24,8), MySQL's syntax). The engine reads its tables only; nothing at run time checks a migration version.
# Usage: senlin_db_init.py <senlin.conf>
import sys

from oslo_config import cfg
from senlin.common import config  # noqa: F401  (registers the options)
from senlin.db.sqlalchemy import api as db_api
from senlin.db.sqlalchemy import models

cfg.CONF(['--config-file', sys.argv[1]], project='senlin')
models.BASE.metadata.create_all(db_api.get_engine())
print('senlin schema built:', len(models.BASE.metadata.tables), 'tables')
