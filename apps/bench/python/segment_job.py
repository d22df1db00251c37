"""The peers' side of `pnpm bench cli`: the same job as `mixseg segment`, end to end, with
scikit-learn or dipy: read each image (nibabel), take the mask (a mask file, or the nonzero voxels as
mixseg's default), fit, label, and write a label map and one probability map per class as .nii.gz
(gzip level 6, mixseg's, instead of nibabel's default 1, so that both write the same bytes' worth
of work), for a list of inputs, several at once with --jobs N (one process each).

usage: segment_job.py <sklearn|dipy> --out <dir> [--mask <file>] [--jobs N] <input.nii.gz>...
Prints one JSON line: per input, seconds and voxels; the whole batch's seconds.
"""
import argparse
import json
import os
import sys
import time
from multiprocessing import Pool


def stem_of(path):
    name = os.path.basename(path)
    for suffix in (".nii.gz", ".nii"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def segment_one(task):
    peer, path, mask_path, out = task
    import nibabel as nib
    import numpy as np

    nib.openers.Opener.default_compresslevel = 6
    started = time.perf_counter()
    image = nib.load(path)
    data = np.asarray(image.dataobj, dtype=np.float64)
    while data.ndim > 3:
        data = data[..., 0]
    if mask_path:
        mask = np.asarray(nib.load(mask_path).dataobj) > 0
        while mask.ndim > 3:
            mask = mask[..., 0]
    else:
        mask = data != 0
    if peer == "sklearn":
        from sklearn.mixture import GaussianMixture

        x = data[mask].reshape(-1, 1)
        fit = GaussianMixture(3, covariance_type="full", random_state=0).fit(x)
        order = np.argsort(fit.means_[:, 0])
        rank = np.argsort(order)
        labels = np.zeros(data.shape, np.uint8)
        labels[mask] = rank[fit.predict(x)] + 1
        responsibilities = fit.predict_proba(x)[:, order]
    else:
        from dipy.segment.tissue import TissueClassifierHMRF

        np.random.seed(0)
        masked = np.where(mask, data, 0)
        _, final, pve = TissueClassifierHMRF(verbose=False).classify(masked, 3, 0.1)
        found = [k for k in (1, 2, 3) if np.any((final == k) & mask)]
        if len(found) == 0:
            raise RuntimeError("dipy labelled no voxel of the mask as tissue")
        means = [masked[(final == k) & mask].mean() for k in found]
        ordered = list(np.array(found)[np.argsort(means)])
        labels = np.zeros(data.shape, np.uint8)
        for rank, k in enumerate(ordered):
            labels[(final == k) & mask] = rank + 1
        # pve holds the tissue classes only: class k (1..3) is pve[..., k - 1]
        responsibilities = np.stack([pve[..., k - 1][mask] for k in ordered], axis=1)
    stem = stem_of(path)
    header = image.header.copy()
    label_image = nib.Nifti1Image(labels, image.affine, header)
    label_image.set_data_dtype(np.uint8)
    nib.save(label_image, os.path.join(out, f"{stem}_dseg.nii.gz"))
    for k, name in enumerate(("CSF", "GM", "WM")):
        volume = np.zeros(data.shape, np.float32)
        volume[mask] = responsibilities[:, k]
        probability = nib.Nifti1Image(volume, image.affine, header)
        probability.set_data_dtype(np.float32)
        nib.save(probability, os.path.join(out, f"{stem}_label-{name}_probseg.nii.gz"))
    return {"input": path, "seconds": time.perf_counter() - started, "voxels": int(mask.sum())}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("peer", choices=("sklearn", "dipy"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--mask")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("inputs", nargs="+")
    arguments = parser.parse_args()
    try:
        import nibabel  # noqa: F401

        if arguments.peer == "sklearn":
            import sklearn  # noqa: F401
        else:
            import dipy  # noqa: F401
    except ImportError as error:
        print(json.dumps({"available": False, "error": repr(error)}))
        sys.exit(3)
    os.makedirs(arguments.out, exist_ok=True)
    tasks = [(arguments.peer, path, arguments.mask, arguments.out) for path in arguments.inputs]
    started = time.perf_counter()
    if arguments.jobs > 1:
        with Pool(arguments.jobs) as pool:
            subjects = pool.map(segment_one, tasks, chunksize=1)
    else:
        subjects = [segment_one(task) for task in tasks]
    print(json.dumps({"subjects": subjects, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
