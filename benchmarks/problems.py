"""Benchmark problems shaped like real data, generated locally with fixed seeds.

Nothing is downloaded: each generator builds data with the structure of a
well-known public data set (its shape, number of classes, value range,
feature correlations and class overlap), and scikit-learn's bundled
``load_digits`` is used as it is. The classes are mixtures of several
heavy-tailed, correlated modes, so the logistic model is misspecified as it is
on real data (labels are never drawn from a softmax model).

:func:`make_problem` builds one problem by name; ``quick=True`` gives tiny
sizes for smoke runs and tests. Where the full size would not fit the
benchmark's time budget on a 2-core machine, ``n_samples`` is scaled down and
the description says so.
"""

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.ndimage import gaussian_filter
from sklearn.datasets import load_digits
from sklearn.preprocessing import normalize

SEED = 0


@dataclass
class Problem:
    """A benchmark problem: data generated once, before any timing.

    Attributes
    ----------
    name : str
        Key of the problem (see :data:`PROBLEMS`).
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data (float64).
    y : ndarray of shape (n_samples,) or (n_samples, n_labels)
        Class labels ``0 .. K-1`` (``kind="multiclass"``) or a 0/1 indicator
        matrix (``kind="multilabel"``).
    kind : {"multiclass", "multilabel"}
        Which estimators are compared.
    description : str
        One line for the report, including any scaling of the size.
    like : str
        The real data set the problem imitates.
    """

    name: str
    X: object
    y: np.ndarray
    kind: str
    description: str
    like: str = ""
    n_outputs: int = field(init=False)

    def __post_init__(self):
        if self.kind == "multilabel":
            self.n_outputs = self.y.shape[1]
        else:
            self.n_outputs = np.unique(self.y).size

    @property
    def shape(self):
        return tuple(int(v) for v in self.X.shape)

    def info(self):
        """JSON-ready facts about the problem."""
        X = self.X
        zeros = (
            1.0 - X.nnz / (X.shape[0] * X.shape[1])
            if sp.issparse(X)
            else float(np.mean(X == 0))
        )
        return {
            "description": self.description,
            "like": self.like,
            "kind": self.kind,
            "shape": list(self.shape),
            "n_outputs": int(self.n_outputs),
            "sparse": bool(sp.issparse(X)),
            "zero_fraction": round(zeros, 4),
        }


# -- building blocks -----------------------------------------------------------


def standardise(X):
    """Centre and scale each column to unit variance (dense float64)."""
    X = np.asarray(X, dtype=np.float64)
    X = X - X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    X /= scale
    return X


