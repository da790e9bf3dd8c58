"""Splink 5 (DuckDB) and recordlinkage (ECM) on the same record-linkage tasks as link-load.

    python link_splink.py febrl FEBRL_FOLDER
    python link_splink.py synthetic PATIENT_DATA_CSV DUPLICATES_CSV

Times include reading, training and prediction; precision, recall and F1 at match probability 0.5.
"""
import resource
import sys
import time

import pandas as pd


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def score(predicted, truth):
    tp = len(predicted & truth)
    fp = len(predicted) - tp
    fn = len(truth) - tp
    precision = tp / max(1, tp + fp)
    recall = tp / max(1, tp + fn)
    f1 = 0 if tp == 0 else 2 * precision * recall / (precision + recall)
    return precision, recall, f1, tp, fp, fn


def pair(a, b):
    return (a, b) if a < b else (b, a)


def read_febrl(path):
    frame = pd.read_csv(path, dtype=str, skipinitialspace=True).fillna("")
    frame.columns = [c.strip() for c in frame.columns]
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    return frame.replace("", None)


def splink_run(frames, link_type, comparisons, blocking, training_blocks, unique_id):
    import splink.comparison_library as cl  # noqa: F401
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    settings = SettingsCreator(
        unique_id_column_name=unique_id,
        link_type=link_type,
        blocking_rules_to_generate_predictions=[block_on(*rule) for rule in blocking],
        comparisons=comparisons,
    )
    db_api = DuckDBAPI()
    tables = [db_api.register(frame) for frame in (frames if isinstance(frames, list) else [frames])]
    linker = Linker(tables if len(tables) > 1 else tables[0], settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*training_blocks[0])], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    for rule in training_blocks:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*rule))
    predictions = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    return {pair(str(a), str(b)) for a, b in zip(predictions[f"{unique_id}_l"], predictions[f"{unique_id}_r"])}


def febrl_comparisons():
    import splink.comparison_library as cl

    return [
        cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
        cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
        cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
        cl.JaroWinklerAtThresholds("address_2", [0.9, 0.7]),
        cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
        cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        cl.ExactMatch("state"),
    ]


FEBRL_BLOCKING = [("given_name",), ("surname",), ("date_of_birth",), ("soc_sec_id",), ("postcode", "street_number")]


def recordlinkage_ecm(frames, blocking, link):
    import recordlinkage

    indexer = recordlinkage.Index()
    for rule in blocking:
        indexer.block(list(rule))
    candidates = indexer.index(*frames) if link else indexer.index(frames[0])
    compare = recordlinkage.Compare()
    compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85, label="given_name")
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    compare.exact("date_of_birth", "date_of_birth", label="date_of_birth")
    compare.exact("soc_sec_id", "soc_sec_id", label="soc_sec_id")
    compare.exact("street_number", "street_number", label="street_number")
    compare.string("address_1", "address_1", method="jarowinkler", threshold=0.85, label="address_1")
    compare.exact("suburb", "suburb", label="suburb")
    compare.exact("postcode", "postcode", label="postcode")
    compare.exact("state", "state", label="state")
    features = compare.compute(candidates, *frames) if link else compare.compute(candidates, frames[0])
    matches = recordlinkage.ECMClassifier(binarize=0.8).fit_predict(features)
    return {pair(str(a), str(b)) for a, b in matches}, len(candidates)


def febrl(folder):
    def person(identifier):
        return identifier.split("-")[1]

    # febrl4: link A and B.
    start = time.perf_counter()
    a = read_febrl(f"{folder}/dataset4a.csv")
    b = read_febrl(f"{folder}/dataset4b.csv")
    predicted = splink_run([a, b], "link_only", febrl_comparisons(), FEBRL_BLOCKING,
                           [("given_name",), ("date_of_birth",)], "rec_id")
    seconds = time.perf_counter() - start
    b_by_person = {}
    for identifier in b["rec_id"]:
        b_by_person.setdefault(person(identifier), []).append(identifier)
    truth = {pair(x, y) for x in a["rec_id"] for y in b_by_person.get(person(x), [])}
    report("Splink febrl4 (link)", seconds, len(a) + len(b), predicted, truth)

    start = time.perf_counter()
    ecm, candidates = recordlinkage_ecm([a.set_index("rec_id"), b.set_index("rec_id")], FEBRL_BLOCKING, True)
    report(f"recordlinkage ECM febrl4 (link, {candidates} pairs)", time.perf_counter() - start, len(a) + len(b),
           ecm, truth)

    # febrl3: deduplicate.
    start = time.perf_counter()
    c = read_febrl(f"{folder}/dataset3.csv")
    predicted = splink_run(c, "dedupe_only", febrl_comparisons(), FEBRL_BLOCKING,
                           [("given_name",), ("date_of_birth",)], "rec_id")
    seconds = time.perf_counter() - start
    groups = {}
    for identifier in c["rec_id"]:
        groups.setdefault(person(identifier), []).append(identifier)
    truth = {pair(x, y) for members in groups.values() for i, x in enumerate(members) for y in members[i + 1:]}
    report("Splink febrl3 (deduplicate)", seconds, len(c), predicted, truth)

    start = time.perf_counter()
    ecm, candidates = recordlinkage_ecm([c.set_index("rec_id")], FEBRL_BLOCKING, False)
    report(f"recordlinkage ECM febrl3 (deduplicate, {candidates} pairs)", time.perf_counter() - start, len(c),
           ecm, truth)


def synthetic(path, truth_path):
    import splink.comparison_library as cl

    start = time.perf_counter()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig").replace("", None)
    frame["DOB"] = pd.to_datetime(frame["DOB"], format="mixed", errors="coerce").dt.strftime("%Y-%m-%d")
    frame["ss"] = frame["ss"].str.replace("-", "", regex=False)
    frame["phone_home"] = frame["phone_home"].str.replace(r"\D", "", regex=True)
    for column in ["fname", "lname", "street", "city"]:
        frame[column] = frame[column].str.lower()
    comparisons = [
        cl.NameComparison("fname").configure(term_frequency_adjustments=True),
        cl.NameComparison("lname").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison("DOB", input_is_string=True),
        cl.ExactMatch("sex"),
        cl.DamerauLevenshteinAtThresholds("ss", [1]),
        cl.JaroWinklerAtThresholds("street", [0.9, 0.7]),
        cl.JaroWinklerAtThresholds("city", [0.9, 0.7]),
        cl.ExactMatch("postal_code"),
        cl.DamerauLevenshteinAtThresholds("phone_home", [1]),
    ]
    blocking = [("lname", "DOB"), ("fname", "DOB"), ("ss",), ("phone_home",)]
    predicted = splink_run(frame, "dedupe_only", comparisons, blocking, [("lname", "DOB"), ("ss",)], "pid")
    seconds = time.perf_counter() - start
    truth_frame = pd.read_csv(truth_path, dtype=str)
    truth = {pair(a, b) for a, b in zip(truth_frame["pid_a"], truth_frame["pid_b"])}
    report("Splink synthetic patients (deduplicate)", seconds, len(frame), predicted, truth)


def report(name, seconds, records, predicted, truth):
    precision, recall, f1, tp, fp, fn = score(predicted, truth)
    print(f"{name}: {records} records, {seconds:.2f} s, peak {peak_mb()} MB; precision {precision:.4f}, "
          f"recall {recall:.4f}, F1 {f1:.4f} ({tp} true, {fp} false, {fn} missed)", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "febrl":
        febrl(sys.argv[2])
    else:
        synthetic(sys.argv[2], sys.argv[3])
