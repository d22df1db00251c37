#!/usr/bin/env python3
"""Checks mixseg's outputs with nibabel (run by hand; the tests need no Python).

usage: /usr/bin/python3 apps/cli/scripts/check-nibabel.py <input.nii.gz> <out-dir>

Reads the input and, for its stem, the label map and every probability map in <out-dir>: same
shape, same affine (sform and qform, with their codes), labels uint8 in 0..K with the label
intent, probabilities float32 summing to 1 inside the labels and 0 outside. Needs Debian's
python3-nibabel (apt-get install python3-nibabel).
"""
import glob
import json
import os
import sys

import nibabel as nib
import numpy as np


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    source, out_dir = sys.argv[1], sys.argv[2]
    stem = os.path.basename(source)
    for extension in ('.nii.gz', '.nii'):
        if stem.endswith(extension):
            stem = stem[: -len(extension)]
    image = nib.load(source)
    dseg = nib.load(os.path.join(out_dir, f'{stem}_dseg.nii.gz'))
    sidecar = json.load(open(os.path.join(out_dir, f'{stem}_dseg.json')))
    classes = [c['Abbreviation'] for c in sidecar['Classes']]
    problems = []

    def same_geometry(name, other):
        if other.shape[:3] != image.shape[:3]:
            problems.append(f'{name}: shape {other.shape} != {image.shape}')
        for what in ('sform', 'qform'):
            mine, code = getattr(image, f'get_{what}')(coded=True)
            theirs, their_code = getattr(other, f'get_{what}')(coded=True)
            if code != their_code:
                problems.append(f'{name}: {what} code {their_code} != {code}')
            elif mine is not None and not np.allclose(mine, theirs, atol=1e-4):
                problems.append(f'{name}: {what} differs')

    same_geometry('dseg', dseg)
    labels = np.asarray(dseg.dataobj)
    if labels.dtype != np.uint8:
        problems.append(f'dseg dtype {labels.dtype}, expected uint8')
    if labels.max() > len(classes):
        problems.append(f'dseg has label {labels.max()} > {len(classes)} classes')
    if int(dseg.header['intent_code']) != 1002:
        problems.append(f"dseg intent_code {dseg.header['intent_code']}, expected 1002 (label)")
    total = np.zeros(labels.shape, dtype=np.float64)
    for abbreviation in classes:
        path = os.path.join(out_dir, f'{stem}_label-{abbreviation}_probseg.nii.gz')
        if not os.path.exists(path):
            continue
        probseg = nib.load(path)
        same_geometry(f'probseg {abbreviation}', probseg)
        values = np.asarray(probseg.dataobj)
        if values.dtype != np.float32:
            problems.append(f'probseg {abbreviation} dtype {values.dtype}')
        total += values
    probseg_files = glob.glob(os.path.join(out_dir, f'{stem}_label-*_probseg.nii.gz'))
    if probseg_files:
        inside = labels > 0
        if not np.allclose(total[inside], 1, atol=1e-4):
            problems.append('probabilities do not sum to 1 inside the labels')
        if np.any(total[~inside] != 0):
            problems.append('probabilities are not 0 outside the labels')
    volumes = {abbreviation: int((labels == k + 1).sum()) for k, abbreviation in enumerate(classes)}
    print(f'nibabel {nib.__version__}: {stem}: shape {labels.shape}, {len(probseg_files)} probability maps, voxels {volumes}')
    for problem in problems:
        print(f'PROBLEM: {problem}')
    print('OK' if not problems else f'{len(problems)} problem(s)')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