def random_correlation_factor(n_features, rng, rank=None, strength=1.0):
    """A matrix ``L`` such that ``z @ L.T`` has correlated columns.

    The covariance ``L L^T`` is a low-rank part (shared factors, as pixels or
    neighbouring measurements of real data share) plus a diagonal.
    """
    rank = rank or max(1, n_features // 4)
    loadings = rng.standard_normal((n_features, rank)) * (strength / np.sqrt(rank))
    diagonal = np.diag(rng.uniform(0.3, 1.0, n_features))
    return np.hstack([loadings, diagonal])


def class_sizes(n_samples, n_classes, rng, imbalance=0.3):
    """Class counts with a mild imbalance (every class present)."""
    weights = rng.dirichlet(np.full(n_classes, 1.0 / imbalance**2))
    counts = np.maximum(1, np.floor(weights * n_samples).astype(int))
    counts[np.argmax(counts)] += n_samples - counts.sum()
    return counts


def mixture_classes(
    n_samples,
    n_features,
    n_classes,
    rng,
    *,
    modes=3,
    separation=2.0,
    mode_spread=1.0,
    df=5.0,
    imbalance=0.3,
):
    """Class-conditional mixtures of heavy-tailed correlated Gaussians.

    Each class has ``modes`` modes around its own centre; each mode has its own
    correlation structure and a multivariate t noise with ``df`` degrees of
    freedom (heavy tails). Class boundaries are therefore curved and the
    logistic model is misspecified.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Raw (unscaled) features.
    y : ndarray of shape (n_samples,)
        Labels, shuffled.
    """
    centres = rng.standard_normal((n_classes, n_features)) * separation
    counts = class_sizes(n_samples, n_classes, rng, imbalance)
    X = np.empty((n_samples, n_features))
    y = np.empty(n_samples, dtype=np.int64)
    start = 0
    for k, count in enumerate(counts):
        mode_means = centres[k] + rng.standard_normal((modes, n_features)) * mode_spread
        mode_of = rng.integers(modes, size=count)
        for m in range(modes):
            rows = np.flatnonzero(mode_of == m) + start
            factor = random_correlation_factor(n_features, rng)
            z = rng.standard_normal((rows.size, factor.shape[1])) @ factor.T
            # multivariate t: a Gaussian divided by sqrt(chi2 / df) per sample
            z /= np.sqrt(rng.chisquare(df, size=(rows.size, 1)) / df)
            X[rows] = mode_means[m] + z
        y[start : start + count] = k
        start += count
    order = rng.permutation(n_samples)
    return X[order], y[order]


def quantise(X, levels, rng):
    """Map each column affinely onto the integers ``0 .. levels`` (as UCI sets).

    Columns are stretched by their 1st-99th percentile range with a random
    margin, then rounded and clipped, so extreme values saturate.
    """
    low, high = np.percentile(X, [1, 99], axis=0)
    margin = rng.uniform(0.0, 0.2, X.shape[1]) * (high - low)
    scaled = (X - low + margin) / (high - low + 2 * margin) * levels
    return np.clip(np.rint(scaled), 0, levels)


def _scaled(n, full, note=True):
    """``"n"`` or ``"n (scaled from full)"`` for descriptions."""
    if n == full or not note:
        return f"{n:,}"
    return f"{n:,} (scaled from {full:,})"


# -- multiclass problems --------------------------------------------------------


def letter(quick=False):
    """20,000 x 16, K=26, integer features 0..15, standardised (letter-like)."""
    rng = np.random.default_rng(SEED)
    n = 1_000 if quick else 20_000
    X, y = mixture_classes(n, 16, 26, rng, modes=3, separation=1.3, df=6.0)
    X = standardise(quantise(X, 15, rng))
    return Problem(
        "letter",
        X,
        y,
        "multiclass",
        f"{_scaled(n, 20_000, not quick)} x 16, K=26: 3 heavy-tailed modes per "
        "class, features quantised to 0..15 then standardised",
        like="UCI letter-recognition",
    )


def pendigits(quick=False):
    """11,000 x 16, K=10, well separated classes, standardised (pendigits-like)."""
    rng = np.random.default_rng(SEED + 1)
    n = 1_000 if quick else 11_000
    moves, y = mixture_classes(
        n, 16, 10, rng, modes=4, separation=2.5, mode_spread=1.2, df=4.0
    )
    # 8 pen positions (x, y): cumulative sums of the movements, so neighbouring
    # features are strongly correlated, as in the resampled pen trajectories.
    X = np.cumsum(moves.reshape(n, 8, 2), axis=1).reshape(n, 16)
    X = standardise(quantise(X, 100, rng))
    return Problem(
        "pendigits",
        X,
        y,
        "multiclass",
        f"{_scaled(n, 11_000, not quick)} x 16, K=10: 8 pen positions, cumulative "
        "sums of 4-mode heavy-tailed movements; classes overlap little (weak "
        "penalty at C=100 is hard), 0..100 then standardised",
        like="UCI pendigits",
    )


def satimage(quick=False):
    """6,400 x 36, K=6: 4 bands x 3x3 pixels, strongly correlated (satimage-like)."""
    rng = np.random.default_rng(SEED + 2)
    n = 600 if quick else 6_400
    # A spectrum of 4 bands per sample, then 9 neighbouring pixels that share it.
    bands, y = mixture_classes(
        n, 4, 6, rng, modes=3, separation=2.0, mode_spread=0.8, df=5.0
    )
    pixels = bands[:, None, :] + 0.35 * rng.standard_normal((n, 9, 4))
    X = standardise(quantise(pixels.reshape(n, 36), 255, rng))
    return Problem(
        "satimage",
        X,
        y,
        "multiclass",
        f"{_scaled(n, 6_400, not quick)} x 36, K=6: 4 bands x 9 neighbouring "
        "pixels (strongly correlated features), 0..255 then standardised",
        like="UCI Statlog satimage",
    )


def digits_raw(quick=False):
    """scikit-learn's ``load_digits`` as loaded: 1,797 x 64, K=10, pixels 0..16."""
    X, y = load_digits(return_X_y=True)
    if quick:
        X, y = X[:600], y[:600]
    return Problem(
        "digits_raw",
        X.astype(np.float64),
        y,
        "multiclass",
        f"{X.shape[0]:,} x 64, K=10: scikit-learn's load_digits, unscaled pixels "
        "0..16 (real data)",
        like="UCI optdigits (the real data, bundled)",
    )


def _stroke_pool(n_strokes, size, rng):
    """Blurred random pen strokes on a ``size x size`` canvas."""
    pool = np.zeros((n_strokes, size, size))
    for s in range(n_strokes):
        point = rng.uniform(7, size - 7, 2)
        velocity = rng.standard_normal(2)
        for _ in range(30):
            velocity = 0.85 * velocity + 0.6 * rng.standard_normal(2)
            point = np.clip(point + velocity, 3, size - 4)
            i, j = np.rint(point).astype(int)
            pool[s, i, j] = 1.0
        pool[s] = gaussian_filter(pool[s], 1.0)
        pool[s] /= pool[s].max()
    return pool


def mnist_like(quick=False, n_samples=None):
    """Image-like 28x28 pixels in [0, 1], mostly zero, K=10 (MNIST-like).

    Each class has 4 writing styles (modes); a style is a few strokes drawn
    from a shared pool, so classes share strokes and overlap as digits do.
    Each sample blends two styles of its class, is shifted by up to 2 pixels,
    gets a random stroke intensity and noise on the strokes, and faint pixels
    are set to zero.
    """
    rng = np.random.default_rng(SEED + 3)
    full = 60_000
    n = 1_000 if quick else (n_samples or 10_000)
    size, n_classes, n_styles = 28, 10, 4
    pool = _stroke_pool(40, size, rng)
    styles = np.empty((n_classes, n_styles, size, size))
    for k in range(n_classes):
        base = rng.choice(40, size=3, replace=False)
        for m in range(n_styles):
            extra = rng.choice(40, size=1)
            chosen = np.concatenate([base[rng.permutation(3)[:2]], extra])
            styles[k, m] = np.clip(pool[chosen].sum(axis=0), 0, 1)
    y = np.repeat(np.arange(n_classes), -(-n // n_classes))[:n]
    y = rng.permutation(y)
    a, b = rng.integers(n_styles, size=(2, n))
    mix = rng.uniform(0, 1, (n, 1, 1))
    images = mix * styles[y, a] + (1 - mix) * styles[y, b]
    images *= rng.uniform(0.7, 1.3, (n, 1, 1))
    images += 0.15 * rng.standard_normal(images.shape) * (images > 0.1)
    shifts = rng.integers(-2, 3, size=(n, 2))
    for dx in range(-2, 3):
        for dy in range(-2, 3):
            rows = np.flatnonzero((shifts[:, 0] == dx) & (shifts[:, 1] == dy))
            images[rows] = np.roll(images[rows], (dx, dy), axis=(1, 2))
    images[images < 0.15] = 0.0
    X = np.clip(images, 0.0, 1.0).reshape(n, size * size)
    return Problem(
        "mnist_like",
        X,
        y,
        "multiclass",
        f"{_scaled(n, full, not quick)} x 784, K=10: 28x28 stroke images in "
        f"[0, 1], {np.mean(X == 0):.0%} zero pixels, dense array",
        like="MNIST",
    )


def _zipf_text(n_docs, n_words, n_classes, rng, topics_per_class=3):
    """TF-IDF of Zipfian documents: CSR, rows L2-normalised.

    A background Zipf distribution over the vocabulary is mixed with a topic
    per document (each class has several topics, each boosting a few hundred
    words, some of them shared with other classes); document lengths are
    log-normal; term frequencies are sublinear (1 + log count).
    """
    ranks = np.arange(1, n_words + 1)
    background = 1.0 / ranks**1.1
    background /= background.sum()
    n_topics = n_classes * topics_per_class
    topics = np.empty((n_topics, n_words))
    for t in range(n_topics):
        boosted = rng.choice(n_words, size=300, replace=False, p=background)
        topic = np.zeros(n_words)
        topic[boosted] = rng.pareto(1.5, 300) + 1.0
        topics[t] = topic / topic.sum()
    y = rng.integers(n_classes, size=n_docs)
    topic_of = y * topics_per_class + rng.integers(topics_per_class, size=n_docs)
    lengths = np.clip(rng.lognormal(4.3, 0.7, n_docs).astype(int), 10, 2000)
    topic_share = rng.beta(2.0, 5.0, n_docs)  # most words are background words
    rows, cols = [], []
    for t in range(n_topics):
        docs = np.flatnonzero(topic_of == t)
        if docs.size == 0:
            continue
        n_topic = rng.binomial(lengths[docs], topic_share[docs])
        n_back = lengths[docs] - n_topic
        rows += [np.repeat(docs, n_topic), np.repeat(docs, n_back)]
        cols += [
            rng.choice(n_words, size=n_topic.sum(), p=topics[t]),
            rng.choice(n_words, size=n_back.sum(), p=background),
        ]
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    counts = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n_docs, n_words))
    counts.sum_duplicates()
    counts.data = 1.0 + np.log(counts.data)
    df = np.bincount(counts.indices, minlength=n_words)
    idf = np.log((1 + n_docs) / (1 + df)) + 1.0
    X = normalize(counts @ sp.diags(idf), norm="l2").tocsr()
    X.sort_indices()
    return X, y


def _text(name, n_classes, full_docs, seed, quick):
    rng = np.random.default_rng(seed)
    n, p = (800, 3_000) if quick else (10_000, 20_000)
    X, y = _zipf_text(n, p, n_classes, rng)
    return Problem(
        name,
        X,
        y,
        "multiclass",
        f"CSR {_scaled(n, full_docs, not quick)} x {p:,}, K={n_classes}: Zipfian "
        "TF-IDF documents, 3 topics per class, sublinear tf, rows L2-normalised, "
        f"{X.nnz / n:.0f} non-zeros per row",
        like="20 newsgroups (TF-IDF)" if n_classes == 20 else "RCV1-like topics",
    )


def text20(quick=False):
    """Sparse TF-IDF text, CSR 10,000 x 20,000, K=20 (scaled from 20,000 docs)."""
    return _text("text20", 20, 20_000, SEED + 4, quick)


def text50(quick=False):
    """Sparse TF-IDF text, CSR 10,000 x 20,000, K=50 (scaled from 20,000 docs)."""
    return _text("text50", 50, 20_000, SEED + 5, quick)


def tall(quick=False):
    """Tall and narrow: 200,000 x 20 (scaled from 500,000), K=5, standardised."""
    rng = np.random.default_rng(SEED + 6)
    n = 5_000 if quick else 200_000
    X, y = mixture_classes(n, 20, 5, rng, modes=4, separation=1.2, df=4.0)
    return Problem(
        "tall",
        standardise(X),
        y,
        "multiclass",
        f"{_scaled(n, 500_000, not quick)} x 20, K=5: 4 heavy-tailed correlated "
        "modes per class, standardised",
        like="tall sensor / tabular logs",
    )


def wide(quick=False):
    """Wide: 2,000 x 5,000 dense, K=5 (more features than samples)."""
    rng = np.random.default_rng(SEED + 7)
    n, p = (200, 500) if quick else (2_000, 5_000)
    # Classes differ in a 50-dimensional latent space seen through 5,000
    # correlated, noisy measurements (as gene expression or spectra).
    latent, y = mixture_classes(n, 50, 5, rng, modes=2, separation=0.5, df=5.0)
    mixing = rng.standard_normal((50, p)) / np.sqrt(50)
    X = standardise(latent @ mixing + rng.standard_normal((n, p)))
    return Problem(
        "wide",
        X,
        y,
        "multiclass",
        f"{n:,} x {p:,}, K=5: a 50-dim latent mixture seen through {p:,} noisy "
        "correlated measurements, standardised",
        like="gene expression / spectra",
    )


def expression(name, n, p, n_classes, seed, quick=False):
    """Expression-array-like data: a few hundred samples of thousands of
    correlated, noisy measurements of a 50-dimensional latent mixture,
    standardised (far more features than rows, as gene expression)."""
    rng = np.random.default_rng(SEED + seed)
    if quick:
        n, p = max(n // 4, 40), max(p // 10, 8 * n // 4)
    latent, y = mixture_classes(n, 50, n_classes, rng, modes=2, separation=0.5, df=5.0)
    mixing = rng.standard_normal((50, p)) / np.sqrt(50)
    X = standardise(latent @ mixing + rng.standard_normal((n, p)))
    return Problem(
        name,
        X,
        y,
        "multiclass",
        f"{n:,} x {p:,}, K={n_classes}: a 50-dim latent mixture seen through "
        f"{p:,} noisy correlated measurements, standardised",
        like="gene expression",
    )


def expression_labels(quick=False):
    """Multilabel expression-like data: 300 x 20,000, 5 labels."""
    rng = np.random.default_rng(SEED + 23)
    n, p = (80, 2_000) if quick else (300, 20_000)
    X, Y = multilabel(n, p, 5, rng)
    return Problem(
        "expr_labels",
        X,
        Y,
        "multilabel",
        f"{n:,} x {p:,}, 5 labels: correlated labels, heavy-tailed, standardised",
        like="gene expression (overlapping phenotypes)",
    )


# Problems with many more features than rows, where fits start in the row
# space of X (sksoftmax/_rowspace.py); benchmarks/wide_bench.py runs them.
# Not in PROBLEMS: the main grid's own wide set (2,000 x 5,000) is where
# that reduction pays only under a weak penalty.
WIDE_PROBLEMS = {
    "expr2": lambda quick=False: expression("expr2", 100, 20_000, 2, 20, quick),
    "expr4": lambda quick=False: expression("expr4", 300, 20_000, 4, 21, quick),
    "spectra4": lambda quick=False: expression("spectra4", 500, 5_000, 4, 22, quick),
    "expr_labels": expression_labels,
}


# -- multilabel problems --------------------------------------------------------


def multilabel(n_samples, n_features, n_labels, rng, *, density=1.5, modes=2):
    """Correlated labels and features that depend on them non-linearly.

    Labels: a latent Gaussian with a random label correlation, thresholded so
    that each label has its own frequency (about ``density`` labels per sample
    on average, at least one each). Features: a low-rank correlated
    background, plus for each present label the mean of one of its ``modes``
    (chosen per sample), with heavy-tailed noise; standardised.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_labels)
        0/1 indicator matrix; every label varies.
    """
    factor = random_correlation_factor(n_labels, rng, rank=max(1, n_labels // 3))
    latent = rng.standard_normal((n_samples, factor.shape[1])) @ factor.T
    latent /= latent.std(axis=0)
    frequencies = rng.dirichlet(np.ones(n_labels)) * density
    frequencies = np.clip(frequencies, 0.02, 0.6)
    thresholds = np.array(
        [np.quantile(latent[:, j], 1 - f) for j, f in enumerate(frequencies)]
    )
    Y = (latent > thresholds).astype(np.int64)
    empty = Y.sum(axis=1) == 0
    Y[empty, np.argmax(latent[empty] - thresholds, axis=1)] = 1
    means = rng.standard_normal((n_labels, modes, n_features)) * 0.9
    X = rng.standard_normal((n_samples, max(1, n_features // 5))) @ (
        rng.standard_normal((max(1, n_features // 5), n_features)) * 0.5
    )
    noise = rng.standard_normal((n_samples, n_features))
    noise /= np.sqrt(rng.chisquare(5.0, size=(n_samples, 1)) / 5.0)
    X += noise
    mode_of = rng.integers(modes, size=(n_samples, n_labels))
    for label in range(n_labels):
        on = np.flatnonzero(Y[:, label])
        X[on] += means[label, mode_of[on, label]]
    constant = Y.min(axis=0) == Y.max(axis=0)
    if constant.any():
        raise RuntimeError(f"labels {np.flatnonzero(constant)} are constant")
    return standardise(X), Y


def ml_scene(quick=False):
    """Multilabel, 1,200 x 294, 6 labels (scene-like), standardised."""
    rng = np.random.default_rng(SEED + 8)
    n = 300 if quick else 1_200
    X, Y = multilabel(n, 294, 6, rng, density=1.1)
    return Problem(
        "ml_scene",
        X,
        Y,
        "multilabel",
        f"{n:,} x 294, 6 labels, {Y.sum(axis=1).mean():.2f} labels per sample: "
        "correlated labels, 2 modes per label, heavy-tailed, standardised",
        like="scene",
    )


def ml_emotions(quick=False):
    """Multilabel, 600 x 72, 6 labels (emotions-like), standardised."""
    rng = np.random.default_rng(SEED + 9)
    n = 200 if quick else 600
    X, Y = multilabel(n, 72, 6, rng, density=1.9)
    return Problem(
        "ml_emotions",
        X,
        Y,
        "multilabel",
        f"{n:,} x 72, 6 labels, {Y.sum(axis=1).mean():.2f} labels per sample: "
        "correlated labels, 2 modes per label, heavy-tailed, standardised",
        like="emotions",
    )


def ml_many(quick=False):
    """Multilabel, 10,000 (scaled from 20,000) x 100, 50 labels, standardised."""
    rng = np.random.default_rng(SEED + 10)
    n = 1_000 if quick else 10_000
    X, Y = multilabel(n, 100, 50, rng, density=3.0)
    return Problem(
        "ml_many",
        X,
        Y,
        "multilabel",
        f"{_scaled(n, 20_000, not quick)} x 100, 50 labels, "
        f"{Y.sum(axis=1).mean():.2f} labels per sample: correlated labels, "
        "2 modes per label, heavy-tailed, standardised",
        like="tagging (many labels)",
    )


def bundled(name, quick=False):
    """One of scikit-learn's bundled real data sets, standardised (as a
    newcomer would fit it first)."""
    from sklearn import datasets

    loader = {
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "breast_cancer": datasets.load_breast_cancer,
        "digits_std": datasets.load_digits,
    }[name]
    X, y = loader(return_X_y=True)
    X = standardise(X)
    n, p = X.shape
    n_classes = np.unique(y).size
    return Problem(
        name,
        X,
        y,
        "multiclass",
        f"{n:,} x {p:,}, K={n_classes}: scikit-learn's bundled set, standardised",
        like=f"sklearn.datasets.load_{name.removesuffix('_std')}",
    )


def few_rows(quick=False):
    """50 x 200, K=3: few rows, many unknowns (603), Gaussian noise."""
    rng = np.random.default_rng(SEED + 30)
    X = rng.standard_normal((50, 200))
    y = np.arange(50) % 3
    return Problem(
        "few_rows",
        X,
        y,
        "multiclass",
        "50 x 200, K=3: Gaussian features, balanced classes",
        like="a small pilot study",
    )


# Small data sets, where a fit takes milliseconds and fixed costs (Python,
# validation) weigh most; benchmarks/small_bench.py runs them. Not in
# PROBLEMS: they would measure overheads, not the solver's scaling.
SMALL_PROBLEMS = {
    "iris": lambda quick=False: bundled("iris"),
    "wine": lambda quick=False: bundled("wine"),
    "breast_cancer": lambda quick=False: bundled("breast_cancer"),
    "digits_std": lambda quick=False: bundled("digits_std"),
    "few_rows": few_rows,
}


PROBLEMS = {
    "letter": letter,
    "pendigits": pendigits,
    "satimage": satimage,
    "digits_raw": digits_raw,
    "mnist_like": mnist_like,
    "text20": text20,
    "text50": text50,
    "tall": tall,
    "wide": wide,
    "ml_scene": ml_scene,
    "ml_emotions": ml_emotions,
    "ml_many": ml_many,
}

# The shapes (n_samples, n_features, n_outputs) each generator promises.
SHAPES = {
    "letter": ((20_000, 16, 26), (1_000, 16, 26)),
    "pendigits": ((11_000, 16, 10), (1_000, 16, 10)),
    "satimage": ((6_400, 36, 6), (600, 36, 6)),
    "digits_raw": ((1_797, 64, 10), (600, 64, 10)),
    "mnist_like": ((10_000, 784, 10), (1_000, 784, 10)),
    "text20": ((10_000, 20_000, 20), (800, 3_000, 20)),
    "text50": ((10_000, 20_000, 50), (800, 3_000, 50)),
    "tall": ((200_000, 20, 5), (5_000, 20, 5)),
    "wide": ((2_000, 5_000, 5), (200, 500, 5)),
    "ml_scene": ((1_200, 294, 6), (300, 294, 6)),
    "ml_emotions": ((600, 72, 6), (200, 72, 6)),
    "ml_many": ((10_000, 100, 50), (1_000, 100, 50)),
}


def select(spec):
    """Problem names from a comma-separated list (names or unique prefixes)."""
    if not spec:
        return list(PROBLEMS)
    chosen = []
    for token in (t.strip() for t in spec.split(",") if t.strip()):
        matches = [name for name in PROBLEMS if name == token] or [
            name for name in PROBLEMS if name.startswith(token)
        ]
        if not matches:
            raise SystemExit(f"unknown problem {token!r}; choose from {list(PROBLEMS)}")
        chosen += [m for m in matches if m not in chosen]
    return [name for name in PROBLEMS if name in chosen]


def make_problem(name, quick=False):
    """Build the named problem (see :data:`PROBLEMS`)."""
    return PROBLEMS[name](quick)
