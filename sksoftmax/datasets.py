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
from scipy.special import expit, logit
from sklearn.utils import Bunch, check_random_state, check_scalar

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


# -- the four data sets, as data -------------------------------------------------


@dataclass(frozen=True)
class _Domain:
    """What the samples are: songs or photos, with their factors and features."""

    item: str  # one sample, singular: "song"
    factors: tuple
    features: tuple
    feature_noun: str  # what the features are, plural: "audio descriptors"
    factor_count: str  # len(factors) in words, capitalised: "Six"


@dataclass(frozen=True)
class _Spec:
    """One generator: its labels and how they move the domain's factors.

    For exclusive labels (``kind="exclusive"``), ``weights`` are the shares of
    the classes and ``label_rows`` the mean of the factors per class; an
    ``other_spread`` allows an extra "other" class centred at zero. For
    overlapping labels, ``weights`` are the independent rates of the labels
    and ``label_rows`` their signatures. ``model_text`` is the latent-model
    paragraph of ``DESCR`` for an exclusive set, formatted with ``shares``,
    ``spread``, ``other_fraction`` and ``other_spread``.
    """

    function: str
    title: str
    kind: str  # "exclusive" or "overlapping"
    domain: _Domain
    labels: tuple
    weights: tuple
    label_rows: tuple
    spread: float
    label_noun: str  # the labels in DESCR's first paragraph: "classes", "tags"
    caption: str
    target_label: str | None = None  # name of a 1-D target's Series
    model_text: str = ""
    other_spread: float | None = None


_MUSIC = _Domain("song", _MUSIC_FACTORS, _MUSIC_FEATURES, "audio descriptors", "Six")
_SCENE = _Domain("photo", _SCENE_FACTORS, _SCENE_FEATURES, "image statistics", "Seven")

_GENRES_SPEC = _Spec(
    function="make_music_genres",
    title="Music genres (synthetic, mutually exclusive)",
    kind="exclusive",
    domain=_MUSIC,
    labels=_GENRES,
    weights=_GENRE_SHARES,
    label_rows=_GENRE_MEANS,
    spread=_GENRE_SPREAD,
    label_noun="classes",
    caption="Mean of the factors per class:",
    target_label="genre",
    model_text=(
        "A share {other_fraction:g} of the songs is 'other' (none of the four "
        "genres); the rest have one genre each, with exact counts in the shares "
        "{shares}. Six hidden factors per song: z ~ N(mean of its genre, "
        "{spread:g}^2 I), and for 'other' songs z ~ N(0, {other_spread:g}^2 I), "
        "a diffuse cloud that overlaps every genre."
    ),
    other_spread=_OTHER_SPREAD,
)
_TAGS_SPEC = _Spec(
    function="make_music_tags",
    title="Music tags (synthetic, overlapping)",
    kind="overlapping",
    domain=_MUSIC,
    labels=_TAGS,
    weights=_TAG_RATES,
    label_rows=_TAG_SIGNATURES,
    spread=_TAG_SPREAD,
    label_noun="tags",
    caption="Signature d_k of each tag:",
)
_SCENES_SPEC = _Spec(
    function="make_scenes",
    title="Scenes (synthetic, mutually exclusive)",
    kind="exclusive",
    domain=_SCENE,
    labels=_SCENES,
    weights=_SCENE_SHARES,
    label_rows=_SCENE_MEANS,
    spread=_SCENE_SPREAD,
    label_noun="scene types",
    caption="Mean of the factors per scene:",
    target_label="scene",
    model_text=(
        "One scene per photo, with exact counts in the shares {shares}. Seven "
        "hidden factors per photo: z ~ N(mean of its scene, {spread:g}^2 I)."
    ),
)
_ATTRIBUTES_SPEC = _Spec(
    function="make_scene_attributes",
    title="Scene attributes (synthetic, overlapping)",
    kind="overlapping",
    domain=_SCENE,
    labels=_ATTRIBUTES,
    weights=_ATTRIBUTE_RATES,
    label_rows=_ATTRIBUTE_SIGNATURES,
    spread=_ATTRIBUTE_SPREAD,
    label_noun="attributes",
    caption="Signature d_k of each attribute:",
)


# -- validation ------------------------------------------------------------------


def _check_number(value, name, target_type, **bounds):
    """:func:`sklearn.utils.check_scalar`, refusing booleans and NaN as well.

    ``check_scalar`` takes ``True`` for the integer 1 and lets NaN through any
    range (every comparison with NaN is false); ``n_samples=True`` or
    ``other_fraction=nan`` are mistakes, so they get an error here.
    """
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a number, not a boolean; got {value!r}.")
    check_scalar(value, name, target_type, **bounds)
    if value != value:
        raise ValueError(f"{name} must be a number; got {value!r}.")
    return value


