"""Put MNIST, CIFAR-10, the Olivetti faces and Tiny Shakespeare into the data cache (make data).

Copies them from ``MLPRIVACY_DATA`` when that folder has them (checked against its
``SHA256SUMS`` when it lists them), else downloads them; every file is validated (arrays,
shapes, dtypes, labels; the text's SHA-256). Prints where each one is, its size, checksum and
origin, and the total. Exit status 0 when all four are there; 2, with the dataset's name and
the fix, when one cannot be had (no copy and no network). See mlprivacy_helpers.data.fetch_all.

Usage: mlprivacy-fetch-data
"""

from __future__ import annotations

import sys

from mlprivacy_helpers import data


def main() -> int:
    print(f"==> datasets into {data.data_cache_dir()}", flush=True)
    try:
        fetched = data.fetch_all()
    except data.DatasetUnavailableError as exc:
        print(f"make data: {exc}", file=sys.stderr)
        return 2
    for item in fetched:
        print(
            f"  {item.name:<15} {item.size_bytes / 1e6:7.1f} MB  sha256 {item.sha256[:16]}…  "
            f"{item.source}: {item.path}"
        )
    total = sum(item.size_bytes for item in fetched) / 1e6
    print(f"==> {len(fetched)} datasets, {total:.0f} MB in {data.data_cache_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
