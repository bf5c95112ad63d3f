"""Stand-in for the get-pip.py that ansible-test downloads to bootstrap pip in the virtual environments it makes.

ansible-test runs ``python get_pip_<version>.py <pip options> pip==<version> --no-setuptools --no-wheel`` and reads
the script from its cache (~/.ansible/test/cache) before trying to download it; the download host is not reachable
from every machine that runs this collection's sanity tests. This script does the same job with what every Python
ships: ensurepip, then pip installs the requested packages from the configured package index.
"""

import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")

pip_args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install"] + pip_args)
