"""Peers for `pnpm bench segmentation`: scikit-learn's GaussianMixture (full, k-means init) and
dipy's HMRF (TissueClassifierHMRF, beta 0.1) on the voxels inside the reference mask.

usage: segment_peers.py <sklearn|dipy> <reference.nii.gz> <channel.nii.gz>...
Prints one JSON line: Dice per class (1, 2, 3), seconds, peak RSS in MiB.
"""
import json
import sys
import time

import nibabel as nib
import numpy as np

from memory import vm_hwm_kib


def main():
    peer, reference_path, *channels = sys.argv[1:]
    reference = np.asarray(nib.load(reference_path).dataobj).squeeze()
    mask = reference > 0
    images = [np.asarray(nib.load(c).dataobj, dtype=np.float64).squeeze() for c in channels]
    started = time.perf_counter()
    if peer == "sklearn":
        from sklearn.mixture import GaussianMixture

        x = np.stack([image[mask] for image in images], axis=1)
        fit = GaussianMixture(3, covariance_type="full", random_state=0).fit(x)
        order = np.argsort(np.argsort(fit.means_[:, 0]))
        labels = np.zeros(reference.shape, np.uint8)
        labels[mask] = order[fit.predict(x)] + 1
    elif peer == "dipy":
        from dipy.segment.tissue import TissueClassifierHMRF

        image = np.where(mask, images[0], 0)
        _, final, _ = TissueClassifierHMRF(verbose=False).classify(image, 3, 0.1)
        # dipy's classes come in random order: rank them by mean intensity
        found = [k for k in (1, 2, 3) if np.any((final == k) & mask)]
        means = [image[(final == k) & mask].mean() for k in found]
        ranked = {k: r + 1 for r, k in enumerate(np.array(found)[np.argsort(means)])}
        labels = np.zeros(reference.shape, np.uint8)
        for k, r in ranked.items():
            labels[(final == k) & mask] = r
    else:
        raise SystemExit(f"unknown peer {peer}")
    seconds = time.perf_counter() - started
    dice = []
    for k in (1, 2, 3):
        a = (labels == k) & mask
        b = reference == k
        dice.append(float(2 * (a & b).sum() / max(a.sum() + b.sum(), 1)))
    hwm = vm_hwm_kib()
    print(json.dumps({"dice": dice, "seconds": seconds, "peakMiB": hwm / 1024 if hwm else None}))


if __name__ == "__main__":
    main()
