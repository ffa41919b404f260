# Runs an OpenStack program from its Python entry point: Debian's python3-* packages ship the modules without the
# console scripts. Usage: pyrun.py package.module:function program-name [args...]
import importlib
import sys

target, prog, *args = sys.argv[1:]
module, _, func = target.partition(':')
sys.argv = [prog, *args]
sys.exit(getattr(importlib.import_module(module), func)())
