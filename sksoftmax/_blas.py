"""Which BLAS libraries numpy and scipy use, and holding them to one thread.

Two places run a BLAS better on one thread than on all of them: L-BFGS-B's
small vector operations in scipy's own BLAS (next to numpy's, whose pool
they would fight), and the narrow Gram matrices of the preconditioner
(:func:`sksoftmax._products.gram_threads`). A thread limit is process-wide,
so it is held by one owner at a time (:class:`OneThreadLimit`).

OpenBLAS (0.3.31, the PyPI wheels' build) also ignores a change of its
thread count made from any thread but the main one once the main thread has
made one: a limit set by one thread and restored by another could stay
forever. So the thread that set a limit is the one that restores it, when it
leaves, even if other fits still run inside it: they continue with the
original threads, which costs them speed, never correctness.
"""

import functools
import os
import threading
from contextlib import contextmanager

import numpy as np
import scipy
import threadpoolctl

__all__ = [
    "AVX512_OPENBLAS_KERNELS",
    "OneThreadLimit",
    "avx512_kernels",
    "blas_threads",
    "numpy_blas_controllers",
    "scipy_only_blas_controllers",
    "single_threaded_scipy_blas",
]


def _bundled_with(module, filepath):
    """Whether a shared library lives in ``module``'s folder or its wheel's
    ``<module>.libs`` folder."""
    root = os.path.dirname(os.path.abspath(module.__file__))
    path = os.path.abspath(filepath)
    return path.startswith(root + os.sep) or path.startswith(root + ".libs" + os.sep)


@functools.cache
def _blas_libraries():
    """threadpoolctl's controllers of every BLAS library loaded (one scan
    of the process, read once; empty when they cannot be read)."""
    try:
        libraries = threadpoolctl.ThreadpoolController().lib_controllers
    except Exception:  # an unreadable BLAS: leave it alone
        return ()
    return tuple(lib for lib in libraries if lib.user_api == "blas")


@functools.cache
def numpy_blas_controllers():
    """threadpoolctl's controllers of numpy's BLAS: the one bundled with
    numpy, else every BLAS loaded (numpy and scipy then share one)."""
    blas = _blas_libraries()
    own = tuple(lib for lib in blas if _bundled_with(np, lib.filepath))
    return own or blas


# Which way round a dense product runs faster depends on the kernels OpenBLAS
# picked for the processor when it loaded (or that OPENBLAS_CORETYPE forced),
# not on the shape alone. The same processor (an AVX-512 Xeon) with its own
# SkylakeX kernels and with forced Haswell kernels preferred opposite
# orientations on most block shapes of the benchmark, so the product rules of
# sksoftmax._products are per kernel family, decided once per process.
AVX512_OPENBLAS_KERNELS = frozenset({"skylakex", "cooperlake", "sapphirerapids"})


@functools.cache
def avx512_kernels():
    """Whether numpy's BLAS is OpenBLAS running AVX-512 kernels (False when
    the BLAS cannot be read: the default product rules then apply)."""
    return any(
        getattr(lib, "internal_api", None) == "openblas"
        and str(getattr(lib, "architecture", "")).lower() in AVX512_OPENBLAS_KERNELS
        for lib in numpy_blas_controllers()
    )


def blas_threads():
    """Threads numpy's BLAS may use now (its current limit, which
    ``threadpoolctl.threadpool_limits`` lowers); 1 when unknown."""
    counts = _read_threads(numpy_blas_controllers())
    return min((1 if count is None else count for count in counts), default=1)


@functools.cache
def scipy_only_blas_controllers():
    """Controllers of the BLAS libraries scipy loaded besides numpy's own
    (empty when numpy and scipy share one, or when they cannot be read)."""
    blas = _blas_libraries()
    if not any(_bundled_with(np, lib.filepath) for lib in blas):
        return ()
    return tuple(
        lib
        for lib in blas
        if _bundled_with(scipy, lib.filepath) and not _bundled_with(np, lib.filepath)
    )


def _set_threads(libraries, counts):
    for library, count in zip(libraries, counts, strict=True):
        if count is None:
            continue
        try:
            library.set_num_threads(count)
        except Exception:  # a library that cannot be limited keeps its own
            pass


class OneThreadLimit:
    """BLAS libraries held to one thread by one owner thread at a time.

    :meth:`hold` limits the libraries unless another thread holds them
    already (its fits then run inside that limit, until the owner leaves);
    the owner's outermost :meth:`hold` restores the original limits when it
    ends.

    Parameters
    ----------
    libraries : callable
        Returns threadpoolctl's controllers of the libraries (possibly
        none), called at the first :meth:`hold` that limits.

    Examples
    --------
    >>> from sksoftmax._blas import OneThreadLimit, blas_threads
    >>> from sksoftmax._blas import numpy_blas_controllers
    >>> limit = OneThreadLimit(numpy_blas_controllers)
    >>> with limit.hold():
    ...     blas_threads()
    1
    """

    def __init__(self, libraries):
        self._libraries = libraries
        self._lock = threading.Lock()
        self._owner = None
        self._depth = 0
        self._original = ()

    @contextmanager
    def hold(self):
        """Run the block with the libraries on one thread (see above)."""
        me = threading.get_ident()
        with self._lock:
            owner = self._owner == me
            if self._owner is None:
                libraries = self._libraries()
                if libraries:
                    self._original = tuple(_read_threads(libraries))
                    _set_threads(
                        libraries, [c if c is None else 1 for c in self._original]
                    )
                    self._owner, owner = me, True
            if owner:
                self._depth += 1
        try:
            yield
        finally:
            if owner:
                with self._lock:
                    self._depth -= 1
                    if self._depth == 0:
                        _set_threads(self._libraries(), self._original)
                        self._owner = None


def _read_threads(libraries):
    for library in libraries:
        try:
            yield int(library.get_num_threads())
        except Exception:  # a library that cannot say is left alone
            yield None


_SCIPY_ONE_THREAD = OneThreadLimit(scipy_only_blas_controllers)


def single_threaded_scipy_blas():
    """Context manager: scipy's own BLAS on one thread while a fit runs.

    Where numpy and scipy each bundle an OpenBLAS (the PyPI wheels do), the
    two thread pools spin against each other: L-BFGS-B's tiny vector
    operations in scipy's BLAS then slow numpy's matrix products by an order
    of magnitude on a 2-core machine. numpy's BLAS, which does the heavy
    products, keeps all its threads.
    """
    return _SCIPY_ONE_THREAD.hold()
