# gunicorn's entry for Keystone and Placement (POOLPILOT_WSGI names which). Both parse sys.argv with oslo.config,
# which refuses gunicorn's own arguments: the argument list is emptied before the application is built.
import os
import sys

sys.argv = sys.argv[:1]
_which = os.environ['POOLPILOT_WSGI']
if _which == 'keystone':
    from keystone.server.wsgi import initialize_public_application as _init
elif _which == 'placement':
    from placement.wsgi import init_application as _init
else:
    raise SystemExit(f'POOLPILOT_WSGI={_which}: expected keystone or placement')
application = _init()
