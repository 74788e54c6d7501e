"""Entry script of the packaged app: the same `hrm-studio` command a pip install gives.

PyInstaller needs a script file, not a console-script entry point; this is that file.
"""

import multiprocessing
import sys

from hrm_studio.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen child process must not start the app again
    sys.exit(main())
