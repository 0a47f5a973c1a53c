"""Synthetic music and image data sets with exclusive or overlapping labels.

Four small generators, two pairs over the same features, that show the one
question deciding between the two estimators of this library: does each
sample have exactly one label, or can labels overlap?

=============================  ===========  =====================================
generator                      labels       model
=============================  ===========  =====================================
:func:`make_music_genres`      exclusive    :class:`~sksoftmax.SoftmaxRegression`
:func:`make_music_tags`        overlapping  :class:`~sksoftmax.OneVsRestLogistic`
:func:`make_scenes`            exclusive    :class:`~sksoftmax.SoftmaxRegression`
:func:`make_scene_attributes`  overlapping  :class:`~sksoftmax.OneVsRestLogistic`
=============================  ===========  =====================================

Each data set comes from a small latent model, written out in its ``DESCR``:
a few hidden factors (energy, acousticness, ... for songs; openness,
naturalness, ... for photos) are drawn per sample and mapped to named
features by a fixed loading table plus noise. For an exclusive set, the one
class of a sample sets the mean of its factors; for an overlapping set, each
label present adds its own shift ("signature") to the factors, independently
of the other labels.
"""

import textwrap
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from sklearn.utils import Bunch, check_random_state

__all__ = [
    "make_music_genres",
    "make_music_tags",
    "make_scene_attributes",
    "make_scenes",
]


@dataclass(frozen=True)
class _Feature:
    """One observed feature: ``transform(centre, spread, loadings @ z + noise)``.

    ``transform`` is "linear" (``centre + spread * s``), "log" for positive
    quantities (``centre * exp(spread * s)``) or "logit" for fractions in
    (0, 1) (``expit(logit(centre) + spread * s)``); ``centre`` is the value at
    ``s = 0``, so the median of a feature when the factors are centred.
    """

    name: str
    transform: str
    centre: float
    spread: float
    loadings: dict
    noise: float


# -- music -------------------------------------------------------------------

_MUSIC_FACTORS = (
    "energy",
    "acousticness",
    "brightness",
    "complexity",
    "voice",
    "groove",
)

_MUSIC_FEATURES = (
    _Feature("tempo_bpm", "linear", 118.0, 14.0, {"energy": 0.7, "groove": 0.5}, 0.7),
    _Feature(
        "loudness_db", "linear", -11.0, 3.0, {"energy": 0.9, "acousticness": -0.4}, 0.5
    ),
    _Feature(
        "dynamic_range_db",
        "linear",
        9.0,
        2.5,
        {"energy": -0.5, "acousticness": 0.5, "complexity": 0.3},
        0.7,
    ),
    _Feature(
        "spectral_centroid_hz",
        "log",
        2000.0,
        0.25,
        {"brightness": 0.9, "acousticness": -0.3, "voice": 0.2},
        0.5,
    ),
    _Feature(
        "spectral_bandwidth_hz",
        "log",
        2300.0,
        0.2,
        {"brightness": 0.6, "energy": 0.3, "complexity": 0.3},
        0.7,
    ),
    _Feature(
        "spectral_rolloff_hz",
        "log",
        4200.0,
        0.25,
        {"brightness": 0.8, "acousticness": -0.4},
        0.6,
    ),
    _Feature(
        "spectral_flatness_db",
        "linear",
        -22.0,
        4.0,
        {"acousticness": -0.7, "energy": 0.4},
        0.7,
    ),
    _Feature(
        "zero_crossing_rate",
        "logit",
        0.07,
        0.3,
        {"brightness": 0.6, "acousticness": -0.3, "voice": 0.2},
        0.7,
    ),
    _Feature(
        "onset_rate_hz",
        "log",
        3.0,
        0.3,
        {"energy": 0.5, "complexity": 0.4, "groove": 0.4},
        0.7,
    ),
    _Feature("beat_strength", "logit", 0.4, 0.5, {"groove": 0.9, "energy": 0.3}, 0.6),
    _Feature(
        "harmonic_to_noise_db",
        "linear",
        12.0,
        4.0,
        {"voice": 0.6, "acousticness": 0.5},
        0.7,
    ),
    _Feature(
        "chroma_entropy",
        "linear",
        2.8,
        0.2,
        {"complexity": 0.8, "acousticness": 0.2},
        0.7,
    ),
    _Feature(
        "mfcc_1_mean", "linear", -200.0, 60.0, {"energy": 0.6, "brightness": 0.3}, 0.6
    ),
    _Feature(
        "mfcc_2_mean",
        "linear",
        100.0,
        25.0,
        {"brightness": -0.7, "acousticness": 0.3},
        0.7,
    ),
    _Feature(
        "mfcc_3_mean", "linear", 10.0, 15.0, {"voice": 0.5, "complexity": -0.3}, 0.8
    ),
    _Feature(
        "mfcc_4_mean",
        "linear",
        15.0,
        12.0,
        {"acousticness": 0.4, "voice": -0.3, "groove": 0.2},
        0.9,
    ),
    _Feature(
        "mfcc_1_std",
        "log",
        40.0,
        0.25,
        {"acousticness": 0.3, "complexity": 0.3, "energy": -0.3},
        0.8,
    ),
    _Feature("mfcc_2_std", "log", 25.0, 0.25, {"voice": 0.5, "complexity": 0.2}, 0.8),
    _Feature(
        "duration_s", "log", 220.0, 0.25, {"complexity": 0.4, "energy": -0.2}, 1.0
    ),
)

