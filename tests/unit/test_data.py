"""Loaders of the named data sets and user CSVs, and every input error (one line, names the place)."""

from __future__ import annotations

import numpy as np
import pytest

from bayesprune.data import PAPER_DATASETS, clip_inputs, clip_range, get_info, load_csv, load_dataset
from bayesprune.data.splits import split_indices
from bayesprune.data.table import decimal_year
from bayesprune.errors import InputError, OptionError

EXPECTED = {  # name: (n_rows, n_features, n_classes or None)
    "lazer": (498, 4, None),
    "sunspot": (1631, 4, None),
    "abalone": (4177, 8, None),
    "iris": (150, 4, 3),
    "ionosphere": (351, 34, 2),
    "abalone_classification": (4177, 8, 4),
    "reef_325": (3852, 3, 6),
}


@pytest.mark.parametrize("name", PAPER_DATASETS)
def test_paper_loaders(name, data_dir):
    n_rows, n_feat, n_classes = EXPECTED[name]
    ds = load_dataset(name, data_dir=data_dir, seed=3)
    assert ds.source.endswith(get_info(name).path)
    assert len(ds.y_train) + len(ds.y_test) == n_rows
    assert len(ds.y_test) == int(np.ceil(0.4 * n_rows))  # 60/40 split
    assert ds.X_train.shape[1] == ds.X_test.shape[1] == n_feat
    for a in (ds.X_train, ds.X_test, ds.y_train, ds.y_test):
        assert np.all(np.isfinite(a))
    if n_classes:
        assert len(ds.class_names) == n_classes
        assert set(np.unique(np.concatenate([ds.y_train, ds.y_test]))) == set(range(n_classes))
    info = get_info(name)
    if info.scale_features == "minmax":  # fitted on the training part only
        assert ds.X_train.min() == pytest.approx(0.0) and ds.X_train.max() == pytest.approx(1.0)
    if info.scale_target == "minmax":
        assert ds.y_train.min() == pytest.approx(0.0) and ds.y_train.max() == pytest.approx(1.0)
        back = ds.inverse_y(ds.y_train)
        assert back.max() > 1.0 or back.min() < 0.0 or np.allclose(back, ds.y_train)
    again = load_dataset(name, data_dir=data_dir, seed=3)
    np.testing.assert_array_equal(again.X_train, ds.X_train)
    other = load_dataset(name, data_dir=data_dir, seed=4)
    assert not np.array_equal(other.y_test, ds.y_test) or not np.array_equal(other.X_test, ds.X_test)


def test_reef_cr_line_endings_and_text_target(data_dir):
    raw = (data_dir / "reef_325/Unbalanced_325.csv").read_bytes()
    assert b"\r" in raw and b"\n" not in raw  # the quirk this loader must handle
    ds = load_dataset("reef_325", data_dir=data_dir)
    assert ds.feature_names == ["Bulk", "Porosity", "Resistivity"]
    assert "CorAlg" in ds.class_names


def test_reef_via_csv_path(data_dir):
    ds = load_csv(data_dir / "reef_325/Unbalanced_325.csv", target="Species",
                  features=["Bulk", "Porosity", "Resistivity"])
    assert ds.task == "classification" and len(ds.class_names) == 6


@pytest.mark.parametrize("name,task", [("iris", "classification"), ("wine", "classification"),
                                       ("breast_cancer", "classification"), ("diabetes", "regression"),
                                       ("digits", "classification")])
def test_embedded_sets_need_no_data_dir(name, task, no_data_env):
    ds = load_dataset(name)
    assert ds.task == task
    assert ds.source.startswith("scikit-learn")
    n = len(ds.y_train) + len(ds.y_test)
    assert len(ds.y_train) == n - int(np.ceil(0.4 * n))


def test_stratified_split_keeps_class_shares(no_data_env):
    ds = load_dataset("iris", stratify=True, seed=1)
    assert np.bincount(ds.y_test).tolist() == [20, 20, 20]


def _write(tmp_path, text, name="data.csv", mode="w"):
    p = tmp_path / name
    if mode == "wb":
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


GOOD = "a,b,label\n" + "\n".join(f"{i},{i * 2 % 7},{'x' if i % 2 else 'y'}" for i in range(20)) + "\n"


def test_csv_text_labels_and_task_inference(tmp_path):
    ds = load_csv(_write(tmp_path, GOOD), target="label")
    assert ds.task == "classification" and ds.class_names == ["x", "y"]
    reg = "a,b,t\n" + "\n".join(f"{i},{i % 3},{i * 0.37}" for i in range(30))
    assert load_csv(_write(tmp_path, reg, "r.csv"), target="t").task == "regression"


def test_csv_crlf_and_cr_endings_load_the_same(tmp_path):
    lf = load_csv(_write(tmp_path, GOOD), target="label")
    cr = load_csv(_write(tmp_path, GOOD.replace("\n", "\r"), "cr.csv"), target="label")
    crlf = load_csv(_write(tmp_path, GOOD.replace("\n", "\r\n"), "crlf.csv"), target="label")
    np.testing.assert_array_equal(lf.X_train, cr.X_train)
    np.testing.assert_array_equal(lf.X_train, crlf.X_train)


def test_headerless_csv_uses_column_numbers(tmp_path):
    body = "\n".join(f"{i};{i + 1};{i % 2}" for i in range(20))
    ds = load_csv(_write(tmp_path, body), target="2")
    assert ds.feature_names == ["x0", "x1"] and ds.task == "classification"


def test_a_column_of_dates_is_one_numeric_input_its_decimal_year(tmp_path):
    """Year first, as ISO 8601 writes dates (vega's cars.json has 'Year': '1970-01-01'; seattle-weather.csv
    '2012/01/01'), with or without a time; each row's decimal year, so many distinct dates are not categories."""
    from datetime import date, timedelta

    days = [date(2012, 1, 1) + timedelta(days=3 * i) for i in range(80)]
    body = "date,x,y\n" + "\n".join(f"{d:%Y/%m/%d},{i % 7},{i * 0.1:.1f}" for i, d in enumerate(days))
    ds = load_csv(_write(tmp_path, body), target="y", scale_features="none", task="regression")
    years = np.sort(np.concatenate([ds.X_train, ds.X_test])[:, 0])
    assert ds.feature_names == ["date", "x"] and years[0] == 2012.0
    np.testing.assert_allclose(np.diff(years), 3 / 366, atol=2.5e-4)  # 2012 a leap year; float32 near 2012: 1e-4
    assert decimal_year("2012-07-02") == 2012.5 and decimal_year("2013-01-01T12:00:00Z") == 2013 + 0.5 / 365
    assert decimal_year("2012-02-30") is None and decimal_year("02/01/2012") is None and decimal_year("x") is None
    with pytest.raises(InputError, match="row 2, column 1 \\('date'\\): '01/01/2012' is not a number; write "
                                         "dates year first \\(2012-07-02\\) or with the month's name "
                                         "\\(Jul 2 2012\\), which are read as numbers"):
        load_csv(_write(tmp_path, "date,y\n" + "\n".join(f"01/{i + 1:02d}/2012,{i}" for i in range(20)),
                        "dayfirst.csv"), target="y", task="regression")


