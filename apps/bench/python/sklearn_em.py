"""scikit-learn side of the core EM benchmark (run by apps/bench/src/core-em.ts).

Usage: /usr/bin/python3 sklearn_em.py '<config JSON>'

config: {"file", "nSamples", "nFeatures", "covarianceType", "maxIter", "loopReps", "fit": bool,
         "regCovar", "initialParameters": {"weights", "means", "covariances" (K x D x D, already in
         the form the covariance type can hold: equal for tied, diagonal for diag, scaled identity
         for spherical)}}

Loads the same raw little-endian float32 samples the TypeScript contestants read, as float64 (what
GaussianMixture computes in), then
  1. (when "fit") times GaussianMixture(n_components=K, covariance_type=<type>, tol=0,
     max_iter=M, weights_init, means_init, precisions_init).fit(X): with tol=0 it does exactly M
     iterations; reported as fit seconds / M (includes sklearn's own set-up and final E-step);
  2. resets the model to the same warm start and times `_e_step(X)` + `_m_step(X, log_resp)`
     `loopReps` times: the median is sklearn's time per EM iteration.
Prints one JSON line on stdout. If scikit-learn cannot be imported, prints {"available": false}.
"""

import json
import resource
import sys
import time

from memory import current_rss_bytes, vm_hwm_kib
import warnings


def typed_covariances(full, covariance_type, np):
    """K x D x D covariances in the shape sklearn keeps for the covariance type."""
    if covariance_type == "full":
        return full
    if covariance_type == "tied":
        return full[0]
    if covariance_type == "diag":
        return np.stack([np.diag(matrix) for matrix in full])
    if covariance_type == "spherical":
        return np.array([np.mean(np.diag(matrix)) for matrix in full])
    raise ValueError(f"unknown covariance type {covariance_type}")


def typed_precisions(covariances, covariance_type, np):
    """precisions_init for the covariance type (inverse matrices, or reciprocal variances)."""
    if covariance_type in ("full", "tied"):
        return np.linalg.inv(covariances)
    return 1.0 / covariances


def main():
    config = json.loads(sys.argv[1])
    try:
        import numpy as np
        import sklearn
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import GaussianMixture
        from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky
    except Exception as error:  # noqa: BLE001 - any import failure means "no sklearn column"
        print(json.dumps({"available": False, "error": repr(error)}))
        return

    try:
        from threadpoolctl import threadpool_info

        threadpools = [
            {k: pool.get(k) for k in ("user_api", "internal_api", "num_threads", "version")}
            for pool in threadpool_info()
        ]
    except Exception:  # noqa: BLE001
        threadpools = None

    n, d = config["nSamples"], config["nFeatures"]
    max_iter = config["maxIter"]
    init = config["initialParameters"]
    weights = np.asarray(init["weights"], dtype=np.float64)
    means = np.asarray(init["means"], dtype=np.float64)
    covariance_type = config.get("covarianceType", "full")
    k = len(weights)
    covariances = typed_covariances(
        np.asarray(init["covariances"], dtype=np.float64), covariance_type, np
    )
    precisions = typed_precisions(covariances, covariance_type, np)

    rss_before_data = current_rss_bytes()
    max_rss_before_data_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    vm_hwm_before_data_kib = vm_hwm_kib()
    raw = np.fromfile(config["file"], dtype="<f4", count=n * d)
    if raw.size != n * d:
        raise ValueError(f"{config['file']} holds {raw.size} floats, expected {n * d}")
    X = raw.astype(np.float64).reshape(n, d)
    input_bytes = raw.nbytes
    del raw
    rss_after_data = current_rss_bytes()

    def make_model(iterations):
        # init_params='random_from_data' only because sklearn 1.2 runs its init_params procedure
        # (default: a full k-means) before overriding it with the *_init arrays; this is the
        # cheapest one. All three *_init arrays are given, so the start is the same warm start.
        return GaussianMixture(
            n_components=k,
            covariance_type=covariance_type,
            tol=0,
            max_iter=iterations,
            reg_covar=config["regCovar"],
            init_params="random_from_data",
            weights_init=weights,
            means_init=means,
            precisions_init=precisions,
            random_state=0,
        )

    result = {
        "available": True,
        "sklearnVersion": sklearn.__version__,
        "numpyVersion": np.__version__,
        "python": sys.version.split()[0],
        "threadpools": threadpools,
        "covarianceType": covariance_type,
        "maxIter": max_iter,
        "inputFloat32Bytes": input_bytes,
        "float64Bytes": X.nbytes,
        "rssBeforeDataBytes": rss_before_data,
        "maxRssBeforeDataKiB": max_rss_before_data_kib,
        "vmHwmBeforeDataKiB": vm_hwm_before_data_kib,
        "rssAfterDataBytes": rss_after_data,
    }

    gm = make_model(max_iter)
    if config["fit"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            gm.fit(X)
            fit_seconds = time.perf_counter() - start
        result.update(
            {
                "fitMs": fit_seconds * 1000,
                "fitPerIterationMs": fit_seconds * 1000 / max_iter,
                "nIter": int(gm.n_iter_),
                "converged": bool(gm.converged_),
                # Mean log-likelihood at the E-step of the last iteration, i.e. of the parameters
                # after M - 1 M-steps (@mixseg/core's logLikelihoodTrace[M - 1]).
                "lowerBound": float(gm.lower_bound_),
                "means": gm.means_.tolist(),
                "weights": gm.weights_.tolist(),
            }
        )

    # Same warm start again, then E-step + M-step pairs timed one by one.
    gm.weights_ = weights.copy()
    gm.means_ = means.copy()
    gm.covariances_ = covariances.copy()
    gm.precisions_cholesky_ = _compute_precision_cholesky(covariances, covariance_type)
    loop_ms = []
    for _ in range(config["loopReps"]):
        start = time.perf_counter()
        _, log_resp = gm._e_step(X)
        gm._m_step(X, log_resp)
        loop_ms.append((time.perf_counter() - start) * 1000)
    loop_sorted = sorted(loop_ms)
    middle = len(loop_sorted) // 2
    loop_median = (
        loop_sorted[middle]
        if len(loop_sorted) % 2
        else (loop_sorted[middle - 1] + loop_sorted[middle]) / 2
    )
    peak = vm_hwm_kib()
    ru_max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result.update(
        {
            "loopIterationMs": loop_ms,
            "medianIterationMs": loop_median,
            "peakRssKiB": peak if peak is not None else ru_max_rss,
            "peakSource": "VmHWM" if peak is not None else "ru_maxrss",
            "ruMaxRssKiB": ru_max_rss,
        }
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