def _check_arguments(n_samples, random_state, as_frame, return_X_y):
    """Validate the arguments every generator shares."""
    n_samples = int(_check_number(n_samples, "n_samples", Integral, min_val=1))
    for name, flag in [("as_frame", as_frame), ("return_X_y", return_X_y)]:
        check_scalar(flag, name, (bool, np.bool_))
    try:
        rng = check_random_state(random_state)
    except ValueError as exc:
        raise ValueError(f"random_state: {exc}") from exc
    return n_samples, rng, bool(as_frame), bool(return_X_y)


# -- the generator ---------------------------------------------------------------


def _exact_counts(n_samples, shares):
    """Split ``n_samples`` by ``shares`` (largest remainder), summing exactly."""
    quotas = n_samples * np.asarray(shares, dtype=float) / np.sum(shares)
    counts = np.floor(quotas).astype(int)
    short = n_samples - counts.sum()
    counts[np.argsort(counts - quotas, kind="stable")[:short]] += 1
    return counts


def _observe(z, domain, rng):
    """Map latent factors ``z`` (n_samples, n_factors) to the named features."""
    features = domain.features
    loadings = np.array(
        [[f.loadings.get(name, 0.0) for name in domain.factors] for f in features]
    )
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


def _exclusive_classes(spec, other_fraction):
    """Names, shares, factor means and spreads of the classes, "other" last."""
    names = list(spec.labels)
    shares = [(1 - other_fraction) * share for share in spec.weights]
    means = [list(row) for row in spec.label_rows]
    spreads = [spec.spread] * len(names)
    if other_fraction > 0:
        names.append("other")
        shares.append(other_fraction)
        means.append([0.0] * len(spec.domain.factors))
        spreads.append(spec.other_spread)
    return names, shares, means, spreads


def _sample(spec, n_samples, rng, other_fraction):
    """Features, target, label names and label rows (for ``DESCR``)."""
    n_factors = len(spec.domain.factors)
    if spec.kind == "exclusive":
        # Classes with exact counts in random order; then the factors
        # N(mean of the class, spread^2 I).
        names, shares, means, spreads = _exclusive_classes(spec, other_fraction)
        counts = _exact_counts(n_samples, shares)
        y = rng.permutation(np.repeat(np.arange(len(shares)), counts))
        noise = rng.standard_normal((n_samples, n_factors))
        z = np.asarray(means, dtype=float)[y] + np.asarray(spreads)[y, None] * noise
        return _observe(z, spec.domain, rng), y.astype(np.int64), names, means
    # Independent labels; each present label adds its signature to the factors.
    draws = rng.random_sample((n_samples, len(spec.weights)))
    Y = (draws < np.asarray(spec.weights)).astype(np.int64)
    z = spec.spread * rng.standard_normal((n_samples, n_factors))
    z += Y @ np.asarray(spec.label_rows, dtype=float)
    return _observe(z, spec.domain, rng), Y, list(spec.labels), spec.label_rows


_FEATURE_MODEL = (
    "Each feature is a transform of its score s = sum_f loading_f*z_f + noise*e, "
    "with e ~ N(0, 1) drawn per sample and feature: 'linear' gives "
    "centre + spread*s, 'log' gives centre*exp(spread*s) for positive "
    "quantities, and 'logit' gives expit(logit(centre) + spread*s) for "
    "fractions in (0, 1)."
)


def _paragraphs(spec, n_samples, names, other_fraction):
    """The two paragraphs of ``DESCR`` that describe the data and the model."""
    domain, noun = spec.domain, spec.label_noun
    items = f"{n_samples} {domain.item}s, {len(domain.features)} {domain.feature_noun}"
    pairs = ", ".join(
        f"{label} {weight:g}"
        for label, weight in zip(spec.labels, spec.weights, strict=True)
    )
    if spec.kind == "exclusive":
        data = (
            f"{items} and one of {len(names)} mutually exclusive {noun} per "
            f"{domain.item}: {', '.join(names)}."
        )
        model = spec.model_text.format(
            shares=pairs,
            spread=spec.spread,
            other_fraction=other_fraction,
            other_spread=spec.other_spread,
        )
    else:
        label = noun[:-1]
        data = (
            f"{items} and a 0/1 indicator for each of {len(names)} {noun} that "
            f"may overlap: {', '.join(names)}."
        )
        model = (
            f"Each {label} is present independently of the others, with "
            f"probability {pairs}. {domain.factor_count} hidden factors per "
            f"{domain.item}: z = e + sum_k Y_k d_k with e ~ N(0, {spec.spread:g}^2 "
            f"I), where Y_k is 1 if the {domain.item} has {label} k: each {label} "
            f"present adds its own signature d_k, whatever the other {noun} are."
        )
    return [
        f"{data} Generated by sksoftmax.datasets.{spec.function}.",
        f"Latent model. {model}",
    ]