_GENRES = ("classical", "country", "rock", "jazz")
# Shares of the four genres among the songs that have one.
_GENRE_SHARES = (0.2, 0.25, 0.35, 0.2)
# Mean of the factors per genre, in the order of _MUSIC_FACTORS.
_GENRE_MEANS = (
    (-1.9, 2.2, -0.6, 1.5, -1.8, -1.8),  # classical
    (0.0, 0.9, 0.5, -1.4, 1.4, 0.5),  # country
    (1.9, -1.8, 1.2, -0.6, 0.8, 0.9),  # rock
    (-0.5, 0.6, -0.8, 1.9, -0.3, 0.8),  # jazz
)
_GENRE_SPREAD = 1.0
# Songs of none of the four genres scatter around the centre of the factors.
_OTHER_SPREAD = 1.5

_TAGS = ("vocal", "dance", "soundtrack", "pop")
_TAG_RATES = (0.5, 0.3, 0.15, 0.35)
# Shift of the factors that each tag adds, in the order of _MUSIC_FACTORS.
_TAG_SIGNATURES = (
    (0.0, 0.0, 0.3, 0.0, 2.2, 0.0),  # vocal
    (0.9, 0.0, 0.0, -0.4, 0.0, 2.0),  # dance
    (-0.6, 1.3, 0.0, 1.3, -1.0, 0.0),  # soundtrack
    (0.0, 0.0, 1.0, -1.2, 0.6, 0.6),  # pop
)
_TAG_SPREAD = 1.0

# -- scenes ------------------------------------------------------------------

_SCENE_FACTORS = (
    "openness",
    "naturalness",
    "structure",
    "illumination",
    "warmth",
    "colourfulness",
    "people",
)

