"""nibabel side of the imaging I/O benchmark (run by apps/bench/src/imaging-io.ts).

Usage: /usr/bin/python3 nibabel_io.py '<config JSON>'

config (mode "bench"): {"mode": "bench", "input", "dims": [nx, ny, nz], "nClasses", "repetitions",
    "labelsFile", "probabilitiesFile", "compressLevel": int or null,
    "outputs": {"labels", "probabilities", "perClass": [path per class]}}

  1. reads `input` with nib.load(path).get_fdata(dtype=np.float32) 1 + `repetitions` times (the
     first call is the cold one, the others are warm);
  2. reads the same synthetic labels (raw uint8, nVoxels) and probabilities (raw little-endian
     float32, nVoxels x K, voxel-major) that @mixseg/imaging writes, as numpy views without copies
     (x fastest, as NIfTI stores voxels), so that any reordering is part of the timed writes on
     both sides;
  3. `repetitions` times, each timed on its own: the uint8 label map (intent "label") with the
     input's affine and header, the K classes as one 4-D float32 file, and as K 3-D float32 files,
     all .nii.gz. Writing the reference image's header is what mixseg's writers do too.
  gzip: nibabel's Opener.default_compresslevel unless "compressLevel" is given.

config (mode "verify"): {"mode": "verify", "input", "dims", "nClasses", "labelsFile",
    "probabilitiesFile", "outputs": {"<tool>": {"labels", "probabilities", "perClass"}}}
  loads every output of every tool with nibabel and compares it with the expected arrays and the
  input's geometry. Not timed.

Prints one JSON line on stdout. If nibabel cannot be imported, prints {"available": false}.
"""

import json
import resource
import sys
import time

from memory import current_rss_bytes, vm_hwm_kib


def load_expected(np, config):
    """Labels (nx, ny, nz) uint8 and probabilities (nx, ny, nz, K) float32, as views of the files."""
    nx, ny, nz = config["dims"]
    n_voxels = nx * ny * nz
    k = config["nClasses"]
    labels_flat = np.fromfile(config["labelsFile"], dtype=np.uint8)
    probabilities_flat = np.fromfile(config["probabilitiesFile"], dtype="<f4")
    if labels_flat.size != n_voxels:
        raise ValueError(f"{config['labelsFile']} holds {labels_flat.size} bytes, expected {n_voxels}")
    if probabilities_flat.size != n_voxels * k:
        raise ValueError(
            f"{config['probabilitiesFile']} holds {probabilities_flat.size} floats, expected {n_voxels * k}"
        )
    labels = labels_flat.reshape((nx, ny, nz), order="F")
    # Voxel-major: element (v, k) at v * K + k with v = x + nx * (y + ny * z). As a Fortran-order
    # (K, nx, ny, nz) array that is index k + K * v; moving K last gives the (nx, ny, nz, K) view.
    probabilities = probabilities_flat.reshape((k, nx, ny, nz), order="F").transpose(1, 2, 3, 0)
    return labels, probabilities


