"""Parse + validate the benchmark corpus with fhir.resources (pydantic), the Python peer.

Usage: python fhir_resources_validate.py CORPUS_DIR [SECONDS]
Prints one line per file: resources/s and peak RSS, in the same shape as Ferry's benchmark names.
fhir.resources 8 ships R5, R4B and STU3 models; R4B is the closest to R4 (Patient, Observation and
Bundle are unchanged in the elements the corpus uses).
"""
import resource
import sys
import time

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient

corpus = sys.argv[1]
budget = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0

for name, model, entries in [
    ("Patient", Patient, 1),
    ("Observation", Observation, 1),
    ("Bundle of 100 entries", Bundle, 100),
]:
    file = {"Patient": "patients", "Observation": "observations"}.get(name, "bundles")
    with open(f"{corpus}/{file}.ndjson", "rb") as handle:
        lines = [line for line in handle.read().split(b"\n") if line]
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < budget:
        # The first thousand, as Ferry's benchmark goes round (`scalingFactor: .kilo`).
        for line in lines[:1000]:
            model.model_validate_json(line)
            count += 1
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"fhir.resources {fhir_version if (fhir_version := __import__('fhir.resources').resources.__version__) else ''} "
          f"parse + validate {name}: {count / elapsed:,.0f} documents/s = {count * entries / elapsed:,.0f} resources/s, peak RSS {peak:.0f} MB")
