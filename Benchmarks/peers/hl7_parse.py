"""The Python peers of Ferry's HL7 v2 parse benchmark: python-hl7 and hl7apy on the same mixed feed.

    python peers/hl7_parse.py CORPUS-FOLDER [SECONDS]

Reads hl7-mixed.txt (one message per line, segments ended by \\r) and reports messages per second for
parsing alone and, for python-hl7, parsing plus reading the same 8 fields Ferry's benchmark reads.
Both peers go round the same sample of the feed as Ferry's benchmark: a thousand messages spread
evenly over it (every fifth of its 5,000), so that what each measures is the feed's mix.
"""
import sys
import time

import hl7
from hl7apy.parser import parse_message

folder = sys.argv[1]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
# newline="" keeps the \r segment terminators (universal newlines would turn them into \n).
with open(f"{folder}/hl7-mixed.txt", encoding="utf-8", newline="") as handle:
    feed = [line for line in handle.read().split("\n") if line]
messages = [feed[index * len(feed) // 1000] for index in range(1000)]

FIELDS = ["MSH.F9.R1.C1", "MSH.F9.R1.C2", "MSH.F10", "PID.F3.R1.C1", "PID.F5.R1.C1", "PID.F5.R1.C2", "PID.F7", "PID.F8"]


def rate(work):
    """Messages per second of work(message), cycling the feed for about `seconds`; best of 3 runs."""
    best = 0.0
    for _ in range(3):
        count = 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds / 3:
            work(messages[count % len(messages)])
            count += 1
        best = max(best, count / (time.perf_counter() - started))
    return best


def python_hl7_fields(text):
    message = hl7.parse(text)
    for field in FIELDS:
        try:
            message[field]
        except (IndexError, KeyError):
            pass


print(f"python-hl7 {hl7.__version__} parse: {rate(hl7.parse):,.0f} messages/s")
print(f"python-hl7 {hl7.__version__} parse + read 8 fields: {rate(python_hl7_fields):,.0f} messages/s")
print(f"hl7apy parse (find_groups=False): {rate(lambda m: parse_message(m, find_groups=False)):,.0f} messages/s")
print(f"hl7apy parse (find_groups=True): {rate(lambda m: parse_message(m, find_groups=True)):,.0f} messages/s")
