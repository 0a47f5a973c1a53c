"""``import sksoftmax`` does not need pandas; only ``as_frame`` and object labels do."""

import subprocess
import sys
import textwrap

# An import hook that refuses pandas, as if it were not installed. scikit-learn
# treats pandas as optional: it imports it eagerly when it is there (so pandas
# in sys.modules after "import sksoftmax" says nothing about sksoftmax) and
# does without it otherwise.
WITHOUT_PANDAS = """
import sys


class NoPandas:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "pandas":
            raise ImportError("pandas is blocked by the test")


sys.meta_path.insert(0, NoPandas())
"""


def run(code, without_pandas=False):
    code = textwrap.dedent(code)
    if without_pandas:
        code = WITHOUT_PANDAS + code
    return subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_package_imports_and_fits_without_pandas():
    result = run(
        """
        import numpy as np
        import sksoftmax
        from sksoftmax import OneVsRestLogistic, SoftmaxRegression, inspect_labels
        from sksoftmax.datasets import make_music_tags, make_scenes
        from sksoftmax.special import softmax

        X, y = make_scenes(60, random_state=0, return_X_y=True)
        X_tags, Y = make_music_tags(60, random_state=0, return_X_y=True)
        assert SoftmaxRegression().fit(X, y).predict(X).shape == (60,)
        assert OneVsRestLogistic().fit(X_tags, Y).predict(X_tags).shape == Y.shape
        assert inspect_labels(y).recommendation == "softmax"
        assert inspect_labels(["a", "b"]).exclusive
        assert softmax(np.zeros(3)).sum() == 1.0
        print("pandas" in sys.modules)
        """,
        without_pandas=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False"]


def test_as_frame_is_where_pandas_is_needed():
    result = run(
        """
        from sksoftmax.datasets import make_scenes

        try:
            make_scenes(10, as_frame=True)
        except ImportError:
            print("ImportError")
        """,
        without_pandas=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ImportError"]


def test_as_frame_works_with_pandas():
    result = run(
        """
        import sys
        import sksoftmax.datasets

        bunch = sksoftmax.datasets.make_scenes(10, random_state=0, as_frame=True)
        print(type(bunch.frame).__module__.split(".")[0])
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["pandas"]
