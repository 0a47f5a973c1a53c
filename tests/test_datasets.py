"""The four synthetic data sets: format, determinism, validation and structure."""

import doctest

import numpy as np
import pandas as pd
import pytest
from scipy.special import logit
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxRegression, datasets
from sksoftmax.datasets import (
    make_music_genres,
    make_music_tags,
    make_scene_attributes,
    make_scenes,
)

# The ``generator`` fixture (conftest.py) runs a test on each of the four.
EXCLUSIVE = [make_music_genres, make_scenes]
OVERLAPPING = [make_music_tags, make_scene_attributes]

# The names the issue promises, and the latent-model table behind each set.
TARGET_NAMES = {
    make_music_genres: ["classical", "country", "rock", "jazz", "other"],
    make_music_tags: ["vocal", "dance", "soundtrack", "pop"],
    make_scenes: ["indoor", "outdoor_urban", "outdoor_wilderness"],
    make_scene_attributes: ["indoor", "black_and_white", "contains_people"],
}
FEATURES = {
    make_music_genres: datasets._MUSIC_FEATURES,
    make_music_tags: datasets._MUSIC_FEATURES,
    make_scenes: datasets._SCENE_FEATURES,
    make_scene_attributes: datasets._SCENE_FEATURES,
}
SOME_FEATURES = {
    make_music_genres: ["tempo_bpm", "loudness_db", "spectral_centroid_hz"],
    make_music_tags: ["tempo_bpm", "loudness_db", "mfcc_1_mean"],
    make_scenes: ["brightness_mean", "edge_density", "sky_fraction"],
    make_scene_attributes: ["saturation_mean", "red_mean", "sky_fraction"],
}


def ids(generator):
    return generator.__name__


@pytest.mark.parametrize("n_samples", [1, 7, 250])
def test_shapes_and_dtypes(generator, n_samples):
    bunch = generator(n_samples, random_state=0)
    n_features = len(FEATURES[generator])
    assert bunch.data.shape == (n_samples, n_features)
    assert bunch.data.dtype == np.float64
    assert np.isfinite(bunch.data).all()
    assert bunch.target.dtype == np.int64
    if generator in EXCLUSIVE:
        assert bunch.target.shape == (n_samples,)
    else:
        assert bunch.target.shape == (n_samples, len(TARGET_NAMES[generator]))
    assert bunch.frame is None
    assert isinstance(bunch.DESCR, str)


def test_names(generator):
    bunch = generator(20, random_state=0)
    assert isinstance(bunch.target_names, np.ndarray)
    assert bunch.target_names.tolist() == TARGET_NAMES[generator]
    assert bunch.feature_names == [f.name for f in FEATURES[generator]]
    assert len(set(bunch.feature_names)) == len(bunch.feature_names)
    assert all(name.isidentifier() for name in bunch.feature_names)
    assert set(SOME_FEATURES[generator]) <= set(bunch.feature_names)
    # Features and labels must not collide in the combined frame.
    assert not set(bunch.feature_names) & set(bunch.target_names)


def test_descr_writes_out_the_latent_model(generator):
    descr = generator(20, random_state=0).DESCR
    assert generator.__name__ in descr
    assert "Latent model" in descr
    for name in TARGET_NAMES[generator] + [f.name for f in FEATURES[generator]]:
        assert name in descr


def test_deterministic_for_a_seed(generator):
    first = generator(60, random_state=3)
    second = generator(60, random_state=3)
    np.testing.assert_array_equal(first.data, second.data)
    np.testing.assert_array_equal(first.target, second.target)
    other = generator(60, random_state=4)
    assert not np.array_equal(first.data, other.data)
    from_instance = generator(60, random_state=np.random.RandomState(3))
    np.testing.assert_array_equal(first.data, from_instance.data)


def test_as_frame(generator):
    arrays = generator(40, random_state=1)
    bunch = generator(40, random_state=1, as_frame=True)
    assert isinstance(bunch.data, pd.DataFrame)
    assert bunch.data.columns.tolist() == arrays.feature_names
    np.testing.assert_array_equal(bunch.data.to_numpy(), arrays.data)
    if generator in EXCLUSIVE:
        assert isinstance(bunch.target, pd.Series)
        assert bunch.target.name in {"genre", "scene"}
        target_columns = [bunch.target.name]
    else:
        assert isinstance(bunch.target, pd.DataFrame)
        assert bunch.target.columns.tolist() == TARGET_NAMES[generator]
        target_columns = TARGET_NAMES[generator]
    np.testing.assert_array_equal(bunch.target.to_numpy(), arrays.target)
    assert isinstance(bunch.frame, pd.DataFrame)
    assert bunch.frame.columns.tolist() == arrays.feature_names + target_columns
    assert bunch.frame.shape[0] == 40


@pytest.mark.parametrize("as_frame", [False, True])
def test_return_X_y(generator, as_frame):
    bunch = generator(30, random_state=2, as_frame=as_frame)
    X, y = generator(30, random_state=2, as_frame=as_frame, return_X_y=True)
    assert type(X) is type(bunch.data)
    assert type(y) is type(bunch.target)
    np.testing.assert_array_equal(np.asarray(X), np.asarray(bunch.data))
    np.testing.assert_array_equal(np.asarray(y), np.asarray(bunch.target))


def test_features_respect_their_units(generator):
    """Log features are positive, logit features are fractions in (0, 1)."""
    X = generator(3000, random_state=0).data
    for j, feature in enumerate(FEATURES[generator]):
        if feature.transform == "log":
            assert (X[:, j] > 0).all(), feature.name
        elif feature.transform == "logit":
            assert ((X[:, j] > 0) & (X[:, j] < 1)).all(), feature.name


