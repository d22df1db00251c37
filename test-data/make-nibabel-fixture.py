#!/usr/bin/python3
"""nibabel's view of the shared MR files, for @mixseg/imaging's NIfTI reader and writer tests.

Two modes, both run from the repository root with Debian's Python (python3-nibabel, python3-numpy):

    /usr/bin/python3 test-data/make-nibabel-fixture.py
        Reads the NIfTI files listed in FILES from ../shared/data (or --data DIR) and writes
        test-data/nibabel-reference.json: per file, the header fields and affine nibabel reports
        and a summary of the scaled data (sums, extremes, nonzero count, values at fixed voxels).

    /usr/bin/python3 test-data/make-nibabel-fixture.py --check FOLDER
        Checks files that packages/imaging/test/nifti.test.ts wrote into FOLDER (it does so when
        MIXSEG_NIFTI_CHECK_DIR=FOLDER is set), as listed in FOLDER/manifest.json: nibabel must read
        each with its reference's affine and header geometry, the intended datatype, shape, intent
        code and cal_max, and exactly the intended data. Prints OK or MISMATCH per file; exits 1 on
        any mismatch.

Deterministic: the fixed voxels are chosen from each image's size and data, not at random.
"""

import argparse
import gzip
import io
import json
import math
import platform
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPOSITORY.parent / "shared" / "data"
OUTPUT = REPOSITORY / "test-data" / "nibabel-reference.json"

# Relative to the shared data folder; each has a quirk the reader must get right.
FILES = [
    "sri24/spgr.nii.gz",  # int16, 4-D header with nt = 1, scl_slope 0, sform only, LAS
    "sri24/tissues.nii.gz",  # uint8 labels 0-3, same header style
    "mni152/MNI152_T1_2mm_Brain.nii.gz",  # float32, qform and sform (code 4), qfac -1
    "mni152/MNI152_T1_2mm_Brain_FAST_seg.nii.gz",  # int32 labels
    "spm12/OldSeg_grey.nii",  # big-endian uint8, scl_slope 1/255, uncompressed
    "chris-t1/chris_t1.nii.gz",  # uint8 head with skull, 0.88 mm
    "nii2mesh/pve_1.nii.gz",  # uint8, scl_slope 1/255, oblique qform and sform that differ slightly
    "icbm2009a/mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz",  # uint8, sform only, unknown units
    "mni152/MNI152_T1_1mm_Brain.nii.gz",  # float32, qform_code 2 > sform_code 1
]

N_EVEN = 20  # evenly spaced voxel indices, plus a few chosen by the data


