"""Collection settings for the whole repository (tests/ and the package's
doctests)."""

import importlib.util

# sksoftmax/_dask.py imports dask, which is optional: without it, its
# doctests are not collected (tests/test_dask.py skips itself).
collect_ignore = []
if (
    importlib.util.find_spec("dask") is None
    or importlib.util.find_spec("distributed") is None
):
    collect_ignore.append("sksoftmax/_dask.py")
