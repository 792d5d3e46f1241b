"""Offline stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test bootstraps pip in each virtualenv it creates by running a cached get-pip script with the
pip requirement as arguments (for example ``pip==24.2 --no-setuptools --no-wheel``). This stand-in does the
same with what the interpreter already ships: ``ensurepip`` for a first pip, then ``pip install`` of the
requested packages from the configured package index.
"""

import subprocess
import sys

IGNORED = {"--no-setuptools", "--no-wheel"}


def main():
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    packages = [arg for arg in sys.argv[1:] if arg not in IGNORED]
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + packages)


if __name__ == "__main__":
    main()