_SCENE_FEATURES = (
    _Feature(
        "brightness_mean",
        "linear",
        110.0,
        25.0,
        {"illumination": 0.9, "openness": 0.3},
        0.5,
    ),
    _Feature(
        "brightness_std",
        "log",
        50.0,
        0.2,
        {"structure": 0.4, "illumination": 0.3, "naturalness": 0.2},
        0.7,
    ),
    _Feature(
        "saturation_mean",
        "logit",
        0.35,
        0.4,
        {"colourfulness": 0.9, "naturalness": 0.3},
        0.5,
    ),
    _Feature(
        "red_mean", "linear", 120.0, 20.0, {"warmth": 0.7, "illumination": 0.6}, 0.6
    ),
    _Feature(
        "green_mean",
        "linear",
        115.0,
        20.0,
        {"illumination": 0.7, "naturalness": 0.4},
        0.6,
    ),
    _Feature(
        "blue_mean",
        "linear",
        110.0,
        20.0,
        {"illumination": 0.6, "warmth": -0.6, "openness": 0.3},
        0.6,
    ),
    _Feature(
        "green_fraction",
        "logit",
        0.12,
        0.6,
        {"naturalness": 0.9, "colourfulness": 0.3},
        0.6,
    ),
    _Feature(
        "colour_temperature_k",
        "log",
        5500.0,
        0.15,
        {"warmth": -0.9, "openness": 0.2},
        0.6,
    ),
    _Feature(
        "edge_density",
        "logit",
        0.08,
        0.3,
        {"structure": 0.6, "naturalness": 0.4, "people": 0.3},
        0.6,
    ),
    _Feature(
        "straight_line_fraction",
        "logit",
        0.3,
        0.4,
        {"structure": 0.9, "naturalness": -0.3},
        0.6,
    ),
    _Feature(
        "vertical_edge_ratio",
        "logit",
        0.4,
        0.3,
        {"structure": 0.7, "openness": -0.2},
        0.8,
    ),
    _Feature(
        "sky_fraction", "logit", 0.15, 1.0, {"openness": 0.9, "structure": -0.2}, 0.5
    ),
    _Feature(
        "texture_entropy",
        "linear",
        6.5,
        0.6,
        {"naturalness": 0.6, "structure": 0.2, "people": 0.2},
        0.7,
    ),
    _Feature(
        "skin_tone_fraction", "logit", 0.03, 0.6, {"people": 0.9, "warmth": 0.2}, 0.6
    ),
    _Feature("face_score", "linear", 0.0, 1.0, {"people": 0.8}, 0.9),
)

_SCENES = ("indoor", "outdoor_urban", "outdoor_wilderness")
_SCENE_SHARES = (0.4, 0.3, 0.3)
# Mean of the factors per scene, in the order of _SCENE_FACTORS.
_SCENE_MEANS = (
    (-1.6, -0.8, 0.4, -0.9, 1.0, 0.0, 0.3),  # indoor
    (0.0, -0.3, 0.8, 0.0, 0.1, -0.1, 0.4),  # outdoor_urban
    (1.6, 1.4, -1.0, 0.8, -0.7, 0.3, -0.6),  # outdoor_wilderness
)
_SCENE_SPREAD = 1.0

_ATTRIBUTES = ("indoor", "black_and_white", "contains_people")
_ATTRIBUTE_RATES = (0.45, 0.2, 0.5)
# Shift of the factors that each attribute adds, in the order of _SCENE_FACTORS.
_ATTRIBUTE_SIGNATURES = (
    (-2.0, -0.6, 0.4, -0.8, 1.0, 0.0, 0.0),  # indoor
    (0.0, 0.0, 0.0, 0.0, 0.0, -2.4, 0.0),  # black_and_white
    (0.0, 0.0, 0.3, 0.0, 0.0, 0.0, 2.0),  # contains_people
)
_ATTRIBUTE_SPREAD = 1.0


# -- validation and shared machinery -------------------------------------------


def _check_n_samples(n_samples):
    if isinstance(n_samples, bool) or not isinstance(n_samples, Integral):
        raise TypeError(
            f"n_samples must be an integer; got {n_samples!r} of type "
            f"{type(n_samples).__name__}."
        )
    if n_samples <= 0:
        raise ValueError(f"n_samples must be positive; got {n_samples}.")
    return int(n_samples)


def _check_bool(value, name):
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def _check_fraction(value, name):
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number; got {value!r}.")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1); got {value}.")
    return float(value)


def _check_random_state(random_state):
    try:
        return check_random_state(random_state)
    except ValueError as exc:
        raise ValueError(f"random_state: {exc}") from exc


def _check_common(n_samples, random_state, as_frame, return_X_y):
    """Validate the arguments every generator shares."""
    return (
        _check_n_samples(n_samples),
        _check_random_state(random_state),
        _check_bool(as_frame, "as_frame"),
        _check_bool(return_X_y, "return_X_y"),
    )


