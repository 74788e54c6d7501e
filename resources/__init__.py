"""HRM Studio's icons and palettes, installed as the package `hrm_studio.resources`.

Why a Python file among data files: pyproject.toml maps this top-level folder to that package
(`package-dir`), and an editable install (`make run`) only finds a mapped package that has an
`__init__.py`. Code reads these files through `hrm_studio.resource_files`, never by path.
"""