def number(value):
    """A float for JSON; NaN and infinities as the strings JavaScript's Number() reads."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def matrix(values):
    return [[number(v) for v in row] for row in np.asarray(values, dtype=np.float64)]


def file_bytes(path):
    with (gzip.open if str(path).endswith(".gz") else open)(path, "rb") as handle:
        return handle.read()


def raw_header(path):
    """The header as stored (nib.load's img.header has scl_slope/inter and vox_offset reset)."""
    return nib.Nifti1Header.from_fileobj(io.BytesIO(file_bytes(path)), check=False)


def first_volume(img):
    data = img.get_fdata(dtype=np.float64)
    return data[..., 0] if data.ndim == 4 else data


def data_summary(data):
    """Summary of float64 data in NIfTI voxel order (x fastest, Fortran order)."""
    flat = data.ravel(order="F")
    n = flat.size
    as_float32 = flat.astype(np.float32).astype(np.float64)
    nonzero = np.flatnonzero(flat)
    finite = flat[np.isfinite(flat)]
    indices = {int(round(i * (n - 1) / (N_EVEN - 1))) for i in range(N_EVEN)}
    shape = data.shape
    centre = (shape[0] // 2) + shape[0] * ((shape[1] // 2) + shape[1] * (shape[2] // 2))
    indices.add(int(centre))
    if finite.size:
        indices.add(int(np.nanargmax(flat)))
        indices.add(int(np.nanargmin(flat)))
    if nonzero.size:
        indices.update({int(nonzero[0]), int(nonzero[-1]), int(nonzero[nonzero.size // 2])})
    indices = sorted(indices)
    return {
        "count": int(n),
        "sum": number(math.fsum(finite)),
        "sumOfSquares": number(math.fsum(finite * finite)),
        "sumFloat32": number(math.fsum(as_float32[np.isfinite(as_float32)])),
        "sumOfSquaresFloat32": number(
            math.fsum(as_float32[np.isfinite(as_float32)] * as_float32[np.isfinite(as_float32)])
        ),
        "min": number(finite.min()) if finite.size else None,
        "max": number(finite.max()) if finite.size else None,
        "nonzero": int(nonzero.size),
        "nonFinite": int(n - finite.size),
        "indices": indices,
        "values": [number(flat[i]) for i in indices],
    }


def describe(path):
    img = nib.load(str(path))
    raw = raw_header(path)
    proxy = img.dataobj
    return {
        "shape": [int(s) for s in img.shape],
        "datatype": raw.get_data_dtype().name,
        "datatypeCode": int(raw["datatype"]),
        "byteOrder": "little" if raw.endianness == "<" else "big",
        "decompressedBytes": len(file_bytes(path)),
        "voxOffset": number(raw["vox_offset"]),
        "sclSlope": number(raw["scl_slope"]),
        "sclInter": number(raw["scl_inter"]),
        "scaling": {"slope": number(proxy.slope), "inter": number(proxy.inter)},
        "qformCode": int(raw["qform_code"]),
        "sformCode": int(raw["sform_code"]),
        "qform": matrix(raw.get_qform()),
        "sform": matrix(raw.get_sform()),
        "affine": matrix(img.affine),
        "zooms": [number(z) for z in raw.get_zooms()],
        "pixdim": [number(p) for p in raw["pixdim"]],
        "xyztUnits": int(raw["xyzt_units"]),
        "orientation": "".join(nib.aff2axcodes(img.affine)),
        "data": data_summary(first_volume(img)),
    }


def make_fixture(data_folder):
    result = {
        "versions": {
            "nibabel": nib.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "settings": {
            "data": "first volume of img.get_fdata(dtype=float64), flattened in NIfTI order (x fastest)",
            "sums": "math.fsum over finite values; *Float32 after rounding each value to float32",
            "indices": f"{N_EVEN} evenly spaced, the centre voxel, argmax, argmin, first/middle/last nonzero",
        },
        "files": {},
    }
    for name in FILES:
        print(f"reading {name}", file=sys.stderr)
        result["files"][name] = describe(data_folder / name)
    OUTPUT.write_text(json.dumps(result, separators=(",", ":")) + "\n")
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes)", file=sys.stderr)


GEOMETRY_FIELDS = ["qform_code", "sform_code", "quatern_b", "quatern_c", "quatern_d",
                   "qoffset_x", "qoffset_y", "qoffset_z", "srow_x", "srow_y", "srow_z", "xyzt_units"]


def squeeze_volume(array):
    return array[..., 0] if array.ndim == 4 and array.shape[3] == 1 else array


def expected_labels(entry, folder):
    if "labels" in entry:
        reference = nib.load(str(resolve(entry["reference"], folder)))
        shape = squeeze_volume(np.empty(reference.shape, dtype=np.uint8)).shape
        return np.asarray(entry["labels"], dtype=np.uint8).reshape(shape, order="F")
    return squeeze_volume(np.asanyarray(nib.load(str(resolve(entry["labelsFrom"], folder))).dataobj)).astype(np.uint8)


def resolve(name, folder):
    path = Path(name)
    return path if path.is_absolute() else folder / path


def check_entry(entry, folder):
    """Returns a list of problems (empty when nibabel agrees)."""
    problems = []
    path = folder / entry["file"]
    img = nib.load(str(path))
    raw = raw_header(path)
    reference_path = resolve(entry["reference"], folder)
    reference = nib.load(str(reference_path))
    reference_raw = raw_header(reference_path)

    difference = float(np.max(np.abs(img.affine - reference.affine)))
    if difference > 1e-6:
        problems.append(f"affine differs from the reference's by {difference:g}")
    for field in GEOMETRY_FIELDS:
        if not np.array_equal(raw[field], reference_raw[field]):
            problems.append(f"{field} is {raw[field]}, the reference has {reference_raw[field]}")
    if not np.array_equal(raw["pixdim"][:4], reference_raw["pixdim"][:4]):
        problems.append(f"pixdim[0..3] is {raw['pixdim'][:4]}, the reference has {reference_raw['pixdim'][:4]}")
    if raw["magic"].item() != b"n+1" or float(raw["vox_offset"]) != 352:
        problems.append(f"magic {raw['magic']} vox_offset {raw['vox_offset']}, expected n+1 and 352")

    labels = expected_labels(entry, folder)
    kind = entry["kind"]
    data = np.asanyarray(img.dataobj)
    if kind == "labels":
        expected, dtype, intent = labels, "uint8", 1002
        if float(raw["cal_max"]) != float(labels.max()) or float(raw["cal_min"]) != 0:
            problems.append(f"cal_min/cal_max {raw['cal_min']}/{raw['cal_max']}, expected 0/{labels.max()}")
    else:
        on, off = np.float32(entry["on"]), np.float32(entry["off"])
        classes = range(entry["nClasses"]) if kind == "probabilities" else [entry["classIndex"]]
        maps = [np.where(labels == k, on, off).astype(np.float32) for k in classes]
        expected = np.stack(maps, axis=-1) if kind == "probabilities" else maps[0]
        dtype, intent = "float32", 0
    if data.dtype != np.dtype(dtype):
        problems.append(f"data type {data.dtype}, expected {dtype}")
    if int(raw["intent_code"]) != intent:
        problems.append(f"intent_code {int(raw['intent_code'])}, expected {intent}")
    if data.shape != expected.shape:
        problems.append(f"shape {data.shape}, expected {expected.shape}")
    elif not np.array_equal(data, expected):
        problems.append(f"{int(np.sum(data != expected))} voxels differ from the intended data")
    summary = f"{kind}, shape {data.shape}, {data.dtype}, affine = reference's ({reference_path.name})"
    return problems, summary


def check(folder):
    manifest = json.loads((folder / "manifest.json").read_text())
    failures = 0
    for entry in manifest["files"]:
        try:
            problems, summary = check_entry(entry, folder)
        except Exception as error:  # a file nibabel cannot read is a mismatch, not a crash
            problems, summary = [f"nibabel cannot read it: {error!r}"], ""
        if problems:
            failures += 1
            print(f"MISMATCH {entry['file']}: " + "; ".join(problems))
        else:
            print(f"OK {entry['file']}: {summary}")
    print(f"nibabel {nib.__version__}: {len(manifest['files']) - failures} OK, {failures} mismatched")
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--check", type=Path, metavar="FOLDER", help="check files written by the tests")
    arguments = parser.parse_args()
    if arguments.check is not None:
        sys.exit(check(arguments.check.resolve()))
    make_fixture(arguments.data.resolve())


if __name__ == "__main__":
    main()