def _exact_counts(n_samples, shares):
    """Split ``n_samples`` by ``shares`` (largest remainder), summing exactly."""
    quotas = n_samples * np.asarray(shares, dtype=float) / np.sum(shares)
    counts = np.floor(quotas).astype(int)
    short = n_samples - counts.sum()
    counts[np.argsort(counts - quotas, kind="stable")[:short]] += 1
    return counts


def _shuffled_classes(n_samples, shares, rng):
    """Class codes with exact counts per class, in random order."""
    counts = _exact_counts(n_samples, shares)
    return rng.permutation(np.repeat(np.arange(len(shares)), counts))


def _loading_matrix(features, factors):
    return np.array([[f.loadings.get(name, 0.0) for name in factors] for f in features])


def _observe(z, features, factors, rng):
    """Map latent factors ``z`` (n_samples, n_factors) to the named features."""
    loadings = _loading_matrix(features, factors)
    noise = np.array([f.noise for f in features])
    s = z @ loadings.T + noise * rng.standard_normal((z.shape[0], len(features)))
    X = np.empty_like(s)
    for j, f in enumerate(features):
        if f.transform == "linear":
            X[:, j] = f.centre + f.spread * s[:, j]
        elif f.transform == "log":
            X[:, j] = f.centre * np.exp(f.spread * s[:, j])
        else:
            X[:, j] = expit(logit(f.centre) + f.spread * s[:, j])
    return X


def _package(
    X, target, *, features, target_names, target_label, descr, as_frame, return_X_y
):
    """Return the arrays as scikit-learn's loaders do.

    ``target_label`` names the Series of a 1-D target when ``as_frame``.
    """
    feature_names = [f.name for f in features]
    frame = None
    if as_frame:
        X = pd.DataFrame(X, columns=feature_names)
        if target.ndim == 1:
            target = pd.Series(target, name=target_label)
        else:
            target = pd.DataFrame(target, columns=list(target_names))
        frame = pd.concat([X, target], axis=1)
    if return_X_y:
        return X, target
    return Bunch(
        data=X,
        target=target,
        frame=frame,
        feature_names=feature_names,
        target_names=np.asarray(target_names),
        DESCR=descr,
    )


def _describe_model(title, paragraphs, caption, labels, label_rows, features, factors):
    """The ``DESCR`` text: the latent model, its parameters and the features.

    ``paragraphs`` describe the data and the model; ``caption`` introduces the
    table of ``label_rows`` (one row of factor values per label).
    """
    lines = [title, "=" * len(title), ""]
    for paragraph in paragraphs:
        lines += [textwrap.fill(paragraph, width=79), ""]
    lines.append(textwrap.fill(caption, width=79))
    width = max(len(name) for name in labels) + 2
    lines += ["", " " * width + "".join(f"{name:>14}" for name in factors)]
    for name, row in zip(labels, label_rows, strict=True):
        lines.append(f"{name:<{width}}" + "".join(f"{v:>14.2f}" for v in row))
    lines += ["", "Features", "-" * 8, "", textwrap.fill(_FEATURE_MODEL, width=79)]
    lines += [
        "",
        f"{'feature':<24}{'transform':<10}{'centre':>8}{'spread':>8}{'noise':>7}"
        "  loadings",
    ]
    for f in features:
        loads = ", ".join(f"{k} {v:+.1f}" for k, v in f.loadings.items())
        lines.append(
            f"{f.name:<24}{f.transform:<10}{f.centre:>8g}{f.spread:>8g}"
            f"{f.noise:>7g}  {loads}"
        )
    return "\n".join(lines) + "\n"


_FEATURE_MODEL = (
    "Each feature is a transform of its score s = sum_f loading_f*z_f + noise*e, "
    "with e ~ N(0, 1) drawn per sample and feature: 'linear' gives "
    "centre + spread*s, 'log' gives centre*exp(spread*s) for positive "
    "quantities, and 'logit' gives expit(logit(centre) + spread*s) for "
    "fractions in (0, 1)."
)


