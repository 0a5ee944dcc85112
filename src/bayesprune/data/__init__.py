"""Data sets: the paper's seven files, scikit-learn's embedded sets, and user CSVs."""

from bayesprune.data.datasets import (
    Dataset,
    clip_inputs,
    clip_range,
    load_csv,
    load_dataset,
    log_target,
    resolve_data_dir,
)
from bayesprune.data.download import fetch, verify
from bayesprune.data.registry import PAPER_DATASETS, DatasetInfo, all_datasets, get_info

__all__ = [
    "PAPER_DATASETS",
    "Dataset",
    "DatasetInfo",
    "fetch",
    "get_info",
    "load_csv",
    "load_dataset",
    "log_target",
    "all_datasets",
    "clip_inputs",
    "clip_range",
    "resolve_data_dir",
    "verify",
]
