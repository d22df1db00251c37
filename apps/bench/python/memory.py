"""Memory probes shared by the benchmark children (Linux /proc, with fallbacks)."""

import resource


def current_rss_bytes():
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize()


def vm_hwm_kib():
    """High-water RSS of this process's own address space (Linux), None elsewhere.

    Preferred over ru_maxrss, which keeps the high-water mark of the pre-exec copy of the forking
    parent (the Node benchmark process), so it reports at least the parent's RSS at spawn time.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None