def _exclusive_sample(n_samples, shares, means, spreads, factors, features, rng):
    """Classes with exact shares; factors ``N(mean of the class, spread^2 I)``.

    ``means`` has one row and ``spreads`` one entry per class.
    """
    y = _shuffled_classes(n_samples, shares, rng)
    noise = rng.standard_normal((n_samples, len(factors)))
    z = np.asarray(means, dtype=float)[y] + np.asarray(spreads)[y, None] * noise
    return _observe(z, features, factors, rng), y.astype(np.int64)


def _overlapping_sample(n_samples, rates, signatures, spread, factors, features, rng):
    """Independent labels; each present label adds its signature to the factors."""
    Y = (rng.random_sample((n_samples, len(rates))) < np.asarray(rates)).astype(
        np.int64
    )
    z = spread * rng.standard_normal((n_samples, len(factors)))
    z += Y @ np.asarray(signatures, dtype=float)
    return _observe(z, features, factors, rng), Y


# -- public generators ---------------------------------------------------------


def make_music_genres(
    n_samples=1000,
    *,
    other_fraction=0.15,
    random_state=None,
    as_frame=False,
    return_X_y=False,
):
    """Generate songs with exactly one genre each (mutually exclusive labels).

    Each song is classical, country, rock or jazz, or, for a share
    ``other_fraction`` of the songs, "other" (none of the four). The features
    are named audio descriptors (tempo, loudness, spectral centroid, MFCC
    statistics, ...). One label per song: the case for
    :class:`~sksoftmax.SoftmaxRegression`.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of songs; positive.
    other_fraction : float, default=0.15
        Share of songs in none of the four genres, labelled "other"; in
        [0, 1). With 0 there is no "other" class.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame, ``target`` as a Series named
        "genre" and ``frame`` with both.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data`` (n_samples, 19) float64 features, ``target``
        (n_samples,) int64 class codes indexing ``target_names``,
        ``feature_names``, ``target_names`` (classical, country, rock, jazz
        and, if ``other_fraction > 0``, other), ``frame`` (None unless
        ``as_frame``) and ``DESCR``, which writes the latent model out.
    (data, target) : tuple
        If ``return_X_y`` is True.

    See Also
    --------
    make_music_tags : The same features with overlapping tags.

    Notes
    -----
    The latent model: six hidden factors ``z`` (energy, acousticness,
    brightness, complexity, voice, groove) per song. The genre is drawn
    first, with exact counts in the shares classical 0.2, country 0.25, rock
    0.35, jazz 0.2 of the songs that have a genre; then
    ``z ~ N(mean of the genre, I)``, and for "other" songs
    ``z ~ N(0, 1.5^2 I)``, a diffuse cloud overlapping every genre. Each
    feature is a fixed linear combination of ``z`` plus its own Gaussian
    noise, passed through a linear, log or logit transform to give it
    realistic units. Because the class of a song moves all factors at once
    and the four genres share one covariance, a softmax over the classes is
    close to the Bayes-optimal model; the diffuse "other" class keeps the
    task from being easy. ``DESCR`` lists every number.

    Examples
    --------
    >>> from sksoftmax.datasets import make_music_genres
    >>> songs = make_music_genres(n_samples=200, random_state=0)
    >>> songs.data.shape
    (200, 19)
    >>> songs.target_names.tolist()
    ['classical', 'country', 'rock', 'jazz', 'other']
    >>> songs.feature_names[:3]
    ['tempo_bpm', 'loudness_db', 'dynamic_range_db']
    >>> X, y = make_music_genres(100, other_fraction=0, random_state=0,
    ...                          return_X_y=True)
    >>> sorted(set(y.tolist()))
    [0, 1, 2, 3]
    """
    n_samples, rng, as_frame, return_X_y = _check_common(
        n_samples, random_state, as_frame, return_X_y
    )
    other_fraction = _check_fraction(other_fraction, "other_fraction")

    names = list(_GENRES)
    shares = [(1 - other_fraction) * share for share in _GENRE_SHARES]
    means = [list(row) for row in _GENRE_MEANS]
    spreads = [_GENRE_SPREAD] * len(_GENRES)
    if other_fraction > 0:
        names.append("other")
        shares.append(other_fraction)
        means.append([0.0] * len(_MUSIC_FACTORS))
        spreads.append(_OTHER_SPREAD)
    X, y = _exclusive_sample(
        n_samples, shares, means, spreads, _MUSIC_FACTORS, _MUSIC_FEATURES, rng
    )

    shares_text = ", ".join(
        f"{g} {r:g}" for g, r in zip(_GENRES, _GENRE_SHARES, strict=True)
    )
    descr = _describe_model(
        "Music genres (synthetic, mutually exclusive)",
        [
            f"{n_samples} songs, {len(_MUSIC_FEATURES)} audio descriptors and one "
            f"of {len(names)} mutually exclusive classes per song: "
            f"{', '.join(names)}. Generated by "
            "sksoftmax.datasets.make_music_genres.",
            f"Latent model. A share {other_fraction:g} of the songs is 'other' "
            "(none of the four genres); the rest have one genre each, with exact "
            f"counts in the shares {shares_text}. Six hidden factors per song: "
            f"z ~ N(mean of its genre, {_GENRE_SPREAD:g}^2 I), and for 'other' "
            f"songs z ~ N(0, {_OTHER_SPREAD:g}^2 I), a diffuse cloud that "
            "overlaps every genre.",
        ],
        "Mean of the factors per class:",
        names,
        means,
        _MUSIC_FEATURES,
        _MUSIC_FACTORS,
    )
    return _package(
        X,
        y,
        features=_MUSIC_FEATURES,
        target_names=names,
        target_label="genre",
        descr=descr,
        as_frame=as_frame,
        return_X_y=return_X_y,
    )