@pytest.mark.parametrize("generator", EXCLUSIVE, ids=ids)
def test_exclusive_sets_have_one_class_per_sample(generator):
    bunch = generator(500, random_state=0)
    n_classes = len(bunch.target_names)
    assert set(np.unique(bunch.target)) == set(range(n_classes))
    # Written as an indicator matrix, every row has exactly one 1.
    indicator = bunch.target[:, None] == np.arange(n_classes)
    assert (indicator.sum(axis=1) == 1).all()


@pytest.mark.parametrize("other_fraction", [0.0, 0.1, 0.3, 0.6])
@pytest.mark.parametrize("n_samples", [200, 1001])
def test_music_genres_other_fraction(other_fraction, n_samples):
    bunch = make_music_genres(n_samples, other_fraction=other_fraction, random_state=0)
    names = bunch.target_names.tolist()
    if other_fraction == 0:
        assert "other" not in names
        assert bunch.target.max() == 3
    else:
        assert names[-1] == "other"
        share = np.mean(bunch.target == names.index("other"))
        # Exact counts: off by at most one sample from the requested share.
        assert abs(share - other_fraction) <= 1 / n_samples


@pytest.mark.parametrize("generator", OVERLAPPING, ids=ids)
@pytest.mark.parametrize("seed", [0, 1])
def test_overlapping_sets_overlap(generator, seed):
    Y = generator(2000, random_state=seed).target
    assert set(np.unique(Y)) == {0, 1}
    per_row = Y.sum(axis=1)
    assert 0.15 <= np.mean(per_row >= 2) <= 0.6
    assert 0.05 <= np.mean(per_row == 0) <= 0.4
    assert np.mean(per_row == 1) > 0.2
    rates = Y.mean(axis=0)
    assert ((rates > 0.05) & (rates < 0.95)).all()


@pytest.mark.parametrize("generator", OVERLAPPING, ids=ids)
def test_overlapping_labels_are_drawn_independently(generator):
    Y = generator(20000, random_state=0).target
    correlation = np.corrcoef(Y.T)
    off_diagonal = correlation[~np.eye(Y.shape[1], dtype=bool)]
    assert np.abs(off_diagonal).max() < 0.05


def latent_scores(X, features):
    """Undo each feature's transform: the scores are linear in the factors."""
    S = np.empty_like(X)
    for j, f in enumerate(features):
        if f.transform == "linear":
            S[:, j] = (X[:, j] - f.centre) / f.spread
        elif f.transform == "log":
            S[:, j] = np.log(X[:, j] / f.centre) / f.spread
        else:
            S[:, j] = (logit(X[:, j]) - logit(f.centre)) / f.spread
    return S


@pytest.mark.parametrize("generator", OVERLAPPING, ids=ids)
def test_each_label_adds_its_own_signature(generator):
    """The effect of a label on the features does not depend on other labels.

    On the feature scores (the features with their transform undone), the
    mean shift from label k is the same whether another label j is absent or
    present, and each label moves at least one score by a clear amount.
    """
    bunch = generator(40000, random_state=0)
    S = latent_scores(bunch.data, FEATURES[generator])
    S = (S - S.mean(axis=0)) / S.std(axis=0)
    Y = bunch.target.astype(bool)
    n_labels = Y.shape[1]
    for k in range(n_labels):
        effects = []
        for j in range(n_labels):
            if j == k:
                continue
            for present in (False, True):
                rows = Y[:, j] == present
                on = S[rows & Y[:, k]].mean(axis=0)
                off = S[rows & ~Y[:, k]].mean(axis=0)
                effects.append(on - off)
        effects = np.array(effects)
        assert np.abs(effects.mean(axis=0)).max() > 0.5
        assert np.ptp(effects, axis=0).max() < 0.15


@pytest.mark.parametrize("generator", EXCLUSIVE, ids=ids)
def test_exclusive_sets_are_separable_but_not_trivially(generator):
    X, y = generator(1000, random_state=0, return_X_y=True)
    model = make_pipeline(StandardScaler(), SoftmaxRegression())
    accuracy = cross_val_score(model, X, y, cv=3).mean()
    assert 0.7 <= accuracy <= 0.93


@pytest.mark.parametrize("n_samples", [0, -3])
def test_n_samples_must_be_positive(generator, n_samples):
    with pytest.raises(ValueError, match="n_samples"):
        generator(n_samples)


@pytest.mark.parametrize("n_samples", [10.0, 2.5, "10", None, True])
def test_n_samples_must_be_an_integer(generator, n_samples):
    with pytest.raises(TypeError, match="n_samples"):
        generator(n_samples)


def test_numpy_integer_n_samples(generator):
    assert generator(np.int64(5), random_state=0).data.shape[0] == 5


@pytest.mark.parametrize("value", [-0.1, 1.0, 1.5, np.nan])
def test_other_fraction_outside_range(value):
    with pytest.raises(ValueError, match="other_fraction"):
        make_music_genres(50, other_fraction=value)


@pytest.mark.parametrize("value", ["0.1", None, True])
def test_other_fraction_not_a_number(value):
    with pytest.raises(TypeError, match="other_fraction"):
        make_music_genres(50, other_fraction=value)


@pytest.mark.parametrize("name", ["as_frame", "return_X_y"])
@pytest.mark.parametrize("value", [1, "yes", None])
def test_flags_must_be_bool(generator, name, value):
    with pytest.raises(TypeError, match=name):
        generator(10, **{name: value})


def test_bad_random_state(generator):
    with pytest.raises(ValueError, match="random_state"):
        generator(10, random_state="seed")


def test_docstring_examples():
    result = doctest.testmod(datasets, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
