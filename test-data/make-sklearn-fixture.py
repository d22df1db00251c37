"""Reference fixture: scikit-learn's GaussianMixture on small synthetic data sets.

Run from the repository root with Debian's Python, which has python3-sklearn and numpy:

    /usr/bin/python3 test-data/make-sklearn-fixture.py

(not a `python3` found first on PATH, which may be another Python without scikit-learn).

Writes test-data/sklearn-gaussian-mixture.json, read by
packages/core/test/scikit-learn-agreement.test.ts. The output is deterministic: the data come
from numpy RandomState generators with fixed seeds, and every fit uses random_state=0. Floats
are written by Python's json module (shortest repr, so they round-trip exactly into JavaScript
doubles); sample values are rounded to 4 decimals first so that the data are short and exact.

For each data set and each covariance type (full, tied, diag, spherical) the fixture holds:
- `kmeansInit`: the start sklearn's own k-means initialisation gives (weights, means, K x D x D
  covariances, reg_covar included);
- `model`: the parameters of GaussianMixture(n_components=3, tol=1e-10, max_iter=1000,
  reg_covar=1e-6, random_state=0, n_init=1) fitted from that start, covariances and precision
  Cholesky factors expanded to K x D x D whatever the type (tied: K copies; diag: diagonal
  matrices; spherical: variance times identity; precisionsCholesky upper triangular, sklearn's
  convention precision = U U^T);
- nIter, converged, lowerBound of that fit; predict, predictProba (N x K row-major),
  scoreSamples, score, bic and aic of the fitted model on the data;
- `warmStart`: a second fit started from explicit weights_init, means_init and
  precisions_init (the inverses of the recorded `init.covariances`), with the same settings,
  and its converged model, nIter, converged, lowerBound and score.
"""

import json
import os
import platform
import sys
import warnings

import numpy as np
import scipy
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.utils import check_random_state

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sklearn-gaussian-mixture.json")
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
SETTINGS = {
    "nComponents": 3,
    "tol": 1e-10,
    "maxIter": 1000,
    "regCovar": 1e-6,
    "randomState": 0,
    "nInit": 1,
}


def short(x):
    """The double nearest to x rounded to 4 decimals (its repr is at most 4 decimals long)."""
    return float(f"{x:.4f}")


def make_data(seed, means, covariances, counts):
    """Gaussian clusters, rows shuffled, values rounded to 4 decimals."""
    rng = np.random.RandomState(seed)
    blocks = [
        rng.multivariate_normal(np.asarray(m, float), np.asarray(c, float), size=n)
        for m, c, n in zip(means, covariances, counts)
    ]
    X = np.concatenate(blocks)
    X = X[rng.permutation(len(X))]
    return np.vectorize(short)(X)


def random_covariance(rng, d, scale):
    a = rng.normal(size=(d, d))
    return scale * (a @ a.T / d + 0.3 * np.eye(d))


def datasets():
    two = make_data(
        seed=20240601,
        means=[[-2.0, 0.0], [1.5, 1.0], [0.0, 3.5]],
        covariances=[
            [[1.0, 0.6], [0.6, 0.8]],
            [[0.5, -0.3], [-0.3, 1.2]],
            [[1.5, 0.0], [0.0, 0.3]],
        ],
        counts=[100, 120, 80],
    )
    one = make_data(
        seed=20240602,
        means=[[-2.0], [1.0], [4.0]],
        covariances=[[[0.6]], [[0.8]], [[1.2]]],
        counts=[60, 80, 60],
    )
    rng = np.random.RandomState(20240603)
    three_covariances = [random_covariance(rng, 3, s) for s in (0.6, 1.0, 0.8)]
    three = make_data(
        seed=20240604,
        means=[[0.0, 0.0, 0.0], [3.0, 1.0, -1.0], [-1.0, 3.0, 2.0]],
        covariances=three_covariances,
        counts=[110, 90, 100],
    )
    return [
        (
            "two-features",
            "D = 2, N = 300: three overlapping Gaussian clusters with different full covariances "
            "(100, 120 and 80 samples)",
            two,
            {"means": [[-2.6, 0.5], [2.2, 0.4], [0.5, 3.0]], "weights": [0.3, 0.45, 0.25]},
        ),
        (
            "one-feature",
            "D = 1, N = 200: three overlapping Gaussian clusters (60, 80 and 60 samples)",
            one,
            {"means": [[-2.6], [0.6], [4.7]], "weights": [0.25, 0.35, 0.4]},
        ),
        (
            "three-features",
            "D = 3, N = 300: three Gaussian clusters with random full covariances "
            "(110, 90 and 100 samples)",
            three,
            {
                "means": [[0.5, -0.5, 0.4], [2.5, 1.5, -0.5], [-1.5, 2.5, 2.5]],
                "weights": [0.4, 0.3, 0.3],
            },
        ),
    ]


def warm_covariances(X, covariance_type):
    """Explicit K x D x D starting covariances of the right structure for the type."""
    d = X.shape[1]
    overall = np.atleast_2d(np.cov(X.T, bias=True))
    scales = (0.3, 0.5, 0.4)
    if covariance_type == "full":
        matrices = [s * overall for s in scales]
    elif covariance_type == "tied":
        matrices = [0.4 * overall] * 3
    elif covariance_type == "diag":
        matrices = [s * np.diag(np.diag(overall)) for s in scales]
    else:
        mean_variance = np.trace(overall) / d
        matrices = [s * mean_variance * np.eye(d) for s in scales]
    # short decimals, symmetric by construction
    return np.array([[[short(v) for v in row] for row in m] for m in matrices])