def make_music_tags(
    n_samples=1000, *, random_state=None, as_frame=False, return_X_y=False
):
    """Generate songs with overlapping tags vocal, dance, soundtrack and pop.

    A song carries any subset of the four tags: about 40% carry two or more
    and about 20% none. The features are the same audio descriptors as in
    :func:`make_music_genres`. Labels that overlap: the case for
    :class:`~sksoftmax.OneVsRestLogistic`.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of songs; positive.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame, ``target`` as a DataFrame with
        one 0/1 column per tag and ``frame`` with both.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data`` (n_samples, 19) float64 features, ``target``
        (n_samples, 4) int64 indicator matrix (column ``k`` is 1 when the
        song has tag ``target_names[k]``), ``feature_names``,
        ``target_names``, ``frame`` (None unless ``as_frame``) and
        ``DESCR``, which writes the latent model out.
    (data, target) : tuple
        If ``return_X_y`` is True.

    See Also
    --------
    make_music_genres : The same features with exclusive genres.

    Notes
    -----
    The latent model: each tag is present independently with probability
    vocal 0.5, dance 0.3, soundtrack 0.15, pop 0.35. The six hidden factors
    of :func:`make_music_genres` are ``z = e + sum_k Y_k d_k`` with
    ``e ~ N(0, I)``: every tag ``k`` present adds its own signature ``d_k``
    (vocal raises voice, dance raises groove and energy, soundtrack raises
    acousticness and complexity, pop raises brightness and lowers
    complexity), whatever the other tags are. The features are computed from
    ``z`` as in :func:`make_music_genres`. ``DESCR`` lists every number.

    Examples
    --------
    >>> from sksoftmax.datasets import make_music_tags
    >>> songs = make_music_tags(n_samples=200, random_state=0)
    >>> songs.target.shape
    (200, 4)
    >>> songs.target_names.tolist()
    ['vocal', 'dance', 'soundtrack', 'pop']
    >>> bool((songs.target.sum(axis=1) >= 2).any())
    True
    """
    n_samples, rng, as_frame, return_X_y = _check_common(
        n_samples, random_state, as_frame, return_X_y
    )
    X, Y = _overlapping_sample(
        n_samples,
        _TAG_RATES,
        _TAG_SIGNATURES,
        _TAG_SPREAD,
        _MUSIC_FACTORS,
        _MUSIC_FEATURES,
        rng,
    )
    rates = ", ".join(f"{t} {r:g}" for t, r in zip(_TAGS, _TAG_RATES, strict=True))
    descr = _describe_model(
        "Music tags (synthetic, overlapping)",
        [
            f"{n_samples} songs, {len(_MUSIC_FEATURES)} audio descriptors and a "
            f"0/1 indicator for each of {len(_TAGS)} tags that may overlap: "
            f"{', '.join(_TAGS)}. Generated by sksoftmax.datasets.make_music_tags.",
            "Latent model. Each tag is present independently of the others, "
            f"with probability {rates}. Six hidden factors per song: "
            f"z = e + sum_k Y_k d_k with e ~ N(0, {_TAG_SPREAD:g}^2 I), where "
            "Y_k is 1 if the song has tag k: each tag present adds its own "
            "signature d_k, whatever the other tags are.",
        ],
        "Signature d_k of each tag:",
        _TAGS,
        _TAG_SIGNATURES,
        _MUSIC_FEATURES,
        _MUSIC_FACTORS,
    )
    return _package(
        X,
        Y,
        features=_MUSIC_FEATURES,
        target_names=_TAGS,
        target_label=None,
        descr=descr,
        as_frame=as_frame,
        return_X_y=return_X_y,
    )