def test_single_quoted_column_names_are_read_without_their_quotes(tmp_path):
    """As statsmodels' anes96.csv writes them: tab-separated, every name in single quotes."""
    body = "'popul'\t'TV news'\t'PID'\n" + "\n".join(f"{i * 10}\t{i % 7}\t{i % 3}" for i in range(30))
    ds = load_csv(_write(tmp_path, body), target="PID")
    assert ds.feature_names == ["popul", "TV news"] and ds.task == "classification"
    mixed = load_csv(_write(tmp_path, "'a',b\n" + "\n".join(f"{i},{i % 2}" for i in range(30)), "m.csv"),
                     target="b")
    assert mixed.feature_names == ["'a'"]  # not every name quoted: taken as written


def test_text_feature_columns_are_encoded_one_input_per_category(tmp_path):
    colours = ["red", "green", "blue"]
    body = "size,colour,y\n" + "\n".join(f"{i % 7},{colours[i % 3]},{i * 0.5}" for i in range(30))
    ds = load_csv(_write(tmp_path, body), target="y", scale_features="none")
    assert ds.feature_names == ["size", "colour=blue", "colour=green", "colour=red"]
    assert ds.meta["categories"] == {"colour": ["blue", "green", "red"]} and ds.meta["raw_features"] == ["size",
                                                                                                         "colour"]
    X = np.concatenate([ds.X_train, ds.X_test])
    assert np.all(X[:, 1:].sum(axis=1) == 1) and set(np.unique(X[:, 1:])) == {0.0, 1.0}
    numeric = load_csv(_write(tmp_path, GOOD, "numeric.csv"), target="label")
    assert "categories" not in numeric.meta  # all-numeric files as before


def test_a_headerless_file_with_text_data_is_read_from_its_first_row(tmp_path):
    """Text in a column of both of the first two rows is data (a category, a class label), not a header."""
    body = "\n".join(f"{'MF'[i % 2]},{i * 0.1:.1f},{'ab'[(i // 2) % 2]}" for i in range(20))
    ds = load_csv(_write(tmp_path, body), target="2")
    assert len(ds.y_train) + len(ds.y_test) == 20 and ds.feature_names == ["x0=F", "x0=M", "x1"]
    named = load_csv(_write(tmp_path, "kind,v,label\n" + body, "named.csv"), target="label")
    assert len(named.y_train) + len(named.y_test) == 20 and named.feature_names[-1] == "v"


def test_missing_drop_drops_the_rows_with_a_missing_cell_and_keeps_the_file_rows_in_errors(tmp_path):
    body = "a,b,c,y\n" + "\n".join(f"{i},{'NA' if i % 5 == 0 else i * 2},{'?' if i == 7 else 'pq'[i % 2]},{i % 2}"
                                    for i in range(30))
    path = _write(tmp_path, body)
    ds = load_csv(path, target="y", missing="drop")
    assert len(ds.y_train) + len(ds.y_test) == 30 - 6 - 1 and ds.meta["dropped_missing"] == 7
    assert "(7 with a missing cell dropped)" in ds.summary() and ds.feature_names == ["a", "b", "c=p", "c=q"]
    assert "classification, 4 features (2 of them one per category of c), 2 classes" in ds.summary()
    assert "dropped_missing" not in load_csv(path, target="y", features=["a"], missing="drop").meta
    bad = _write(tmp_path, body.replace("\n9,18,", "\n9,eighteen,"), "bad.csv")  # file row 11, after drops
    with pytest.raises(InputError, match="row 11, column 2 \\('b'\\): 'eighteen' is not a number"):
        load_csv(bad, target="y", missing="drop")
    with pytest.raises(InputError, match="row 2, column 2 \\('b'\\): missing value \\('NA'\\).*--missing drop"):
        load_csv(path, target="y", missing="error")
    with pytest.raises(InputError, match="row 9, column 3 \\('c'\\): missing value \\('\\?'\\).*--missing drop"):
        load_csv(path, target="y", features=["a", "c"], missing="error")
    empty = _write(tmp_path, "a,y\n" + "\n".join(f"NA,{i}" for i in range(9)), "empty.csv")
    with pytest.raises(InputError, match="0 of 9 rows have a value"):
        load_csv(empty, target="y", missing="drop")
    with pytest.raises(OptionError, match="missing 'keep' is unknown; choose one of fill, drop, error"):
        load_csv(path, target="y", missing="keep")