def precisions_init(covariances, covariance_type):
    """sklearn's precisions_init from K x D x D covariances."""
    if covariance_type == "full":
        return np.array([np.linalg.inv(c) for c in covariances])
    if covariance_type == "tied":
        return np.linalg.inv(covariances[0])
    if covariance_type == "diag":
        return np.array([1.0 / np.diag(c) for c in covariances])
    return np.array([1.0 / c[0, 0] for c in covariances])


def expand(value, covariance_type, k, d):
    """sklearn's covariances_ or precisions_cholesky_ as K x D x D matrices."""
    value = np.asarray(value, float)
    if covariance_type == "full":
        return value
    if covariance_type == "tied":
        return np.array([value] * k)
    if covariance_type == "diag":
        return np.array([np.diag(row) for row in value])
    return np.array([v * np.eye(d) for v in value])


def model_of(gm, k, d):
    t = gm.covariance_type
    return {
        "covarianceType": t,
        "nComponents": k,
        "nFeatures": d,
        "weights": gm.weights_.tolist(),
        "means": gm.means_.tolist(),
        "covariances": expand(gm.covariances_, t, k, d).tolist(),
        "precisionsCholesky": expand(gm.precisions_cholesky_, t, k, d).tolist(),
    }


def new_estimator(covariance_type, **init):
    return GaussianMixture(
        n_components=SETTINGS["nComponents"],
        covariance_type=covariance_type,
        tol=SETTINGS["tol"],
        max_iter=SETTINGS["maxIter"],
        reg_covar=SETTINGS["regCovar"],
        random_state=SETTINGS["randomState"],
        n_init=SETTINGS["nInit"],
        **init,
    )


def fit(estimator, X):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return estimator.fit(X)


def kmeans_init(covariance_type, X, k, d):
    """The start of sklearn's default (k-means) initialisation, exactly as fit() computes it."""
    gm = new_estimator(covariance_type)
    gm._validate_params()
    gm._check_parameters(X)
    gm._initialize_parameters(X, check_random_state(SETTINGS["randomState"]))
    return {
        "weights": gm.weights_.tolist(),
        "means": gm.means_.tolist(),
        "covariances": expand(gm.covariances_, covariance_type, k, d).tolist(),
    }


def assert_close(a, b, what, rtol=1e-8, atol=1e-10):
    if not np.allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol):
        sys.exit(f"make-sklearn-fixture: {what} does not reproduce (max diff {np.max(np.abs(np.subtract(a, b)))})")


def fits_for(X, covariance_type, warm):
    n, d = X.shape
    k = SETTINGS["nComponents"]
    gm = fit(new_estimator(covariance_type), X)
    init = kmeans_init(covariance_type, X, k, d)

    # The recorded k-means start must be the one the fit above started from: refit from it.
    check = fit(
        new_estimator(
            covariance_type,
            weights_init=np.array(init["weights"]),
            means_init=np.array(init["means"]),
            precisions_init=precisions_init(np.array(init["covariances"]), covariance_type),
        ),
        X,
    )
    assert_close(check.means_, gm.means_, f"{covariance_type} fit from the recorded k-means start")
    assert check.n_iter_ == gm.n_iter_, (check.n_iter_, gm.n_iter_)

    warm_init = {
        "weights": list(warm["weights"]),
        "means": warm["means"],
        "covariances": warm_covariances(X, covariance_type).tolist(),
    }
    wm = fit(
        new_estimator(
            covariance_type,
            weights_init=np.array(warm_init["weights"]),
            means_init=np.array(warm_init["means"]),
            precisions_init=precisions_init(np.array(warm_init["covariances"]), covariance_type),
        ),
        X,
    )
    return {
        "kmeansInit": init,
        "model": model_of(gm, k, d),
        "nIter": int(gm.n_iter_),
        "converged": bool(gm.converged_),
        "lowerBound": float(gm.lower_bound_),
        "predict": gm.predict(X).tolist(),
        "predictProba": gm.predict_proba(X).ravel().tolist(),
        "scoreSamples": gm.score_samples(X).tolist(),
        "score": float(gm.score(X)),
        "bic": float(gm.bic(X)),
        "aic": float(gm.aic(X)),
        "warmStart": {
            "init": warm_init,
            "model": model_of(wm, k, d),
            "nIter": int(wm.n_iter_),
            "converged": bool(wm.converged_),
            "lowerBound": float(wm.lower_bound_),
            "score": float(wm.score(X)),
        },
    }


def main():
    out = {
        "description": (
            "scikit-learn GaussianMixture reference results, made by test-data/make-sklearn-fixture.py; "
            "see test-data/README.md"
        ),
        "command": "/usr/bin/python3 test-data/make-sklearn-fixture.py",
        "versions": {
            "sklearn": sklearn.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "python": platform.python_version(),
        },
        "settings": SETTINGS,
        "datasets": [],
    }
    for name, description, X, warm in datasets():
        n, d = X.shape
        out["datasets"].append(
            {
                "name": name,
                "description": description,
                "nSamples": n,
                "nFeatures": d,
                "data": X.ravel().tolist(),
                "fits": {t: fits_for(X, t, warm) for t in COVARIANCE_TYPES},
            }
        )
    text = json.dumps(out, separators=(",", ":"))
    with open(OUTPUT, "w") as f:
        f.write(text + "\n")
    print(f"wrote {OUTPUT} ({len(text) + 1} bytes), scikit-learn {sklearn.__version__}")


if __name__ == "__main__":
    main()