def make_scenes(n_samples=1000, *, random_state=None, as_frame=False, return_X_y=False):
    """Generate photos with exactly one scene type each (mutually exclusive).

    Each photo is indoor, outdoor_urban or outdoor_wilderness. The features
    are named image statistics (brightness, colour means, saturation, edge
    density, sky fraction, ...). One label per photo: the case for
    :class:`~sksoftmax.SoftmaxRegression`.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of photos; positive.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame, ``target`` as a Series named
        "scene" and ``frame`` with both.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data`` (n_samples, 15) float64 features, ``target``
        (n_samples,) int64 class codes indexing ``target_names``,
        ``feature_names``, ``target_names``, ``frame`` (None unless
        ``as_frame``) and ``DESCR``, which writes the latent model out.
    (data, target) : tuple
        If ``return_X_y`` is True.

    See Also
    --------
    make_scene_attributes : The same features with overlapping attributes.

    Notes
    -----
    The latent model: seven hidden factors ``z`` (openness, naturalness,
    structure, illumination, warmth, colourfulness, people) per photo. The
    scene is drawn first, with exact counts in the shares indoor 0.4,
    outdoor_urban 0.3, outdoor_wilderness 0.3; then
    ``z ~ N(mean of the scene, I)``. Each feature is a fixed linear
    combination of ``z`` plus its own Gaussian noise, passed through a
    linear, log or logit transform. ``DESCR`` lists every number.

    Examples
    --------
    >>> from sksoftmax.datasets import make_scenes
    >>> photos = make_scenes(n_samples=150, random_state=0)
    >>> photos.data.shape
    (150, 15)
    >>> photos.target_names.tolist()
    ['indoor', 'outdoor_urban', 'outdoor_wilderness']
    >>> photos = make_scenes(n_samples=150, random_state=0, as_frame=True)
    >>> photos.frame.columns[-1]
    'scene'
    """
    n_samples, rng, as_frame, return_X_y = _check_common(
        n_samples, random_state, as_frame, return_X_y
    )
    X, y = _exclusive_sample(
        n_samples,
        _SCENE_SHARES,
        _SCENE_MEANS,
        [_SCENE_SPREAD] * len(_SCENES),
        _SCENE_FACTORS,
        _SCENE_FEATURES,
        rng,
    )
    shares = ", ".join(
        f"{c} {r:g}" for c, r in zip(_SCENES, _SCENE_SHARES, strict=True)
    )
    descr = _describe_model(
        "Scenes (synthetic, mutually exclusive)",
        [
            f"{n_samples} photos, {len(_SCENE_FEATURES)} image statistics and one "
            f"of {len(_SCENES)} mutually exclusive scene types per photo: "
            f"{', '.join(_SCENES)}. Generated by sksoftmax.datasets.make_scenes.",
            "Latent model. One scene per photo, with exact counts in the shares "
            f"{shares}. Seven hidden factors per photo: "
            f"z ~ N(mean of its scene, {_SCENE_SPREAD:g}^2 I).",
        ],
        "Mean of the factors per scene:",
        _SCENES,
        _SCENE_MEANS,
        _SCENE_FEATURES,
        _SCENE_FACTORS,
    )
    return _package(
        X,
        y,
        features=_SCENE_FEATURES,
        target_names=_SCENES,
        target_label="scene",
        descr=descr,
        as_frame=as_frame,
        return_X_y=return_X_y,
    )