def test_missing_fill_keeps_every_row_with_a_target_and_fills_from_the_training_rows_only(tmp_path):
    """--missing fill: a text column's missing cell is the category '(missing)'; a numeric column's takes the
    column's median over the training rows (not the test rows') and its flag input is 1; rows without a target
    are left out and counted."""
    rows = []
    for i in range(40):
        a = "" if i % 4 == 1 else str(i)  # 10 missing, spread over train and test
        c = "NA" if i % 10 == 3 else "pq"[i % 2]
        y = "?" if i == 38 else f"{i * 0.5 + (i % 3)}"
        rows.append(f"{a},{i % 7},{c},{y}")
    path = _write(tmp_path, "a,b,c,y\n" + "\n".join(rows))
    ds = load_csv(path, target="y", scale_features="none", seed=3, missing="fill")
    assert ds.feature_names == ["a", "a=(missing)", "b", "c=p", "c=q", "c=(missing)"]
    assert len(ds.y_train) + len(ds.y_test) == 39 and ds.meta["dropped_no_target"] == 1
    assert ds.meta["filled_missing"] == {"a": 10, "c": 4}
    assert "(1 without a target left out; 14 missing cells filled: a 10, c 4)" in ds.summary()
    train_rows = split_indices(39, test_fraction=0.4, seed=3)[0]
    kept = [i for i in range(40) if i != 38]
    observed = [kept[k] for k in train_rows if kept[k] % 4 != 1]
    assert ds.meta["fills"] == {"a": float(np.median(observed))}  # the training rows' own median
    for X in (ds.X_train, ds.X_test):
        flagged = X[:, 1] == 1
        assert flagged.any() and np.all(X[flagged, 0] == ds.meta["fills"]["a"])
        assert np.all(X[:, 3:].sum(axis=1) == 1)  # one category each, '(missing)' one of them
    assert ds.X_train[:, 5].sum() + ds.X_test[:, 5].sum() == 4
    # missing cells in test rows only: filled without a flag or category, an input 0 on every training row
    # having nothing but the prior to set its weights
    test_rows = split_indices(30, test_fraction=0.4, seed=5)[1]
    rows = [f"{'' if i == test_rows[0] else i},{'NA' if i == test_rows[1] else 'pq'[i % 2]},{i * 0.3}"
            for i in range(30)]
    quiet = load_csv(_write(tmp_path, "a,c,y\n" + "\n".join(rows), "quiet.csv"), target="y", scale_features="none",
                     seed=5, missing="fill")
    assert quiet.feature_names == ["a", "c=p", "c=q"] and "fills" not in quiet.meta
    assert quiet.meta["filled_missing"] == {"a": 1, "c": 1}
    median = float(np.median([i for i in range(30) if i not in test_rows]))
    even = test_rows[0] % 2 == 0  # its c: p on even rows, q on odd
    assert quiet.X_test[0].tolist() == [median, float(even), float(not even)]
    assert quiet.X_test[1, 1:].tolist() == [0.0, 0.0]  # no category
    # a category only test rows hold is no category either, and the summary counts it
    rows[test_rows[2]] = f"{test_rows[2]},r,{test_rows[2] * 0.3}"
    unseen = load_csv(_write(tmp_path, "a,c,y\n" + "\n".join(rows), "unseen.csv"), target="y", seed=5,
                      missing="fill")
    assert unseen.feature_names == ["a", "c=p", "c=q"] and unseen.meta["categories"] == {"c": ["p", "q"]}
    assert unseen.X_test[2, 1:].tolist() == [0.0, 0.0] and unseen.meta["unseen_categories"] == {"c": 1}
    assert "1 test cell of a category no training row has, encoded as none: c 1" in unseen.summary()
    with pytest.raises(InputError, match="0 of 9 rows have a value in the target column 'y'"):
        load_csv(_write(tmp_path, "a,y\n" + "\n".join(f"{i}," for i in range(9)), "none.csv"), target="y",
                 missing="fill")
    with pytest.raises(InputError, match="column 'a' has no value in the .* training rows.*--features"):
        load_csv(_write(tmp_path, "a,b,y\n" + "\n".join(f",{i},{i}" for i in range(9)), "empty.csv"), target="y",
                 missing="fill")


def test_decimal_commas_are_numbers_where_the_separator_is_not_a_comma(tmp_path):
    body = "a;b;y\n" + "\n".join(f"{i},5;{'1.234,5' if i == 3 else '-0,25'};{i % 3},{i}" for i in range(20))
    ds = load_csv(_write(tmp_path, body), target="y", scale_features="none", task="regression")
    X = np.concatenate([ds.X_train, ds.X_test])
    assert ds.feature_names == ["a", "b"] and sorted(X[:, 0]) == [i + 0.5 for i in range(20)]
    assert sorted(set(X[:, 1])) == [-0.25, 1234.5]
    with pytest.raises(InputError, match="'1,5' is not a number"):  # a comma-separated file: "1,5" is text
        load_csv(_write(tmp_path, 'a,b,y\n"1,5",1,0\n"2,5",2,1\n"3,5",3,0\n', "comma.csv"), target="y")
    # there, a quoted number with its thousands grouped by commas is that number
    grouped = 'a,b,y\n' + "".join(f'"{1000 * (i + 1):,}","{-1234.5 * i:,}",{i % 2}\n' for i in range(12))
    ds = load_csv(_write(tmp_path, grouped, "grouped.csv"), target="y", scale_features="none")
    X = np.concatenate([ds.X_train, ds.X_test])
    assert sorted(X[:, 0]) == [1000.0 * (i + 1) for i in range(12)] and X[:, 1].min() == -1234.5 * 11


ERROR_CASES = {
    "missing file": (None, "label", None, "file not found"),
    "empty": ("", "label", None, "empty"),
    "header only": ("a,b,label\n", "label", None, "no data rows"),
    "unknown column": (GOOD, "nope", None, "no column 'nope'"),
    "unknown feature": (GOOD, "label", ["a", "zz"], "no column 'zz'"),
    "text in feature": (GOOD.replace("\n3,6,x", "\n3,six,x"), "label", None, "row 5, column 2"),
    "nan": (GOOD.replace("\n3,6,x", "\n3,nan,x"), "label", None, "row 5, column 2 ('b'): missing value ('nan'); "
            "fill the cell, or let bayesprune fill it (--missing fill) or drop every row with a missing cell "
            "(--missing drop)"),
    "inf": (GOOD.replace("\n3,6,x", "\n3,inf,x"), "label", None, "not finite"),
    "huge": (GOOD.replace("\n3,6,x", "\n3,1e999,x"), "label", None, "not finite"),
    "single class": ("a,label\n" + "\n".join(f"{i},k" for i in range(9)), "label", None, "single class"),
    "constant target": ("a,y\n" + "\n".join(f"{i},2.5" for i in range(9)), "y", None,
                        "column 2 ('y') holds the same value, 2.5, in every row: there is nothing to predict"),
    "ragged": (GOOD.replace("\n3,6,x", "\n3,6,x,9"), "label", None, "row 5 has 4 columns"),
    "duplicate header": ("a,a,label\n1,2,x\n3,4,y\n", "label", None, "appears twice"),
    "target is feature": (GOOD, "label", ["a", "label"], "both the target and a feature"),
    "missing category": ("c,label\n" + "\n".join(f"{'pq'[i % 2] if i != 4 else ''},{i % 2}" for i in range(9)),
                         "label", None, "row 6, column 1 ('c'): missing value ('')"),
    "too many categories": ("name,label\n" + "\n".join(f"{a}{b},{ord(b) % 2}" for a in "abcdef" for b in
                                                      "ghijklmnop"), "label", None,
                            "column 'name' has 60 distinct text values"),
    "too many categories, named": ("a,name,label\n" + "\n".join(  # 60 names, each in two rows; named (else: left out)
        f"{ord(b) + k},{a}{b},{ord(b) % 2}" for a in "abcdef" for b in "ghijklmnop" for k in (0, 1)), "label",
        ["a", "name"],
        "column 'name' has 60 distinct text values, too many to encode one input each (at most 50); leave it out "
        "(--features a)"),
    "identifiers with digits": ("ticket,label\n" + "\n".join(f"A/5 {i}7,{i % 2}" for i in range(60)), "label",
                                None, "row 2, column 1 ('ticket'): 'A/5 07' is not a number, and the column's 60 "
                                "distinct values are too many"),
    "a date among features": ("date,x,w,label\n" + "\n".join(f"2012/01/{i + 1:02d},{i},{i % 5},{i % 2}"
                                                               for i in range(60)), "label", None,
                              "row 2, column 1 ('date'): '2012/01/01' is not a number, and the column's 60 distinct "
                              "values are too many to encode one input each (at most 50): write its numbers without "
                              "units, or, if it names or identifies rows, leave it out (--features x,w)"),
    "mostly empty column": ("a,cabin,label\n" + "\n".join(f"{i},{'C' if i % 4 == 0 else ''},{i % 2}"
                                                          for i in range(20)), "label", None,
                            "row 3, column 2 ('cabin'): missing value (''); fill the cell, or let bayesprune fill it "
                            "(--missing fill) or drop every row with a missing cell (--missing drop) (15 of 20 rows "
                            "have a missing cell; mostly empty: 'cabin' (15 rows), better left out with --features)"),
    "numbers with units": ("price,label\n" + "\n".join(f"${i}.50,{i % 2}" for i in range(9)), "label", None,
                           "row 2, column 1 ('price'): '$0.50' is not a number"),
    "measured target as classes": ("a,label\n" + "\n".join(f"{i},{i * 0.37:.2f}" for i in range(30)), "label", None,
                                   "row 3, column 2 ('label'): value 0.37 is not a class label"),
}
GIVEN_CLASSIFICATION = ("single class", "measured target as classes")  # cases run with task="classification"
MISSING_ERROR = ("nan", "missing category", "mostly empty column")  # cases run with missing="error"


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_csv_errors_name_file_and_place(case, tmp_path):
    text, target, features, expected = ERROR_CASES[case]
    path = tmp_path / "missing.csv" if text is None else _write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_csv(path, target=target, features=features,
                 task="classification" if case in GIVEN_CLASSIFICATION else None,
                 missing="error" if case in MISSING_ERROR else "fill")
    msg = str(err.value)
    assert expected in msg
    assert "\n" not in msg
    assert str(path) in msg or case in ("unknown column",)


