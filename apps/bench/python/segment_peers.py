"""Peers for `pnpm bench segmentation`: scikit-learn's GaussianMixture (full, k-means init) and
dipy's HMRF (TissueClassifierHMRF, beta 0.1) on the voxels inside the reference mask.

usage: segment_peers.py <sklearn|dipy> [--image-type t1|t2|pd] <reference.nii.gz> <channel.nii.gz>...
The classes are labelled 1, 2, 3 (CSF, GM, WM) by the first channel's class means: ascending for
t1 (the default), descending for t2 and pd, as mixseg's imageType orders them.
Prints one JSON line: Dice per class (1, 2, 3), read and segment seconds, peak RSS in MiB.
If the peer cannot be imported, prints {"available": false, "error": ...} and exits 3.
"""
import argparse
import json
import sys
import time

from memory import vm_hwm_kib


def load_3d(nib, np, path, dtype=None):
    """The first volume as (nx, ny, nz): a 2-D slice stays (nx, ny, 1), as dipy needs 3-D."""
    data = np.asarray(nib.load(path).dataobj, dtype=dtype)
    while data.ndim > 3:
        data = data[..., 0]
    return data


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("peer", choices=("sklearn", "dipy"))
    parser.add_argument("--image-type", choices=("t1", "t2", "pd"), default="t1")
    parser.add_argument("reference")
    parser.add_argument("channels", nargs="+")
    arguments = parser.parse_args()
    peer, reference_path, channels = arguments.peer, arguments.reference, arguments.channels
    # CSF is darkest on T1, brightest on T2 and PD: rank the class means by sign * mean.
    sign = 1 if arguments.image_type == "t1" else -1
    try:
        import nibabel as nib
        import numpy as np

        if peer == "sklearn":
            from sklearn.mixture import GaussianMixture
        else:
            from dipy.segment.tissue import TissueClassifierHMRF
    except ImportError as error:
        print(json.dumps({"available": False, "error": repr(error)}))
        sys.exit(3)

    started = time.perf_counter()
    reference = load_3d(nib, np, reference_path)
    mask = reference > 0
    images = [load_3d(nib, np, c, np.float64) for c in channels]
    read_seconds = time.perf_counter() - started
    started = time.perf_counter()
    if peer == "sklearn":
        x = np.stack([image[mask] for image in images], axis=1)
        fit = GaussianMixture(3, covariance_type="full", random_state=0).fit(x)
        order = np.argsort(np.argsort(sign * fit.means_[:, 0]))
        labels = np.zeros(reference.shape, np.uint8)
        labels[mask] = order[fit.predict(x)] + 1
    else:
        # dipy draws noise for the zero background with numpy's global generator: seed it so that
        # the Dice is reproducible.
        np.random.seed(0)
        image = np.where(mask, images[0], 0)
        _, final, _ = TissueClassifierHMRF(verbose=False).classify(image, 3, 0.1)
        if not np.any((final >= 1) & mask):
            # Seen on a low-noise phantom: the parameters become NaN and every voxel is labelled -1.
            # That is a failure to report, not a Dice of 0.
            values = np.unique(final[mask]).tolist()
            print(json.dumps({"error": f"dipy labelled no voxel of the mask as tissue (labels {values})"}))
            sys.exit(4)
        # dipy's classes come in random order: rank them by mean intensity
        found = [k for k in (1, 2, 3) if np.any((final == k) & mask)]
        means = [sign * image[(final == k) & mask].mean() for k in found]
        ranked = {k: r + 1 for r, k in enumerate(np.array(found)[np.argsort(means)])}
        labels = np.zeros(reference.shape, np.uint8)
        for k, r in ranked.items():
            labels[(final == k) & mask] = r
    segment_seconds = time.perf_counter() - started
    dice = []
    for k in (1, 2, 3):
        a = (labels == k) & mask
        b = reference == k
        dice.append(float(2 * (a & b).sum() / max(a.sum() + b.sum(), 1)))
    hwm = vm_hwm_kib()
    print(
        json.dumps(
            {
                "dice": dice,
                "readSeconds": read_seconds,
                "segmentSeconds": segment_seconds,
                "seconds": read_seconds + segment_seconds,
                "peakMiB": hwm / 1024 if hwm else None,
            }
        )
    )


if __name__ == "__main__":
    main()