def make_scene_attributes(
    n_samples=1000, *, random_state=None, as_frame=False, return_X_y=False
):
    """Generate photos with overlapping attributes.

    A photo can be indoor, black_and_white and contain people, in any
    combination: about a third carry two or more attributes and about a
    fifth none. The features are the image statistics of
    :func:`make_scenes`. Labels that overlap: the case for
    :class:`~sksoftmax.OneVsRestLogistic`.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of photos; positive.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame, ``target`` as a DataFrame with
        one 0/1 column per attribute and ``frame`` with both.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data`` (n_samples, 15) float64 features, ``target``
        (n_samples, 3) int64 indicator matrix, ``feature_names``,
        ``target_names``, ``frame`` (None unless ``as_frame``) and
        ``DESCR``, which writes the latent model out.
    (data, target) : tuple
        If ``return_X_y`` is True.

    See Also
    --------
    make_scenes : The same features with exclusive scene types.

    Notes
    -----
    The latent model: each attribute is present independently with
    probability indoor 0.45, black_and_white 0.2, contains_people 0.5. The
    seven hidden factors of :func:`make_scenes` are
    ``z = e + sum_k Y_k d_k`` with ``e ~ N(0, I)``: every attribute present
    adds its own signature ``d_k`` (indoor lowers openness and illumination
    and warms the light, black_and_white removes colourfulness,
    contains_people raises the people factor), whatever the other
    attributes are. ``DESCR`` lists every number.

    Examples
    --------
    >>> from sksoftmax.datasets import make_scene_attributes
    >>> X, Y = make_scene_attributes(n_samples=150, random_state=0,
    ...                              return_X_y=True)
    >>> X.shape, Y.shape
    ((150, 15), (150, 3))
    >>> sorted(set(Y.ravel().tolist()))
    [0, 1]
    """
    n_samples, rng, as_frame, return_X_y = _check_common(
        n_samples, random_state, as_frame, return_X_y
    )
    X, Y = _overlapping_sample(
        n_samples,
        _ATTRIBUTE_RATES,
        _ATTRIBUTE_SIGNATURES,
        _ATTRIBUTE_SPREAD,
        _SCENE_FACTORS,
        _SCENE_FEATURES,
        rng,
    )
    rates = ", ".join(
        f"{a} {r:g}" for a, r in zip(_ATTRIBUTES, _ATTRIBUTE_RATES, strict=True)
    )
    descr = _describe_model(
        "Scene attributes (synthetic, overlapping)",
        [
            f"{n_samples} photos, {len(_SCENE_FEATURES)} image statistics and a "
            f"0/1 indicator for each of {len(_ATTRIBUTES)} attributes that may "
            f"overlap: {', '.join(_ATTRIBUTES)}. Generated by "
            "sksoftmax.datasets.make_scene_attributes.",
            "Latent model. Each attribute is present independently of the "
            f"others, with probability {rates}. Seven hidden factors per photo: "
            f"z = e + sum_k Y_k d_k with e ~ N(0, {_ATTRIBUTE_SPREAD:g}^2 I), "
            "where Y_k is 1 if the photo has attribute k: each attribute present "
            "adds its own signature d_k, whatever the other attributes are.",
        ],
        "Signature d_k of each attribute:",
        _ATTRIBUTES,
        _ATTRIBUTE_SIGNATURES,
        _SCENE_FEATURES,
        _SCENE_FACTORS,
    )
    return _package(
        X,
        Y,
        features=_SCENE_FEATURES,
        target_names=_ATTRIBUTES,
        target_label=None,
        descr=descr,
        as_frame=as_frame,
        return_X_y=return_X_y,
    )