def test_non_utf8_bytes(tmp_path):
    path = _write(tmp_path, b"a,label\n1,x\n\xff\xfe,y\n", mode="wb")
    with pytest.raises(InputError, match="row 3.*not UTF-8"):
        load_csv(path, target="label")


def test_unknown_and_missing_named_sets(tmp_path, no_data_env):
    with pytest.raises(InputError, match="unknown data set 'nope'"):
        load_dataset("nope")
    with pytest.raises(InputError, match="bayesprune data fetch lazer"):
        load_dataset("lazer", data_dir=tmp_path)


def test_a_run_configuration_passes_missing_to_its_csv(tmp_path):
    from bayesprune.cli import build_parser
    from bayesprune.experiments.runner import load_data
    from bayesprune.settings import RunConfig

    path = _write(tmp_path, "a,y\n" + "\n".join(f"{'' if i == 3 else i},{i * 0.1}" for i in range(20)))
    ds = load_data(RunConfig(csv=str(path), target="y", missing="drop", sampler="lgmh"))
    assert ds.meta["dropped_missing"] == 1 and len(ds.y_train) + len(ds.y_test) == 19
    filled = load_data(RunConfig(csv=str(path), target="y", missing="fill", sampler="lgmh"))
    assert filled.meta["filled_missing"] == {"a": 1} and len(filled.y_train) + len(filled.y_test) == 20
    with pytest.raises(OptionError, match="missing applies to a --csv file"):
        RunConfig(missing="drop").validate()
    # the flag of earlier releases still means --missing drop
    assert build_parser().parse_args(["run", "--drop-missing"]).missing == "drop"
    assert build_parser().parse_args(["run", "--missing", "error"]).missing == "error"


def test_an_integer_target_of_a_few_values_taken_as_classes_is_said_with_the_option_that_overrides_it(tmp_path):
    """Three or more integer target values are classes by inference, and the summary says so; two (a 0/1 label),
    a text label or a task given leave no doubt, and say nothing."""
    body = "a,b,y\n" + "\n".join(f"{i * 0.1:.1f},{i % 7},{3 + i % 4}" for i in range(40))
    path = _write(tmp_path, body)
    ds = load_csv(path, target="y")
    assert ds.task == "classification" and ds.meta["classes_inferred"] == 4
    assert ds.summary().endswith("; its 4 integer target values taken as classes (--task regression predicts the "
                                 "target as a number)")
    assert load_csv(path, target="y", task="regression").task == "regression"
    assert "classes_inferred" not in load_csv(path, target="y", task="classification").meta
    binary = _write(tmp_path, body.replace(",3\n", ",4\n").replace(",5\n", ",6\n"), "binary.csv")
    assert "classes_inferred" not in load_csv(binary, target="y").meta


def test_a_nameless_first_column_labelling_the_rows_is_left_out_and_any_other_nameless_column_refused(tmp_path):
    """pandas' ``to_csv`` writes the row index as a first column with an empty name, R's ``write.csv`` its row names
    (``"Mazda RX4"``, or the numbers of the rows a subset kept): it is left out (and said), as a different value
    in every row it could only leak the file's order or let the network fit one row; any other nameless column
    is an error naming its place."""
    body = "\n".join(f"{i},{i * 0.3:.1f},{(i * 7) % 5},{i % 2}" for i in range(30))
    ds = load_csv(_write(tmp_path, ",a,b,y\n" + body), target="y")
    assert ds.feature_names == ["a", "b"] and ds.meta["row_index_left_out"] == "numbers"
    assert "; its nameless first column of row numbers left out" in ds.summary()
    one_based = "\n".join(f"{i + 1},{i * 0.3:.1f},{(i * 7) % 5},{i % 2}" for i in range(30))
    assert load_csv(_write(tmp_path, ",a,b,y\n" + one_based, "one.csv"), target="y").feature_names == ["a", "b"]
    subset = body.replace("\n3,", "\n33,", 1)  # R's row names of a subset: distinct numbers, not 0, 1, 2, ...
    named = "\n".join(f'"car {i}",' + line.split(",", 1)[1] for i, line in enumerate(body.split("\n")))
    for text, name in ((subset, "subset.csv"), (named, "names.csv")):
        ds = load_csv(_write(tmp_path, '"",a,b,y\n' + text, name), target="y")
        assert ds.feature_names == ["a", "b"] and ds.meta["row_index_left_out"] == "names"
        assert "; its nameless first column of row names left out" in ds.summary()
    repeated = body.replace("\n3,", "\n2,", 1)
    measured = "\n".join(f"{i * 0.37:.2f}," + line.split(",", 1)[1] for i, line in enumerate(body.split("\n")))
    for text, name in ((repeated, "repeated.csv"), (measured, "measured.csv")):  # a measured column's name lost
        with pytest.raises(InputError, match="row 1, column 1: empty column name; name every column"):
            load_csv(_write(tmp_path, ",a,b,y\n" + text, name), target="y")
    with pytest.raises(InputError, match="row 1, column 3: empty column name"):
        load_csv(_write(tmp_path, "a,b,,y\n" + body, "middle.csv"), target="y")
    assert "row_index_left_out" not in load_csv(_write(tmp_path, "i,a,b,y\n" + body, "named.csv"), target="y").meta
    # a separator at the end of every line (some spreadsheets): the empty nameless column is left out, with a
    # header or without
    trailing = "\n".join(line + "," for line in body.split("\n"))
    assert load_csv(_write(tmp_path, "i,a,b,y,\n" + trailing, "trailing.csv"), target="y").feature_names == [
        "i", "a", "b"]
    assert load_csv(_write(tmp_path, trailing, "bare.csv"), target="3").feature_names == ["x0", "x1", "x2"]


