"""BLAS thread limits: one owner at a time, always restored."""

import os
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from sksoftmax import _blas


class FakeLibrary:
    """A threadpoolctl library controller that records its thread count."""

    def __init__(self, threads=4, readable=True):
        self.threads = threads
        self.readable = readable
        self.calls = []

    def get_num_threads(self):
        if not self.readable:
            raise RuntimeError("cannot say")
        return self.threads

    def set_num_threads(self, count):
        self.calls.append(count)
        self.threads = count


class FakeBLAS:
    """A threadpoolctl controller as the kernel inspection reads it."""

    user_api = "blas"

    def __init__(self, architecture, internal_api="openblas", bundled_with="numpy"):
        self.internal_api = internal_api
        self.architecture = architecture
        root = os.path.dirname(np.__file__) if bundled_with == "numpy" else "/scipy"
        self.filepath = os.path.join(root + ".libs", "libopenblas.so")


@pytest.fixture
def fresh_blas_scan():
    """The cached scans cleared before and after the test (they hold the
    real libraries otherwise)."""
    scans = (_blas._blas_libraries, _blas.numpy_blas_controllers, _blas.avx512_kernels)
    for scan in scans:
        scan.cache_clear()
    yield
    for scan in scans:
        scan.cache_clear()


@pytest.mark.parametrize(
    "libraries, expected",
    [
        ([FakeBLAS("SkylakeX")], True),
        ([FakeBLAS("SapphireRapids")], True),
        ([FakeBLAS("Haswell")], False),
        ([FakeBLAS("Zen")], False),
        ([], False),
        ([FakeBLAS(None, internal_api="mkl")], False),
        # numpy's own OpenBLAS decides when scipy's runs another family
        ([FakeBLAS("Haswell"), FakeBLAS("SkylakeX", bundled_with="scipy")], False),
        # one shared library, not bundled with numpy: that one decides
        ([FakeBLAS("SkylakeX", bundled_with="scipy")], True),
    ],
    ids=[
        "skylakex",
        "sapphire",
        "haswell",
        "zen",
        "none",
        "mkl",
        "numpy-own",
        "shared",
    ],
)
def test_avx512_kernels_are_those_of_numpys_blas(
    monkeypatch, fresh_blas_scan, libraries, expected
):
    monkeypatch.setattr(_blas, "_blas_libraries", lambda: tuple(libraries))
    assert _blas.avx512_kernels() is expected


def test_unreadable_blas_keeps_the_default_product_rules(monkeypatch, fresh_blas_scan):
    def broken():
        raise OSError("cannot read the BLAS")

    monkeypatch.setattr(_blas.threadpoolctl, "ThreadpoolController", broken)
    assert _blas._blas_libraries() == ()
    assert _blas.avx512_kernels() is False


def test_owner_limits_and_restores_also_on_error():
    library = FakeLibrary(4)
    limit = _blas.OneThreadLimit(lambda: (library,))
    with limit.hold():
        assert library.threads == 1
    assert library.threads == 4
    with pytest.raises(ValueError, match="inside"):
        with limit.hold():
            raise ValueError("inside")
    assert library.threads == 4


def test_nested_holds_restore_once():
    library = FakeLibrary(3)
    limit = _blas.OneThreadLimit(lambda: (library,))
    with limit.hold():
        with limit.hold():
            assert library.threads == 1
        assert library.threads == 1
    assert library.threads == 3
    assert library.calls == [1, 3]


def test_the_owner_restores_when_it_leaves_before_another_thread():
    """A second thread inside the limit neither sets nor restores it; the
    owner restores it when it leaves, although the other is still inside
    (a restore from another thread could be ignored by OpenBLAS)."""
    library = FakeLibrary(2)
    limit = _blas.OneThreadLimit(lambda: (library,))
    inside, leave = threading.Event(), threading.Event()
    seen = []

    def other():
        with limit.hold():
            inside.set()
            leave.wait(timeout=30)
            seen.append(library.threads)

    with limit.hold():
        worker = threading.Thread(target=other)
        worker.start()
        assert inside.wait(timeout=30)
        assert library.threads == 1
    assert library.threads == 2
    leave.set()
    worker.join(timeout=30)
    assert seen == [2]
    assert library.calls == [1, 2]


def test_a_library_that_cannot_say_is_left_alone():
    silent, loud = FakeLibrary(readable=False), FakeLibrary(5)
    limit = _blas.OneThreadLimit(lambda: (silent, loud))
    with limit.hold():
        assert loud.threads == 1
    assert silent.calls == []
    assert loud.threads == 5


def test_no_libraries_no_limit():
    limit = _blas.OneThreadLimit(lambda: ())
    with limit.hold():
        pass
    # A later owner with libraries still limits: nothing was held.
    library = FakeLibrary(2)
    limit._libraries = lambda: (library,)
    with limit.hold():
        assert library.threads == 1


def _blas_limits():
    return sorted(
        (info["filepath"], info["num_threads"])
        for info in threadpool_info()
        if info["user_api"] == "blas"
    )


def test_scipy_blas_restored_when_a_fit_in_another_thread_ends_last():
    """The real libraries: the main thread's limit, overlapped by another
    thread that leaves last, is restored (it stayed at one thread when the
    last thread to leave restored it: OpenBLAS ignored that thread)."""
    if not _blas.scipy_only_blas_controllers():
        pytest.skip("numpy and scipy share one BLAS here")
    before = _blas_limits()
    inside, leave = threading.Event(), threading.Event()

    def other():
        with _blas.single_threaded_scipy_blas():
            inside.set()
            leave.wait(timeout=30)

    with _blas.single_threaded_scipy_blas():
        worker = threading.Thread(target=other)
        worker.start()
        assert inside.wait(timeout=30)
    leave.set()
    worker.join(timeout=30)
    assert _blas_limits() == before
