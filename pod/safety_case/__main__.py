"""`python -m pod.safety_case`: see pod/safety_case/cli.py."""

import sys

from pod.safety_case.cli import main

sys.exit(main(sys.argv[1:]))