def test_predict_reads_new_rows_written_with_a_row_index_or_a_trailing_separator(tmp_path):
    """``bayesprune predict`` reads its rows through the same table reader: pandas' index column, R's row names
    and an empty last column are left out there too, and the row labels are written beside the predictions."""
    from bayesprune.io.predictions import read_inputs

    indexed = _write(tmp_path, ",b,a\n0,2.5,1.0\n1,-1.5,0.5\n", "indexed.csv")
    assert read_inputs(indexed, ["a", "b"]).tolist() == [[1.0, 2.5], [0.5, -1.5]]
    bare = _write(tmp_path, "1.0,2.5,\n0.5,-1.5,\n", "bare.csv")
    assert read_inputs(bare, ["a", "b"]).tolist() == [[1.0, 2.5], [0.5, -1.5]]
    # the labels come back beside the predictions (pandas' index, R's row names), in a nameless first column
    from bayesprune.io.predictions import prediction_table, read_rows

    named = _write(tmp_path, '"","b","a"\n"Mazda RX4",2.5,1.0\n"Valiant",-1.5,0.5\n', "named.csv")
    X, labels = read_rows(named, ["a", "b"])
    assert X.tolist() == [[1.0, 2.5], [0.5, -1.5]] and labels == ["Mazda RX4", "Valiant"]
    assert read_rows(indexed, ["a", "b"])[1] == ["0", "1"] and read_rows(bare, ["a", "b"])[1] is None
    result = {"mean": np.array([1.0, 2.0]), "sd": np.array([0.1, 0.2]), "lower": np.array([0.8, 1.6]),
              "upper": np.array([1.2, 2.4])}
    header, rows = prediction_table(result, "regression", [], 0.9, labels)
    assert header == ["", "mean", "sd", "lower_90%", "upper_90%"] and rows[1] == ["Valiant", "2", "0.2", "1.6", "2.4"]


def test_target_transform_log_models_the_logarithm_and_names_a_value_it_cannot_take(tmp_path):
    """--target-transform log: the network's target is log(price), scaled as the target itself would be (the
    same as a file holding log(price)), and ``inverse_y`` maps back to prices; a value at or below 0 is refused
    with its row and column, a class label and an unknown transform too."""
    from bayesprune.data.datasets import log_target
    from bayesprune.experiments.advice import interval_notes

    x = np.linspace(0, 3, 30)
    price = np.exp(1 + x + 0.1 * np.sin(7 * x))
    path = _write(tmp_path, "a,price\n" + "\n".join(f"{u:.4f},{p:.6f}" for u, p in zip(x, price, strict=True)))
    logged = _write(tmp_path, "a,lp\n" + "\n".join(f"{u:.4f},{np.log(p):.9f}" for u, p in zip(x, price, strict=True)),
                    name="logged.csv")
    ds, ref = load_csv(path, target="price", target_transform="log"), load_csv(logged, target="lp")
    np.testing.assert_allclose(ds.y_train, ref.y_train, atol=1e-5)
    np.testing.assert_allclose(ds.inverse_y(ds.y_test), np.exp(ref.inverse_y(ref.y_test)), rtol=1e-5)
    a, c = ds.y_affine
    np.testing.assert_allclose(a * ds.y_test + c, ref.inverse_y(ref.y_test), atol=1e-5)
    assert ds.target_transform == "log" and "the target's logarithm modelled" in ds.summary()
    # the note on intervals below 0: only for a positive target modelled as it is
    plain = load_csv(path, target="price")
    low = plain.y_test - 10.0  # far below the scaled 0 price
    assert interval_notes(plain, low)[0].startswith(f"{len(low)} of {len(low)} test rows' 90% intervals reach "
                                                    "below 0, though every value of 'price' is above 0")
    assert interval_notes(plain, plain.y_test) == [] and interval_notes(ds, low) == []
    bad = _write(tmp_path, "a,price\n" + "\n".join(f"{i},{i * 2 - 4.5}" for i in range(10)), name="bad.csv")
    with pytest.raises(InputError, match=r"row 2, column 2 \('price'\): -4.5 is not above 0.* \(3 are not\)"):
        load_csv(bad, target="price", target_transform="log")
    counts = _write(tmp_path, "a,n\n" + "\n".join(f"{i},{i % 5 + 1}" for i in range(20)), name="counts.csv")
    with pytest.raises(InputError, match=r"'n' was taken as class labels \(its 5 integer values\): add --task "
                                         "regression"):
        load_csv(counts, target="n", target_transform="log")
    assert load_csv(counts, target="n", task="regression", target_transform="log").target_transform == "log"
    assert interval_notes(load_csv(bad, target="price"), np.full(4, -10.0)) == []  # the target reaches 0 itself
    labels = _write(tmp_path, "a,kind\n" + "\n".join(f"{i},{'ab'[i % 2]}" for i in range(10)), name="labels.csv")
    with pytest.raises(InputError, match="applies to a regression target; 'kind' holds class labels"):
        load_csv(labels, target="kind", target_transform="log")
    with pytest.raises(OptionError, match="target_transform 'sqrt' is unknown; choose one of none, log"):
        load_csv(path, target="price", target_transform="sqrt")
    assert log_target(ds) is ds  # once is enough


