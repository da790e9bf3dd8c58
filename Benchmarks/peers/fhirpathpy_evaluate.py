"""Evaluate the FHIRPath workload with fhirpathpy, the Python peer, on the benchmark corpus.

Usage: python fhirpathpy_evaluate.py CORPUS_DIR [SECONDS]
First keeps the expressions fhirpathpy can evaluate (it lacks resolve(), for one) and writes them to
fhirpath-workload-common.json, which Ferry's benchmarks then read, so both evaluate the same texts.
Then prints evaluations/s for each workload, in the same shape as Ferry's benchmark names.
"""
import json
import sys
import time

import fhirpathpy
from fhirpathpy.models import models

corpus = sys.argv[1]
budget = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
model = models["r4"]
# A trace sink that drops what it is given, as Ferry's benchmarks run with none.
options = {"traceFn": lambda label, value: None}


def resources(name, limit=2000):
    with open(f"{corpus}/{name}.ndjson", "rb") as handle:
        return [json.loads(line) for line in handle.read().split(b"\n")[:limit] if line]


patients = resources("patients")
observations = resources("observations")
with open(f"{corpus}/fhirpath-workload.json") as handle:
    workload = json.load(handle)

common = {}
for key, sample in [("Patient", patients), ("Observation", observations), ("search", patients + observations)]:
    kept = []
    for expression in workload[key]:
        try:
            compiled = fhirpathpy.compile(expression, model, options)
            for resource in sample[:20] + sample[-20:]:
                compiled(resource)
            kept.append(expression)
        except Exception as error:  # noqa: BLE001 - the peer's gaps are reported, not fatal
            print(f"fhirpathpy cannot evaluate ({key}): {expression[:80]} ({str(error)[:60]})", file=sys.stderr)
    common[key] = kept
with open(f"{corpus}/fhirpath-workload-common.json", "w") as handle:
    json.dump(common, handle, indent=1)

for key, sample, label in [
    ("Patient", patients, "Patient invariants"),
    ("Observation", observations, "Observation invariants"),
    ("search", [r for pair in zip(patients, observations) for r in pair], "10 search-parameter expressions"),
]:
    compiled = [fhirpathpy.compile(expression, model, options) for expression in common[key]]
    count = 0
    start = time.perf_counter()
    index = 0
    while time.perf_counter() - start < budget:
        resource = sample[index % len(sample)]
        for function in compiled:
            function(resource)
        count += len(compiled)
        index += 1
    elapsed = time.perf_counter() - start
    print(f"fhirpathpy {fhirpathpy.__version__ if hasattr(fhirpathpy, '__version__') else ''} {label} "
          f"({len(compiled)} expressions): {count / elapsed:,.0f} evaluations/s")
