"""Memory-allocator defaults for a crmroi process, set before numpy and pyarrow load.

Measured on the scale-20 KPI report (`benchmarks/bench_kpis.py`; docs/kpis.md, "Page
faults"): most of the report's system time was page faults, at 10-15 microseconds
each on a virtual machine, and two library defaults made them worse:

- numpy advises the kernel to back arrays of 4 MB and more with huge pages. Where
  the kernel's transparent-huge-page `defrag` setting is `madvise` (the usual
  default), each such fault may compact memory synchronously, and on a fragmented
  machine it does so without getting a huge page. `NUMPY_MADVISE_HUGEPAGE=0` turns
  the advice off, for every command (the import's peak memory is the same).
- pyarrow's default pool (mimalloc) hands freed pages back to the system within
  milliseconds, so the next compute function faults them in again.
  `ARROW_DEFAULT_MEMORY_POOL=system` (the C library's allocator, which keeps them)
  is set for the report commands only: it raised a 20-million-row import's peak
  memory from 1.29 to 1.56 GB, and the import's memory bound matters more than
  its speed.

Both are the libraries' own documented environment variables, read once when the
library is first imported. They are set only where the user has not set them
(export either to choose otherwise), and only take effect if numpy and pyarrow are
not yet imported: the entry point (`crmroi.cli.main`) sets the first before running
any command, and the report commands set the second before they load pyarrow;
loading `crmroi.cli` itself changes no environment.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

EVERY_COMMAND: dict[str, str] = {"NUMPY_MADVISE_HUGEPAGE": "0"}
REPORT_COMMANDS: dict[str, str] = {"ARROW_DEFAULT_MEMORY_POOL": "system"}


def prefer_fast_allocators(
    environ: MutableMapping[str, str] = os.environ, *, report: bool = False
) -> None:
    """Set `EVERY_COMMAND` (and with `report`, `REPORT_COMMANDS`) in `environ` where
    not set already (the user's choice wins)."""
    chosen = EVERY_COMMAND | (REPORT_COMMANDS if report else {})
    for name, value in chosen.items():
        environ.setdefault(name, value)