def test_a_run_configuration_takes_the_logarithm_of_a_named_sets_target_too(no_data_env):
    from bayesprune import settings
    from bayesprune.data import datasets
    from bayesprune.experiments.runner import load_data
    from bayesprune.settings import RunConfig

    assert settings.TARGET_TRANSFORMS == datasets.TARGET_TRANSFORMS  # the setting's choices are the loader's
    assert settings.MISSING_MODES == datasets.MISSING_MODES
    plain, ds = (load_data(RunConfig(dataset="diabetes", target_transform=t)) for t in ("none", "log"))
    np.testing.assert_allclose(ds.inverse_y(ds.y_test), plain.inverse_y(plain.y_test), rtol=1e-5)
    assert ds.meta["target_transform"] == "log" and ds.y_train.min() >= 0 and ds.y_train.max() <= 1
    with pytest.raises(OptionError, match="target_transform 'sqrt' is unknown; choose one of none, log"):
        RunConfig(target_transform="sqrt").validate()


def test_clip_inputs_clips_test_cells_far_beyond_the_training_range_and_counts_them(tmp_path):
    """Test cells more than half the training rows' range past it (scaled units) become the nearest end of the
    widened range; the others, those just past the edge included, are unchanged; the clip is kept for new rows
    (transform_X) and counted in the summary."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 40)
    test_rows = split_indices(40, test_fraction=0.4, seed=0)[1]  # load_csv's split of these rows
    x[test_rows[:2]] = [25.0, -9.0]  # two far outside the training rows' range [0, 1)
    x[test_rows[2:5]] = [1.2, 1.3, -0.2]  # three a little past its edge
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n" + "".join(f"{v},{i % 3},{2 * v + i % 3}\n" for i, v in enumerate(x)))
    ds = load_csv(path, target="y", seed=0)
    lo, hi = ds.X_train.min(axis=0), ds.X_train.max(axis=0)
    low, high = lo - (hi - lo) / 2, hi + (hi - lo) / 2
    np.testing.assert_allclose(np.stack(clip_range(ds.X_train)), np.stack([low, high]), rtol=1e-6)
    clipped = clip_inputs(ds)
    assert clipped.x_range is not None and clip_inputs(clipped) is clipped
    inside = (ds.X_test >= low) & (ds.X_test <= high)
    np.testing.assert_array_equal(clipped.X_test[inside], ds.X_test[inside])
    np.testing.assert_array_equal(clipped.X_test[~inside], np.broadcast_to(np.where(ds.X_test < low, low, high),
                                                                           ds.X_test.shape)[~inside])
    assert clipped.meta.get("clipped_inputs", {}) == {n: int(k) for n, k in zip(ds.feature_names, (~inside).sum(0),
                                                                                  strict=True) if k}
    np.testing.assert_array_equal(clipped.X_train, ds.X_train)
    raw = ds.x_scaler.inverse_transform(ds.X_test)
    np.testing.assert_allclose(clipped.transform_X(raw), clipped.X_test, atol=1e-6)
    assert (~inside).any() and "beyond half the training rows' range past its edge clipped there: a" in " ".join(
        clipped.summary().split())
    assert (((ds.X_test > hi) | (ds.X_test < lo)) & inside).sum() == 3  # those just past it are kept


def test_the_run_setting_clips_the_loaded_data():
    from bayesprune.experiments.runner import load_data
    from bayesprune.settings import RunConfig

    plain = load_data(RunConfig(dataset="wine", seed=0, clip_inputs=False))
    clipped = load_data(RunConfig(dataset="wine", seed=0))  # the default since benchmarks/pipeline.py's `clip`
    assert plain.x_range is None and clipped.x_range is not None
    np.testing.assert_array_equal(np.stack(clipped.x_range), np.stack(clip_range(clipped.X_train)))
    # wine's seed-0 test rows hold cells just past the training rows' range, none half a range past it: kept
    assert ((plain.X_test > plain.X_train.max(axis=0)) | (plain.X_test < plain.X_train.min(axis=0))).any()
    assert "clipped_inputs" not in clipped.meta and np.array_equal(clipped.X_test, plain.X_test)


def test_columns_separated_by_runs_of_spaces_are_read_as_columns(tmp_path):
    """UCI's housing.data (leading and repeated spaces, no header), statsmodels' spector.csv (single-quoted names,
    one space) and auto-mpg.data (numbers separated by spaces, a tab, then a quoted name with spaces) are read as
    the columns they hold; a tab-separated file whose text holds spaces, and a one-column file whose name holds
    one, keep their own separator."""
    housing = _write(tmp_path, "".join(f" {i * 0.01:.5f}  {18 + i % 3:.2f}   {2.31 + i * 0.1:.3f}  {i % 2}  "
                                       f"{0.538 + i * 0.001:.4f}  {20 + i * 0.3:.2f}\n" for i in range(12)),
                     "housing.data")
    ds = load_csv(housing, target="5")
    assert ds.n_features == 5 and ds.task == "regression" and ds.feature_names[0] == "x0"
    spector = _write(tmp_path, "'OBS' 'GPA' 'TUCE' 'GRADE'\n" + "".join(
        f"{i} {2 + i * 0.07:.2f} {20 + i % 5} {i % 2}\n" for i in range(1, 15)), "spector.csv")
    assert load_csv(spector, target="GRADE").feature_names == ["OBS", "GPA", "TUCE"]
    auto = _write(tmp_path, "".join(f"{18 + i}.0   {4 + 2 * (i % 3)}   {300 + i}.0      {130 + i}.0\t"
                                    f"\"car {chr(97 + i)}\"\n" for i in range(12)), "auto.data")
    ds = load_csv(auto, target="0")
    assert ds.feature_names == ["x1", "x2", "x3"] and ds.meta["identifiers_left_out"] == ["4"]  # the names
    cities = _write(tmp_path, "city\tv\tw\n" + "".join(f"{c}\t{i}.5\t{i % 3}\n" for i, c in enumerate(
        ["New York", "Los Angeles", "San Diego", "New York", "Los Angeles", "San Diego"] * 2)), "cities.tsv")
    assert load_csv(cities, target="v").feature_names == [
        "city=Los Angeles", "city=New York", "city=San Diego", "w"]
    ragged = _write(tmp_path, " 1.0  2.0  3.0\n 4.0  5.0  6.0\n 7.0  8.0\n", "ragged.data")
    with pytest.raises(InputError, match=r"ragged.data: row 3 has 2 columns, expected 3 \(separator spaces\)"):
        load_csv(ragged, target="0")


def test_an_integer_target_whose_values_are_mostly_single_rows_is_a_number_and_said_so(tmp_path):
    """A class in one row is in the training or the test rows, never both: an integer target of at most 20 values
    of which more than half occur once (stack loss: 21 rows, 14 values, 9 once) is inferred a number, with the
    option that takes it as classes; two values are a label however rare one is."""
    loss = [42, 37, 37, 28, 18, 18, 19, 20, 15, 14, 14, 13, 11, 12, 8, 7, 8, 8, 9, 15, 15]
    path = _write(tmp_path, "air,loss\n" + "".join(f"{50 + i * 1.5},{v}\n" for i, v in enumerate(loss)))
    ds = load_csv(path, target="loss")
    assert ds.task == "regression" and ds.meta["number_inferred"] == [14, 9]
    assert ds.summary().endswith("; its 14 integer target values, 9 of them in one row only, taken as a number "
                                 "(--task classification takes them as classes)")
    assert load_csv(path, target="loss", task="classification").task == "classification"
    rare = _write(tmp_path, "a,y\n" + "".join(f"{i * 0.1:.1f},{int(i == 3)}\n" for i in range(20)), "rare.csv")
    assert load_csv(rare, target="y").task == "classification"  # two values: a label
    half = [1, 1, 2, 2, 3, 3, 4, 5]  # 5 values, 2 once: classes
    even = _write(tmp_path, "a,y\n" + "".join(f"{i * 0.1:.1f},{v}\n" for i, v in enumerate(half)), "even.csv")
    assert load_csv(even, target="y").task == "classification"


def test_a_text_column_with_a_value_of_its_own_in_every_row_is_left_out_and_said_so(tmp_path):
    """A name or an identifier (a state, a council) one-hot gives inputs that are 1 on one row each, and every
    test row a value no training row has: it is left out when the features are not given, and the summary says
    so; named with --features it is kept; repeated values, missing cells and dates (each row its own day) are not
    identifiers."""
    rows = [f"S{chr(65 + i)}x,{i % 4},{i * 0.5:.1f},2020-01-{i + 1:02d},{'ab'[i % 2]},{i * 1.5 + (i % 3):.2f}"
            for i in range(24)]
    path = _write(tmp_path, "state,k,u,day,kind,y\n" + "\n".join(rows) + "\n")
    ds = load_csv(path, target="y")
    assert ds.meta["features"] == ["k", "u", "day", "kind"] and ds.meta["identifiers_left_out"] == ["state"]
    assert "; 'state' left out, a different text value in every row (a name or an identifier: --features keeps it)" \
        in ds.summary()
    kept = load_csv(path, target="y", features=["state", "u"])
    assert "identifiers_left_out" not in kept.meta and sum(n.startswith("state=") for n in kept.feature_names) > 0
    models = [f"m{chr(97 + i)}" if i % 12 else str(100 + i) for i in range(24)]  # MASS's car models: Integra, 100
    mixed = _write(tmp_path, "model,u,y\n" + "".join(f"{m},{i * 0.5:.1f},{i * 1.5 + (i % 3):.2f}\n"
                                                     for i, m in enumerate(models)), "models.csv")
    assert load_csv(mixed, target="y").meta["identifiers_left_out"] == ["model"]
    only = _write(tmp_path, "name,y\n" + "".join(f"p{chr(97 + i)},{i * 0.5}\n" for i in range(10)), "only.csv")
    assert load_csv(only, target="y").meta["features"] == ["name"]  # the only feature: kept


def test_a_column_of_one_value_is_left_out_and_said_so(tmp_path):
    """A column holding the same value in every row (a flag that never fires, boot's catsM with every cat male)
    gives an input that is 0 on every standardised training row, whose weights only the prior sets: left out when
    the features are not given, numbers and text alike, and said so; named with --features it is kept; a column
    with a missing cell beside its one value is not constant (with --missing fill its flag says which rows);
    every feature constant is an error that names the file."""
    rows = [f"{i * 0.5:.1f},0,M,{'' if i == 3 else 7},{i * 1.5 + (i % 3):.2f}" for i in range(24)]
    path = _write(tmp_path, "u,flag,sex,gap,y\n" + "\n".join(rows) + "\n")
    ds = load_csv(path, target="y", missing="fill")
    assert ds.meta["constant_left_out"] == ["flag", "sex"] and ds.meta["features"] == ["u", "gap"]
    assert "; 'flag', 'sex' left out, the same value in every row (nothing to learn from: --features keeps them)" \
        in ds.summary()
    kept = load_csv(path, target="y", features=["u", "flag"])
    assert "constant_left_out" not in kept.meta and kept.feature_names == ["u", "flag"]
    dull = _write(tmp_path, "a,b,y\n" + "".join(f"1,x,{i * 0.5}\n" for i in range(20)), "dull.csv")
    with pytest.raises(InputError, match=r"dull.csv: every feature column \('a', 'b'\) holds one value in every "
                                         r"row: nothing to learn 'y' from"):
        load_csv(dull, target="y")


def test_a_text_column_of_more_categories_than_one_hot_can_learn_is_left_out_and_said_so(tmp_path):
    """A district shared by a few rows (Ecdat's California schools: 409 districts in 420 rows) one-hot would give
    hundreds of inputs that are 1 on a row or two: left out when the features are not given, with its count in the
    summary; named with --features it is the error that says how to leave it out."""
    names = [f"{chr(97 + k % 26)}{chr(97 + k // 26)}town" for k in range(60)]  # 60 names, each in two rows
    rows = [f"{names[i // 2]},{'pq'[i % 2]},{i * 0.5:.1f},{i * 1.5 + (i % 3):.2f}" for i in range(120)]
    path = _write(tmp_path, "district,kind,u,y\n" + "\n".join(rows) + "\n")
    ds = load_csv(path, target="y")
    assert ds.meta["features"] == ["kind", "u"] and ds.meta["crowded_left_out"] == {"district": 60}
    assert ("; 'district' (60 values) left out, more distinct text values than one input each can learn from (at "
            "most 50)") in ds.summary()
    with pytest.raises(InputError, match=r"column 'district' has 60 distinct text values, too many to encode one "
                                         r"input each \(at most 50\); leave it out \(--features u\)"):
        load_csv(path, target="y", features=["district", "u"])


def test_none_is_a_category_in_a_text_column_and_missing_in_a_numeric_one(tmp_path):
    """R's factor levels: vcd's arthritis improvement ``None`` / ``Some`` / ``Marked`` (the target) and MASS's air
    bags ``None`` / ``Driver only`` are values, not missing cells; ``None`` among numbers is still missing. The
    compact model reads the category back from new rows."""
    levels = ["None", "Some", "Marked"]
    rows = [f"{'None' if i % 4 == 0 else 'Driver only'},{i * 0.5:.1f},{levels[i % 3]}" for i in range(30)]
    path = _write(tmp_path, "bags,u,improved\n" + "\n".join(rows) + "\n")
    ds = load_csv(path, target="improved")
    assert ds.class_names == ["Marked", "None", "Some"] and ds.feature_names == ["bags=Driver only", "bags=None", "u"]
    numbers = [f"{'None' if i == 3 else i * 0.5},{i % 2}" for i in range(20)]
    with pytest.raises(InputError, match="row 5, column 1 \\('u'\\): missing value \\('None'\\)"):
        load_csv(_write(tmp_path, "u,y\n" + "\n".join(numbers) + "\n", "numbers.csv"), target="y")
    import pandas as pd

    from bayesprune.data.encoding import encode

    new = pd.DataFrame({"bags": ["None", "Driver only"]}, dtype=object)
    assert encode(new, ["bags"], {"bags": ["Driver only", "None"]}).tolist() == [[0.0, 1.0], [1.0, 0.0]]
    alone = pd.DataFrame({"bags": ["None"]}, dtype=object)  # no other text in the column: still the category
    assert encode(alone, ["bags"], {"bags": ["Driver only", "None"]}).tolist() == [[0.0, 1.0]]
    gap = pd.DataFrame({"bags": [None, "Driver only"]}, dtype=object)  # a DataFrame's missing cell: missing
    assert encode(gap, ["bags"], {"bags": ["Driver only", "None", "(missing)"]}).tolist() == [
        [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]


def test_a_code_mixing_numbers_and_text_or_holding_digits_is_read_as_categories(tmp_path):
    """ggplot2's drive train (``f``, ``r``, ``4``) and a grade span (``KK-06``, ``KK-08``): a few values repeated
    over many rows are categories, the numbers among them too; a measured column with a stray word, a code with
    one word in it (MASS's cylinders: ``rotary`` once, or a typo) and numbers with units stay the errors that name
    the cell."""
    rows = [f"{'fr4'[i % 3]},KK-0{6 + 2 * (i % 2)},{i * 0.5:.1f},{i * 1.5 + (i % 3):.2f}" for i in range(30)]
    ds = load_csv(_write(tmp_path, "drv,span,u,y\n" + "\n".join(rows) + "\n"), target="y")
    assert ds.feature_names == ["drv=4", "drv=f", "drv=r", "span=KK-06", "span=KK-08", "u"]
    stray = [f"{'unknown' if i == 5 else i * 0.5},{i * 1.5:.2f}" for i in range(30)]
    with pytest.raises(InputError, match=r"row 7, column 1 \('u'\): 'unknown' is not a number"):
        load_csv(_write(tmp_path, "u,y\n" + "\n".join(stray) + "\n", "stray.csv"), target="y")
    few = [f"{'rotary' if i == 2 else 4 + 2 * (i % 3)},{i * 1.5:.2f}" for i in range(30)]  # one word: a typo?
    with pytest.raises(InputError, match="'rotary' is not a number"):
        load_csv(_write(tmp_path, "cyl,y\n" + "\n".join(few) + "\n", "few.csv"), target="y")


def test_a_gzip_table_is_read_and_a_workbook_refused_with_how_to_save_it(tmp_path):
    """A gzip-compressed CSV (data.csv.gz) reads as the text it holds; an Excel workbook (a ZIP: .xlsx; OLE2:
    .xls) is one line naming the file and how to save the sheet as CSV, not a byte that is not UTF-8."""
    import gzip
    import zipfile

    body = "a,b,y\n" + "".join(f"{i * 0.1:.1f},{i % 3},{i * 0.2 + 1:.2f}\n" for i in range(20))
    packed = _write(tmp_path, gzip.compress(body.encode()), "data.csv.gz", mode="wb")
    assert load_csv(packed, target="y").feature_names == ["a", "b"]
    book = tmp_path / "data.xlsx"
    with zipfile.ZipFile(book, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(InputError, match=r"data.xlsx: a spreadsheet workbook or an archive, not a text table; save "
                                         r"the sheet as CSV"):
        load_csv(book, target="y")
    old = _write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "data.xls", mode="wb")
    with pytest.raises(InputError, match="data.xls: a spreadsheet workbook"):
        load_csv(old, target="y")
    broken = _write(tmp_path, gzip.compress(body.encode())[:30], "cut.csv.gz", mode="wb")
    with pytest.raises(InputError, match="cut.csv.gz: a gzip file that cannot be decompressed"):
        load_csv(broken, target="y")


def test_dates_with_the_month_named_are_their_decimal_year(tmp_path):
    """A date whose month is named in English (Vega's stocks: `Jan 1 2000`; `1 January 2000`, `01-Jan-2000`) leaves
    no doubt which is the month, so it is read as its decimal year like a date written year first; numeric day-
    or month-first dates stay an error, and a name that is no month stays text."""
    assert decimal_year("Jan 1 2000") == decimal_year("1 January 2000") == decimal_year("01-Jan-2000") == 2000.0
    assert decimal_year("Jul 2 2012") == decimal_year("2012-07-02") == 2012.5
    assert decimal_year("Sept 30, 2001") == decimal_year("2001-09-30")
    assert decimal_year("Foo 1 2000") is None and decimal_year("Feb 30 2000") is None
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    body = "symbol,date,price\n" + "".join(f"{s},{m} 1 {2000 + k},{10 + i + 3 * k + (s == 'IBM') * 5}\n"
                                           for s in ("MSFT", "IBM") for k in range(2) for i, m in enumerate(months))
    ds = load_csv(_write(tmp_path, body, "stocks.csv"), target="price", scale_features="none")
    assert ds.feature_names == ["symbol=IBM", "symbol=MSFT", "date"]
    dates = np.concatenate([ds.X_train, ds.X_test])[:, 2]
    assert dates.min() == 2000.0 and 2001.9 < dates.max() < 2002.0


def test_a_header_of_years_over_numbers_is_read_as_one_when_the_target_names_it(tmp_path):
    """The World Bank's wide tables name text columns above text and year columns above numbers, so nothing tells
    the sniffing the first row is a header; a --target (and --features) found among its cells settles it, in
    training and in `bayesprune predict`; a number that is no cell of the first row stays a column number."""
    from bayesprune.io.predictions import read_inputs

    body = "Country,Code,1985,1986,1990\n" + "".join(
        f"C{chr(97 + i)}x,{chr(65 + i)}{chr(66 + i)}Q,{2 + i * 0.1:.2f},{2.1 + i * 0.1:.2f},{2.3 + i * 0.09:.3f}\n"
        for i in range(20))
    path = _write(tmp_path, body, "wide.csv")
    ds = load_csv(path, target="1990", features=["1985", "1986"])
    assert ds.feature_names == ["1985", "1986"] and len(ds.y_train) + len(ds.y_test) == 20
    X = read_inputs(path, ["1985", "1986"])
    assert X.shape == (20, 2) and X[0, 0] == 2.0
    with pytest.raises(InputError, match="no column '7'; the columns are 0, 1, 2, 3, 4"):
        load_csv(path, target="7")
