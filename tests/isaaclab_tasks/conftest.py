"""Puts this folder on ``sys.path`` so the tests can import ``stack_test_utils``."""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