def _describe(spec, paragraphs, names, label_rows):
    """The ``DESCR`` text: the latent model, its parameters and the features."""
    lines = [spec.title, "=" * len(spec.title), ""]
    for paragraph in paragraphs:
        lines += [textwrap.fill(paragraph, width=79), ""]
    lines.append(textwrap.fill(spec.caption, width=79))
    factors = spec.domain.factors
    width = max(len(name) for name in names) + 2
    lines += ["", " " * width + "".join(f"{name:>14}" for name in factors)]
    for name, row in zip(names, label_rows, strict=True):
        lines.append(f"{name:<{width}}" + "".join(f"{v:>14.2f}" for v in row))
    lines += ["", "Features", "-" * 8, "", textwrap.fill(_FEATURE_MODEL, width=79)]
    lines += [
        "",
        f"{'feature':<24}{'transform':<10}{'centre':>8}{'spread':>8}{'noise':>7}"
        "  loadings",
    ]
    for f in spec.domain.features:
        loads = ", ".join(f"{k} {v:+.1f}" for k, v in f.loadings.items())
        lines.append(
            f"{f.name:<24}{f.transform:<10}{f.centre:>8g}{f.spread:>8g}"
            f"{f.noise:>7g}  {loads}"
        )
    return "\n".join(lines) + "\n"


def _generate(spec, n_samples, random_state, as_frame, return_X_y, other_fraction=0.0):
    """Draw a data set of ``spec`` and return it as scikit-learn's loaders do."""
    n_samples, rng, as_frame, return_X_y = _check_arguments(
        n_samples, random_state, as_frame, return_X_y
    )
    X, target, names, label_rows = _sample(spec, n_samples, rng, other_fraction)
    feature_names = [f.name for f in spec.domain.features]
    frame = None
    if as_frame:
        import pandas as pd  # only here: importing sksoftmax must stay cheap

        X = pd.DataFrame(X, columns=feature_names)
        if target.ndim == 1:
            target = pd.Series(target, name=spec.target_label)
        else:
            target = pd.DataFrame(target, columns=names)
        frame = pd.concat([X, target], axis=1)
    if return_X_y:
        return X, target
    paragraphs = _paragraphs(spec, n_samples, names, other_fraction)
    return Bunch(
        data=X,
        target=target,
        frame=frame,
        feature_names=feature_names,
        target_names=np.asarray(names),
        DESCR=_describe(spec, paragraphs, names, label_rows),
    )


# -- public generators ---------------------------------------------------------


def make_music_genres(
    n_samples: int = 1000,
    *,
    other_fraction: float = 0.15,
    random_state: int | np.random.RandomState | None = None,
    as_frame: bool = False,
    return_X_y: bool = False,
) -> Bunch | tuple:
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
    other_fraction = _check_number(
        other_fraction,
        "other_fraction",
        Real,
        min_val=0,
        max_val=1,
        include_boundaries="left",
    )
    return _generate(
        _GENRES_SPEC,
        n_samples,
        random_state,
        as_frame,
        return_X_y,
        float(other_fraction),
    )


def make_music_tags(
    n_samples: int = 1000,
    *,
    random_state: int | np.random.RandomState | None = None,
    as_frame: bool = False,
    return_X_y: bool = False,
) -> Bunch | tuple:
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
    return _generate(_TAGS_SPEC, n_samples, random_state, as_frame, return_X_y)


def make_scenes(
    n_samples: int = 1000,
    *,
    random_state: int | np.random.RandomState | None = None,
    as_frame: bool = False,
    return_X_y: bool = False,
) -> Bunch | tuple:
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
    return _generate(_SCENES_SPEC, n_samples, random_state, as_frame, return_X_y)


def make_scene_attributes(
    n_samples: int = 1000,
    *,
    random_state: int | np.random.RandomState | None = None,
    as_frame: bool = False,
    return_X_y: bool = False,
) -> Bunch | tuple:
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
    return _generate(_ATTRIBUTES_SPEC, n_samples, random_state, as_frame, return_X_y)