def median(values):
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def bench(config, nib, np):
    default_level = nib.openers.Opener.default_compresslevel
    level = config.get("compressLevel")
    if level is not None:
        nib.openers.Opener.default_compresslevel = level
    try:
        import indexed_gzip  # noqa: F401 - nibabel uses it for .gz reads when present

        indexed_gzip_version = getattr(indexed_gzip, "__version__", "present")
    except ImportError:
        indexed_gzip_version = None

    repetitions = config["repetitions"]
    outputs = config["outputs"]
    rss_before = current_rss_bytes()
    vm_hwm_before = vm_hwm_kib()

    read_ms = []
    data = None
    for _ in range(1 + repetitions):
        data = None
        start = time.perf_counter()
        image = nib.load(config["input"])
        data = image.get_fdata(dtype=np.float32)
        read_ms.append((time.perf_counter() - start) * 1000)
    checksum = {
        "sum": float(data.sum(dtype=np.float64)),
        "nonzero": int(np.count_nonzero(data)),
        "shape": list(data.shape),
        "dtype": str(data.dtype),
    }
    reference = image
    del data
    rss_after_reads = current_rss_bytes()
    vm_hwm_after_reads = vm_hwm_kib()

    labels, probabilities = load_expected(np, config)
    k = config["nClasses"]

    def write(array, path, dtype, intent=None):
        out = nib.Nifti1Image(array, reference.affine, reference.header)
        out.set_data_dtype(dtype)
        if intent is not None:
            out.header.set_intent(intent)
        nib.save(out, path)

    write_labels_ms, write_probabilities_ms, write_per_class_ms = [], [], []
    for _ in range(repetitions):
        start = time.perf_counter()
        write(labels, outputs["labels"], np.uint8, "label")
        write_labels_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        write(probabilities, outputs["probabilities"], np.float32)
        write_probabilities_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        for c in range(k):
            write(probabilities[..., c], outputs["perClass"][c], np.float32)
        write_per_class_ms.append((time.perf_counter() - start) * 1000)

    peak = vm_hwm_kib()
    return {
        "available": True,
        "nibabelVersion": nib.__version__,
        "numpyVersion": np.__version__,
        "python": sys.version.split()[0],
        "indexedGzip": indexed_gzip_version,
        "defaultCompressLevel": default_level,
        "compressLevel": nib.openers.Opener.default_compresslevel,
        "readMs": read_ms,
        "coldReadMs": read_ms[0],
        "medianWarmReadMs": median(read_ms[1:]),
        "readChecksum": checksum,
        "writeLabelsMs": write_labels_ms,
        "writeProbabilitiesMs": write_probabilities_ms,
        "writePerClassMs": write_per_class_ms,
        "rssBeforeBytes": rss_before,
        "vmHwmBeforeKiB": vm_hwm_before,
        "rssAfterReadsBytes": rss_after_reads,
        "vmHwmAfterReadsKiB": vm_hwm_after_reads,
        "peakRssKiB": peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "peakSource": "VmHWM" if peak is not None else "ru_maxrss",
    }


def verify(config, nib, np):
    reference = nib.load(config["input"])
    labels, probabilities = load_expected(np, config)
    k = config["nClasses"]

    def check(path, expected, dtype, intent):
        image = nib.load(path)
        header = image.header
        data = np.asanyarray(image.dataobj)
        report = {
            "path": path,
            "shape": list(data.shape),
            "onDiskDtype": str(header.get_data_dtype()),
            "intentCode": int(header["intent_code"]),
            "sformCode": int(header["sform_code"]),
            "qformCode": int(header["qform_code"]),
            "affineMaxAbsDiff": float(np.max(np.abs(image.affine - reference.affine))),
            "slopeInter": [None if v is None else float(v) for v in header.get_slope_inter()],
        }
        if data.ndim == expected.ndim + 1 and data.shape[-1] == 1:
            data = data[..., 0]  # a 3-D image stored with dim[0] = 4 and one volume
        shape_ok = tuple(data.shape) == expected.shape
        report["dataMaxAbsDiff"] = (
            float(np.max(np.abs(data.astype(np.float64) - expected.astype(np.float64)))) if shape_ok else None
        )
        report["ok"] = bool(
            shape_ok
            and report["onDiskDtype"] == dtype
            and report["dataMaxAbsDiff"] == 0
            and report["affineMaxAbsDiff"] < 1e-4
            and report["sformCode"] == int(reference.header["sform_code"])
            and report["qformCode"] == int(reference.header["qform_code"])
            and (intent is None or report["intentCode"] == intent)
        )
        return report

    tools = {}
    for tool, outputs in config["outputs"].items():
        files = [check(outputs["labels"], labels, "uint8", 1002)]
        files.append(check(outputs["probabilities"], probabilities, "float32", None))
        for c in range(k):
            files.append(check(outputs["perClass"][c], probabilities[..., c], "float32", None))
        tools[tool] = {"ok": all(f["ok"] for f in files), "files": files}
    return {"available": True, "tools": tools}


def main():
    config = json.loads(sys.argv[1])
    try:
        import nibabel as nib
        import nibabel.openers  # noqa: F401 - Opener.default_compresslevel
        import numpy as np
    except Exception as error:  # noqa: BLE001 - any import failure means "no nibabel column"
        print(json.dumps({"available": False, "error": repr(error)}))
        return
    if config["mode"] == "bench":
        result = bench(config, nib, np)
    elif config["mode"] == "verify":
        result = verify(config, nib, np)
    else:
        raise ValueError(f"mode must be 'bench' or 'verify', got {config['mode']!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
