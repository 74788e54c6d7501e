"""`python -m hrm_studio` is the same program as the installed `hrm-studio`."""

from hrm_studio.cli import main

raise SystemExit(main())
