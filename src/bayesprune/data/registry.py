"""The named data sets: the paper's seven files, MNIST and scikit-learn's embedded sets (the UCI regression
sets on their fixed splits are found by folder: :mod:`bayesprune.data.standard`).

Each entry records the file format, the target, the task, the paper's preprocessing and its topology
(docs/DATA.md); checksums are those of the files the authors published with their code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Task = Literal["regression", "classification"]
Scaling = Literal["minmax", "zscore", "none"]


@dataclass(frozen=True)
class DatasetInfo:
    """How to find, read and preprocess one named data set.

    Attributes
    ----------
    name
        Registry key (``bayesprune run --dataset NAME``).
    task
        ``"regression"`` or ``"classification"``.
    source
        ``"file"`` (found in the data directory) or ``"sklearn"`` (embedded, always available).
    path
        File path relative to the data directory (``source == "file"``).
    sha256
        Checksums of the files that make up the data set, relative path -> hex digest.
    sep, header
        Delimiter and whether the first row is a header.
    features
        Feature columns (names when there is a header, else ``None`` = every column but the target).
    target
        Target column name, or ``None`` for the last column.
    hidden
        Hidden layer widths used by the paper.
    scale_features, scale_target
        The paper's preprocessing: min-max, z-score or none (target scaling only for regression).
    """

    name: str
    task: Task
    source: Literal["file", "sklearn"]
    description: str
    hidden: tuple[int, ...]
    path: str | None = None
    sha256: dict[str, str] = field(default_factory=dict)
    sep: str = ","
    header: bool = False
    features: tuple[str, ...] | None = None
    target: str | None = None
    scale_features: Scaling = "none"
    scale_target: Scaling = "none"
    sklearn_loader: str | None = None
    fallback: str | None = None  # embedded set used when the file is absent
    base_url: str | None = None  # files fetched one by one from here (else from the paper's archive)


PAPER_DATASETS: tuple[str, ...] = (
    "lazer",
    "sunspot",
    "abalone",
    "iris",
    "ionosphere",
    "abalone_classification",
    "reef_325",
)

_R: dict[str, DatasetInfo] = {}


def _add(info: DatasetInfo) -> None:
    _R[info.name] = info


_add(DatasetInfo(
    name="lazer", task="regression", source="file",
    description="Santa Fe laser series, 4 lags -> next value",
    hidden=(5,), path="lazer/Lazer_processed.csv",
    sha256={
        "lazer/Lazer_processed.csv": "c69aa64a5863591691dcd990432515c3200fd6cfadf1ca19d4a3e3717f82e034",
        "lazer/train.txt": "d91b3e6f6b063583b5b19777c01330d995625960a867a82c7a9ef26f7157bd15",
        "lazer/test.txt": "082c2344ea91fd2dcf616bddbd86b6611d5d17181ae7ae4390e2d974af92d2a4",
    },
    scale_features="minmax", scale_target="minmax",
))
_add(DatasetInfo(
    name="sunspot", task="regression", source="file",
    description="Sunspot numbers, 4 lags -> next value",
    hidden=(5,), path="sunspot/Sunspots.csv",
    sha256={
        "sunspot/Sunspots.csv": "f642c737df86af320cf19d634b9864b5793374d7919af48c211d7d2b3d261832",
        "sunspot/train.txt": "1f76f05ba81f7046c4b614ff0007733bfb77649b277a36d732be5c0aebcf322a",
        "sunspot/test.txt": "a7c405e9204310c63a4159b142835f516ae67ed9223b5b07b72adeacb4f16758",
    },
    scale_features="minmax", scale_target="minmax",
))
_add(DatasetInfo(
    name="abalone", task="regression", source="file",
    description="UCI Abalone: sex (1/2/3) and 7 measurements -> rings",
    hidden=(12,), path="abalone/abalone.csv",
    sha256={
        "abalone/abalone.csv": "567e46087325050f2aa0d0438285416fd8b32f912ba339d8a511d74900bc25de",
        "abalone/abalone.names": "542eee5a2a0ee72db563de010dc3b5055b03c5dc624049ae1f2208fc66a14aac",
    },
    scale_features="minmax", scale_target="minmax",
))
_add(DatasetInfo(
    name="iris", task="classification", source="file",
    description="UCI Iris, 3 classes (scikit-learn's copy when the file is absent)",
    hidden=(12,), path="iris/iris.csv", sep=";",
    sha256={"iris/iris.csv": "e311eac463eaed399b2508bba5285daa8633c600203822256727b339c5dbcbf0"},
    scale_features="zscore", fallback="sklearn:iris",
))
_add(DatasetInfo(
    name="ionosphere", task="classification", source="file",
    description="UCI Ionosphere radar returns, 2 classes",
    hidden=(50,), path="ionosphere/ionosphere.csv",
    sha256={
        "ionosphere/ionosphere.csv": "2dd4ba1427578c8b2f48d062d60d27d8b699ffc0ecfe2459e65138298e20ef6e",
        "ionosphere/ionosphere.data": "46d52186b84e20be52918adb93e8fb9926b34795ff7504c24350ae0616a04bbd",
    },
    scale_features="minmax",
))
_add(DatasetInfo(
    name="abalone_classification", task="classification", source="file",
    description="UCI Abalone, 4 age classes (unbalanced 448/3239/454/36)",
    hidden=(12,), path="abalone_classification/abalone_classification.csv",
    sha256={
        "abalone_classification/abalone_classification.csv":
            "1a355c2161fb0dfe91def912bbb27e0e2fef39ae7f99e5a8a425d21242c479a1",
    },
    scale_features="none",
))
_add(DatasetInfo(
    name="reef_325", task="classification", source="file",
    description="Coral reef drill core 325: Bulk, Porosity, Resistivity -> 6 lithologies",
    hidden=(8,), path="reef_325/Unbalanced_325.csv", header=True,
    features=("Bulk", "Porosity", "Resistivity"), target="Species",
    sha256={
        "reef_325/Unbalanced_325.csv": "266fb8bc6ef852fc93b95346a93b5b9d81f850e10f2c3d0b0c6c3640a764c1f2",
    },
    scale_features="minmax",
))
# scikit-learn's embedded sets: always available, no data directory needed.
_add(DatasetInfo(
    name="mnist", task="classification", source="file",
    description="MNIST digits, 28x28 pixels in [0, 1], the standard 60,000 / 10,000 split (LeNet-300-100)",
    hidden=(300, 100), path="mnist/train-images-idx3-ubyte.gz",
    base_url="https://storage.googleapis.com/cvdf-datasets/mnist/",
    sha256={
        "mnist/train-images-idx3-ubyte.gz": "db8f937d487057fb14a9f0fbe97f0bc8d311ab41b750d41e1ff37c43b9e55e19",
        "mnist/train-labels-idx1-ubyte.gz": "51fc562b6747b666fbf6e84ce29d43c3cb5f9c388c664d43b33f02095313405a",
        "mnist/t10k-images-idx3-ubyte.gz": "cfeddb84311ecf044fc6a5b0f6ee8a24d265d4e83e388400186eb114082f4209",
        "mnist/t10k-labels-idx1-ubyte.gz": "e41c74e484045d39b462a7790a4af51301bd9b0b24f0154798d713ec68c45920",
    },
))
_add(DatasetInfo(
    name="sklearn:iris", task="classification", source="sklearn", sklearn_loader="load_iris",
    description="Iris from scikit-learn (embedded)", hidden=(12,), scale_features="zscore",
))
_add(DatasetInfo(
    name="wine", task="classification", source="sklearn", sklearn_loader="load_wine",
    description="Wine recognition from scikit-learn (embedded), 3 classes", hidden=(12,),
    scale_features="zscore",
))
_add(DatasetInfo(
    name="breast_cancer", task="classification", source="sklearn",
    sklearn_loader="load_breast_cancer",
    description="Breast cancer Wisconsin from scikit-learn (embedded), 2 classes", hidden=(20,),
    scale_features="zscore",
))
_add(DatasetInfo(
    name="diabetes", task="regression", source="sklearn", sklearn_loader="load_diabetes",
    description="Diabetes progression from scikit-learn (embedded)", hidden=(10,),
    scale_features="zscore", scale_target="minmax",
))
_add(DatasetInfo(
    name="digits", task="classification", source="sklearn", sklearn_loader="load_digits",
    description="8x8 handwritten digits from scikit-learn (embedded), 10 classes", hidden=(32,),
    scale_features="minmax",
))


def all_datasets() -> dict[str, DatasetInfo]:
    """All named data sets, by name."""
    return dict(_R)


def get_info(name: str) -> DatasetInfo:
    """Look a data set up by name, with an error that lists the known names."""
    from bayesprune.errors import InputError

    try:
        return _R[name]
    except KeyError:
        known = ", ".join(sorted(n for n in _R if not n.startswith("sklearn:")))
        raise InputError(
            f"unknown data set '{name}'; choose one of {known}, or give your own with --csv PATH --target COL"
        ) from None
